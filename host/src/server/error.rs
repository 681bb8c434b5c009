//! Error answers: JSON `{code, message}` with a stable code and a fitting status:
//! denies (401 with a Bearer challenge for token problems, 403 for rights, 503
//! for faults), unknown routes, and requests over the header limit.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::authority::{LifecycleError, RefusalCode};
use crate::contract::DenyCode;
use crate::store::StoreError;
use crate::verdict::Code;
use tokenscope_request::AnswerCode;

/// The header that carries a deny's code, for proxies that only see headers.
pub use tokenscope_request::DENY_CODE_HEADER;

#[derive(Serialize)]
pub struct ErrorBody<'a> {
    pub code: &'a str,
    pub message: &'a str,
}

pub fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(ErrorBody { code, message })).into_response()
}

/// The status of a decision's deny code, by the table the gateway shares.
pub fn status_of(code: Code) -> StatusCode {
    answer_status(code.answer())
}

/// The status of a check's answer code.
fn answer_status(code: AnswerCode) -> StatusCode {
    StatusCode::from_u16(code.status()).unwrap_or(StatusCode::FORBIDDEN)
}

/// The status of a lifecycle refusal; exhaustive over every code, the policy's
/// included, so a code added to the contract does not compile until it has one.
pub fn refusal_status(code: RefusalCode) -> StatusCode {
    match code {
        RefusalCode::Policy(policy) => match policy {
            DenyCode::Escalation | DenyCode::AdminRequired => StatusCode::FORBIDDEN,
            DenyCode::Revoked => StatusCode::CONFLICT,
            DenyCode::MalformedRequest
            | DenyCode::UnknownAction
            | DenyCode::WrongTarget
            | DenyCode::NoGrant
            | DenyCode::OwnerLacksRight
            | DenyCode::Expired
            | DenyCode::MalformedScope
            | DenyCode::UnknownScope
            | DenyCode::InvalidGrant
            | DenyCode::TooLarge => StatusCode::UNPROCESSABLE_ENTITY,
        },
        RefusalCode::PolicyFault => StatusCode::SERVICE_UNAVAILABLE,
        RefusalCode::Revoked => StatusCode::CONFLICT,
        RefusalCode::ExpiryBeyondCaller => StatusCode::FORBIDDEN,
        RefusalCode::NoExpiryNotAllowed | RefusalCode::ExpiryInPast | RefusalCode::ExpiryTooLong => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        RefusalCode::NotAllowed(code) => status_of(code),
        RefusalCode::ActorGone => StatusCode::UNAUTHORIZED,
        RefusalCode::LastAdministrator => StatusCode::CONFLICT,
        RefusalCode::TooManyLive => StatusCode::TOO_MANY_REQUESTS,
        RefusalCode::IdentityReplayed => StatusCode::UNAUTHORIZED,
        RefusalCode::Leaked => StatusCode::CONFLICT,
    }
}

/// The answer to a lifecycle error: each cause its own status and code. Faults
/// of the store, the RNG or an owner's bindings are logged whole and answered
/// with a short reason (no paths, no data).
pub fn lifecycle_error(err: LifecycleError) -> Response {
    match err {
        LifecycleError::Refused { code, message } => json_error(refusal_status(code), code.as_str(), &message),
        LifecycleError::NotFound(what) => json_error(StatusCode::NOT_FOUND, "not-found", &format!("{what} not found")),
        LifecycleError::Invalid(message) => json_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", &message),
        LifecycleError::Conflict(message) => json_error(StatusCode::CONFLICT, "conflict", &message),
        LifecycleError::Store(err) => store_error(&err),
        LifecycleError::Rng(err) => {
            tracing::error!("{err}");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "rng-unavailable", "no secret could be generated")
        }
        LifecycleError::Rights(err) => {
            tracing::error!("{err}");
            json_error(StatusCode::INTERNAL_SERVER_ERROR, "invalid-binding", "the owner's bindings cannot be read")
        }
    }
}

/// The answer to a store error.
fn store_error(err: &StoreError) -> Response {
    match err {
        StoreError::PrincipalExists(name) => {
            json_error(StatusCode::CONFLICT, "conflict", &format!("principal `{name}` exists already"))
        }
        StoreError::OutOfRange(what) => {
            json_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", &format!("{what} is out of range"))
        }
        StoreError::NotEmpty => json_error(StatusCode::CONFLICT, "conflict", "the store is not empty"),
        StoreError::Backend { .. } | StoreError::Open { .. } | StoreError::Missing(_) => {
            tracing::error!("store failure in the management API: {err}");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "store-unavailable", "the token store is unavailable")
        }
        StoreError::Unreadable { .. } | StoreError::NewerSchema { .. } => {
            tracing::error!("store failure in the management API: {err}");
            json_error(StatusCode::INTERNAL_SERVER_ERROR, "store-corrupt", "the token store holds unreadable data")
        }
    }
}

/// A check's deny: the code's own status, the code in `x-tokenscope-deny-code`,
/// and on a 401 the code's Bearer challenge (static: a flood of bad tokens is
/// answered without formatting one per request).
pub fn deny_answer(code: AnswerCode, message: &str) -> Response {
    refusal(answer_status(code), code.name(), code.challenge(), message)
}

/// A refusal with `status` and `code`, the check's or the management API's and
/// the pages' own (`actor-gone`, `foreign-origin`): the code in a header, and
/// on a 401 a Bearer challenge that names it.
pub fn deny(status: StatusCode, code: &'static str, message: &str) -> Response {
    refusal(status, code, AnswerCode::from_name(code).and_then(AnswerCode::challenge), message)
}

fn refusal(status: StatusCode, code: &'static str, challenge: Option<&'static str>, message: &str) -> Response {
    let mut response = json_error(status, code, message);
    // Codes are static words: their header values are made without a copy.
    if code.bytes().all(|b| b.is_ascii_graphic()) {
        response.headers_mut().insert(DENY_CODE_HEADER, HeaderValue::from_static(code));
    }
    if status == StatusCode::UNAUTHORIZED {
        let value = match challenge {
            Some(known) => HeaderValue::from_static(known),
            None => HeaderValue::from_str(&format!(
                "Bearer realm=\"tokenscope\", error=\"invalid_token\", error_description=\"{code}\""
            ))
            .unwrap_or_else(|_| HeaderValue::from_static(CHALLENGE)),
        };
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The Bearer challenge without a description.
const CHALLENGE: &str = "Bearer realm=\"tokenscope\", error=\"invalid_token\"";

pub async fn not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "not-found", "no such endpoint")
}

/// The 431 for headers that add up to more than `max` bytes, if they do.
pub fn headers_over(headers: &axum::http::HeaderMap, max: usize) -> Option<Response> {
    let size: usize = headers.iter().map(|(k, v)| k.as_str().len() + v.len()).sum();
    (size > max).then(|| {
        json_error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers-too-large",
            &format!("request headers exceed {max} bytes"),
        )
    })
}

/// Refuses requests whose headers add up to more than `max` bytes (431).
pub async fn limit_headers(State(max): State<usize>, request: Request, next: Next) -> Response {
    match headers_over(request.headers(), max) {
        Some(refused) => refused,
        None => next.run(request).await,
    }
}

/// Gives every error answer a JSON body: responses the framework or a limit layer
/// produced (405, 408, 413, ...) get `{code, message}` from their status.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    // JSON answers, and the token page's HTML ones, already say what went wrong.
    let explained = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || explained {
        return response;
    }
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "body-too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        s if s.is_server_error() => "server-error",
        _ => "bad-request",
    };
    let mut answer = json_error(status, code, status.canonical_reason().unwrap_or("error"));
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenscope_request::PolicyCode;

    #[test]
    fn every_401_answer_carries_its_codes_challenge() {
        let codes = PolicyCode::ALL.into_iter().map(AnswerCode::Policy).chain(AnswerCode::HOST_CODES);
        for code in codes.filter(|code| code.status() == 401) {
            let want =
                format!("Bearer realm=\"tokenscope\", error=\"invalid_token\", error_description=\"{}\"", code.name());
            for response in [deny_answer(code, "why"), deny(StatusCode::UNAUTHORIZED, code.name(), "why")] {
                assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
                let got = response.headers().get(header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok());
                assert_eq!(got, Some(want.as_str()));
                assert_eq!(response.headers().get(DENY_CODE_HEADER).and_then(|v| v.to_str().ok()), Some(code.name()));
            }
        }
        let other = deny(StatusCode::UNAUTHORIZED, "actor-gone", "why");
        assert!(
            other.headers().get(header::WWW_AUTHENTICATE).is_some_and(|v| v.as_bytes().ends_with(b"\"actor-gone\""))
        );
        assert!(
            deny_answer(AnswerCode::Policy(PolicyCode::NoGrant), "why")
                .headers()
                .get(header::WWW_AUTHENTICATE)
                .is_none()
        );
    }
}
