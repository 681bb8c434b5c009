//! The check endpoint for proxies (nginx `auth_request`, Envoy `ext_authz`,
//! Traefik `forwardAuth`, Caddy `forward_auth`): hands the request to the one
//! check flow (`Authority::check`) and renders its outcome: 200 with the token's
//! identity for the upstream, 400 for a request that has no canonical form, 401
//! for missing, unknown, expired or revoked tokens, 403 for insufficient rights
//! or unmapped routes, 503 when the store or the policy failed. Denies carry
//! their code in `x-tokenscope-deny-code`; every answer names the deciding module
//! in `x-tokenscope-policy` (SHA-256), and the metrics count the outcome's code.

use std::sync::Arc;

use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::{deny, status_of};
use super::request_headers::HttpHeaders;
use crate::authority::{Checked, Outcome};
use crate::verdict::Verdict;

/// The allowed token's id, for the upstream.
pub const TOKEN_ID_HEADER: &str = "x-tokenscope-token-id";
/// The allowed token's owner, for the upstream.
pub const OWNER_HEADER: &str = "x-tokenscope-owner";
/// The SHA-256 of the module that decided.
pub const POLICY_HEADER: &str = "x-tokenscope-policy";

/// `ANY /v1/check` and `ANY /v1/check/{*path}`.
pub async fn check(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let started = std::time::Instant::now();
    // The request itself, not extractors that copy its headers and URI.
    let (method, headers) = (request.method(), request.headers());
    let uri = request.extensions().get::<OriginalUri>().map_or(request.uri(), |original| &original.0);
    // Decided on this thread: a check is in memory but for a cache miss's store
    // read (WAL readers never wait for a writer) and a policy call bounded by its
    // time budget, so the hop to the blocking pool would cost more than it saves.
    let checked = state.authority.check(method.as_str(), uri.path(), &HttpHeaders(headers));
    let mut response = render(&checked);
    if let Ok(value) = HeaderValue::from_str(checked.policy.sha256()) {
        response.headers_mut().insert(POLICY_HEADER, value);
    }
    state.metrics.record(checked.code(), checked.policy.sha256_shared(), started.elapsed());
    response
}

/// The answer for an outcome, without the policy header (set by the caller, once).
fn render(checked: &Checked) -> Response {
    match &checked.outcome {
        Outcome::Public => StatusCode::OK.into_response(),
        Outcome::Unmapped => deny(StatusCode::FORBIDDEN, checked.code(), "no route maps this request to an action"),
        Outcome::Unreadable(refusal) => deny(StatusCode::BAD_REQUEST, checked.code(), &refusal.message),
        Outcome::Verified(verified) => match &verified.verdict {
            Verdict::Allow { .. } => {
                let mut response = StatusCode::OK.into_response();
                let headers = response.headers_mut();
                if let Some(id) = verified.token.and_then(|id| HeaderValue::from_str(&id.to_string()).ok()) {
                    headers.insert(TOKEN_ID_HEADER, id);
                }
                if let Some(owner) = verified.owner.as_deref().and_then(|o| HeaderValue::from_str(o).ok()) {
                    headers.insert(OWNER_HEADER, owner);
                }
                response
            }
            Verdict::Deny { code, message } => deny(status_of(*code), code.as_str(), message),
        },
    }
}
