//! What an API request that fails answers: one error type, `IntoResponse` as
//! `{code, message}` JSON with its status (a denied caller's 401 with its Bearer
//! challenge, an authority's refusal by its code), so the management,
//! administration and policy handlers return `ApiResult` and read top to bottom
//! with `?`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::error::{deny, json_error, lifecycle_error};
use crate::authority::LifecycleError;

/// What an API handler (or a step of one) gives: its answer, or why not.
pub(super) type ApiResult<T = Response> = Result<T, ApiError>;

/// Why a caller was refused by the check: its status, code and reason.
pub(crate) struct Denied {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl Denied {
    /// The answer for it: the code in `x-tokenscope-deny-code`, a 401's challenge.
    pub(crate) fn response(&self) -> Response {
        deny(self.status, self.code, &self.message)
    }

    /// The request could not be completed (its worker was lost).
    pub(crate) fn unavailable() -> Denied {
        Denied {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "unavailable",
            message: "the request could not be completed".into(),
        }
    }
}

/// Every way an API request fails.
pub(super) enum ApiError {
    /// The request itself is refused: its status, code and reason.
    Refused {
        /// The status, e.g. 400 or 422.
        status: StatusCode,
        /// The stable code, e.g. `invalid`.
        code: &'static str,
        /// Why, for the caller.
        message: String,
    },
    /// The caller's token was denied by the check.
    Denied(Denied),
    /// The authority refused or failed.
    Lifecycle(LifecycleError),
}

impl ApiError {
    /// 422 `invalid`: the body is well-formed but asks for what cannot be.
    pub(super) fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::Refused { status: StatusCode::UNPROCESSABLE_ENTITY, code: "invalid", message: message.into() }
    }

    /// 400 `bad-request`: the request cannot be read.
    pub(super) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::Refused { status: StatusCode::BAD_REQUEST, code: "bad-request", message: message.into() }
    }
}

impl From<LifecycleError> for ApiError {
    fn from(err: LifecycleError) -> ApiError {
        ApiError::Lifecycle(err)
    }
}

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> ApiError {
        ApiError::Denied(denied)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Refused { status, code, message } => json_error(status, code, &message),
            ApiError::Denied(denied) => denied.response(),
            ApiError::Lifecycle(err) => lifecycle_error(err),
        }
    }
}
