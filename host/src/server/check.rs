//! The check endpoint for proxies (nginx `auth_request`, Envoy `ext_authz`,
//! Traefik `forwardAuth`, Caddy `forward_auth`): decodes the request into one
//! canonical form (`tokenscope-request`), verifies the token for the route's
//! action and resource, and answers 200 with the token's identity for the
//! upstream, 400 for a request that has no canonical form, 401 for missing,
//! unknown, expired or revoked tokens, 403 for insufficient rights or unmapped
//! routes, 503 when the store or the policy failed. Denies carry their code in
//! `x-tokenscope-deny-code`; every answer names the deciding module in
//! `x-tokenscope-policy` (SHA-256).

use std::sync::Arc;

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tokenscope_request::{Decoded, decode};

use super::AppState;
use super::error::{DENY_CODE_HEADER, deny};
use super::request_headers::HttpHeaders;
use crate::verdict::Verdict;

pub const TOKEN_ID_HEADER: &str = "x-tokenscope-token-id";
pub const OWNER_HEADER: &str = "x-tokenscope-owner";
pub const POLICY_HEADER: &str = "x-tokenscope-policy";

pub async fn check(
    State(state): State<Arc<AppState>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let started = std::time::Instant::now();
    let mut response = decide(&state, &method, uri.path(), &headers).await;
    if !response.headers().contains_key(POLICY_HEADER)
        && let Ok(value) = HeaderValue::from_str(state.authority.module().sha256())
    {
        response.headers_mut().insert(POLICY_HEADER, value);
    }
    let code = response.headers().get(DENY_CODE_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("allow");
    let policy = response.headers().get(POLICY_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    state.metrics.record(code, policy, started.elapsed());
    response
}

async fn decide(state: &Arc<AppState>, method: &Method, path: &str, headers: &HeaderMap) -> Response {
    let decoded = match decode(&state.check, method.as_str(), path, &HttpHeaders(headers)) {
        Ok(decoded) => decoded,
        Err(refusal) => return deny(StatusCode::BAD_REQUEST, "bad-request", &refusal.message),
    };
    let (route, secret) = match decoded {
        Decoded::Mapped { route, secret, .. } => (route, secret),
        Decoded::Public { .. } => return StatusCode::OK.into_response(),
        Decoded::Unmapped { original } => {
            tracing::info!(method = %original.method, convention = %original.convention, "unmapped route denied");
            return deny(StatusCode::FORBIDDEN, "unmapped-route", "no route maps this request to an action");
        }
    };
    let authority = Arc::clone(&state.authority);
    let (action, resource) = (route.action, route.resource);
    let verified = tokio::task::spawn_blocking(move || {
        authority.verify(secret.as_ref().map(|(s, _)| s.as_str()), &action, &resource)
    })
    .await;
    let verified = match verified {
        Ok(verified) => verified,
        Err(_) => return deny(StatusCode::SERVICE_UNAVAILABLE, "policy-fault", "the decision could not be made"),
    };
    let mut response = match &verified.verdict {
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
        Verdict::Deny { code, message } => deny(super::error::status_of(*code), code.as_str(), message),
    };
    if let Ok(value) = HeaderValue::from_str(verified.policy.sha256()) {
        response.headers_mut().insert(POLICY_HEADER, value);
    }
    response
}
