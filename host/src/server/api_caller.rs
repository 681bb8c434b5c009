//! Who calls the API: the token a request presents (one extractor, read from
//! the headers by the one shared reader), authenticated and decided by the
//! policy for the operation's action on its resource, exactly as a check is.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::AppState;
use super::api_error::{ApiError, ApiResult, Denied};
use super::blocking::blocking;
use super::client_info::client_of;
use super::error::status_of;
use super::request_headers::HttpHeaders;
use crate::audit::Client;
use crate::authority::actions::user_node;
use crate::authority::{Acted, Actor};
use crate::store::{PrincipalId, TokenId};
use crate::verdict::Verdict;

/// The authenticated caller: its owner's name and id, and the token it presented.
pub(crate) struct Caller {
    pub(crate) name: String,
    pub(crate) principal: PrincipalId,
    pub(crate) token: TokenId,
    /// Where the request came from.
    pub(crate) client: Option<Client>,
}

impl Caller {
    /// The caller as the actor of an operation, with where it asked from.
    pub(crate) fn actor(&self) -> Acted {
        Actor::Token(self.token).from_client(self.client.clone())
    }
}

/// The actions of state changes: a refusal of one to a known token is an audit event.
const RECORDED: [&str; 4] =
    ["user.token:edit", "system.principals:edit", "system.policy:edit", "system.tokens:report-leak"];

/// Whose tokens a request manages.
pub(super) enum Whose {
    /// The caller's own (`/api/account/tokens`).
    Own,
    /// Principal `name`'s (`/api/principals/{name}/tokens`): `user.token:*` on `user/<name>`.
    Of(String),
}

/// The token a request presents (none is a `missing-token` deny when it is
/// decided); presented ambiguously (two places, or two values), the request is
/// refused with 400 before anything is decided.
pub(super) struct Presented(Option<String>, Option<Client>);

impl<S: Send + Sync> FromRequestParts<S> for Presented {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> ApiResult<Presented> {
        match tokenscope_request::presented_in_headers(&HttpHeaders(&parts.headers)) {
            Ok(secret) => Ok(Presented(secret.map(|(secret, _)| secret.as_str().to_owned()), client_of(parts))),
            Err(refusal) => Err(ApiError::bad_request(refusal.message)),
        }
    }
}

impl Presented {
    /// The caller, if its token may do `action` on `resource_of(its owner)`.
    pub(super) async fn caller(
        self,
        state: &Arc<AppState>,
        action: &'static str,
        resource_of: impl Fn(&str) -> String + Send + 'static,
    ) -> ApiResult<Caller> {
        let Presented(secret, client) = self;
        let kept = RECORDED.contains(&action).then(|| secret.clone()).flatten();
        match caller_of(state, secret, action, resource_of).await {
            Ok(mut caller) => {
                caller.client = client;
                Ok(caller)
            }
            Err(denied) => {
                // A known token refused a change it lacks the rights for: the attempt is recorded.
                if let (Some(secret), StatusCode::FORBIDDEN) = (kept, denied.status) {
                    let code = denied.code;
                    let _ = blocking(state, move |a| a.record_denied(&secret, action, code, client)).await;
                }
                Err(denied.into())
            }
        }
    }

    /// The caller, if its token may do `wide` on `resource`; otherwise (when
    /// that is refused, not unknown) if it may do `narrow` on its owner's own
    /// node. The caller, and whether `wide` was allowed.
    pub(super) async fn wide_or_own(
        self,
        state: &Arc<AppState>,
        wide: &'static str,
        resource: String,
        narrow: &'static str,
    ) -> ApiResult<(Caller, bool)> {
        match caller_of(state, self.0.clone(), wide, move |_| resource.clone()).await {
            Ok(mut caller) => {
                caller.client = self.1;
                Ok((caller, true))
            }
            Err(denied) if denied.status == StatusCode::FORBIDDEN => Ok((self.own(state, narrow).await?, false)),
            Err(denied) => Err(denied.into()),
        }
    }

    /// The caller, if its token may do `action` on its owner's own node.
    pub(super) async fn own(self, state: &Arc<AppState>, action: &'static str) -> ApiResult<Caller> {
        self.caller(state, action, user_node).await
    }

    /// The caller, if its token may do `action` on the fixed `resource`.
    pub(super) async fn at(self, state: &Arc<AppState>, action: &'static str, resource: String) -> ApiResult<Caller> {
        self.caller(state, action, move |_| resource.clone()).await
    }

    /// The caller, if its token may do `action` on the tokens of `whose`, and
    /// whose tokens they are.
    pub(super) async fn on_tokens_of(
        self,
        state: &Arc<AppState>,
        action: &'static str,
        whose: Whose,
    ) -> ApiResult<(Caller, String)> {
        match whose {
            Whose::Own => {
                let caller = self.own(state, action).await?;
                let owner = caller.name.clone();
                Ok((caller, owner))
            }
            Whose::Of(name) => Ok((self.at(state, action, user_node(&name)).await?, name)),
        }
    }
}

/// Verifies `secret` for `action` on `resource_of(its owner)`, as every API
/// call and every page of the token UI does.
pub(crate) async fn caller_of(
    state: &Arc<AppState>,
    secret: Option<String>,
    action: &'static str,
    resource_of: impl Fn(&str) -> String + Send + 'static,
) -> Result<Caller, Denied> {
    let verified = blocking(state, move |a| a.verify_for_owner(secret.as_deref(), action, &resource_of))
        .await
        .map_err(|_| Denied::unavailable())?;
    match (verified.verdict, verified.owner, verified.owner_id, verified.token) {
        (Verdict::Allow { .. }, Some(name), Some(principal), Some(token)) => {
            Ok(Caller { name: name.to_string(), principal, token, client: None })
        }
        (Verdict::Deny { code, message }, ..) => {
            Err(Denied { status: status_of(code), code: code.as_str(), message: message.to_string() })
        }
        (Verdict::Allow { .. }, ..) => {
            Err(Denied { status: StatusCode::UNAUTHORIZED, code: "unknown-token", message: "no owner".into() })
        }
    }
}
