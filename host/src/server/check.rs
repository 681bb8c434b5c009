//! The check endpoint for proxies (nginx `auth_request`, Envoy `ext_authz`,
//! Traefik `forwardAuth`): reads the original request, maps it to an action and
//! resource with the route map, verifies the token, and answers 200 with the
//! token's identity for the upstream, 401 for missing, unknown, expired or
//! revoked tokens, 403 for insufficient rights or unmapped routes, 503 when the
//! store or the policy failed. Denies carry their code in `x-tokenscope-deny-code`;
//! every answer names the module that decided in `x-tokenscope-policy` (SHA-256).

use std::sync::Arc;

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::deny;
use super::proxied;
use crate::verdict::Verdict;

pub const TOKEN_ID_HEADER: &str = "x-tokenscope-token-id";
pub const OWNER_HEADER: &str = "x-tokenscope-owner";
pub const POLICY_HEADER: &str = "x-tokenscope-policy";
use super::error::DENY_CODE_HEADER;

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
    let proxied = match proxied::read(headers, method, path, &state.check.prefix) {
        Ok(proxied) => proxied,
        Err(err) => return deny(StatusCode::BAD_REQUEST, "bad-request", &err.0),
    };
    let Some(resolved) = state.routes.resolve(&proxied.method, &proxied.path) else {
        if state.check.public_prefixes.iter().any(|p| proxied.path.starts_with(p.as_str())) {
            return StatusCode::OK.into_response();
        }
        tracing::info!(method = %proxied.method, convention = proxied.convention, "unmapped route denied");
        return deny(StatusCode::FORBIDDEN, "unmapped-route", "no route maps this request to an action");
    };
    let secret = proxied.header_secret.clone().or_else(|| resolved.token.clone());
    let authority = Arc::clone(&state.authority);
    let (action, resource) = (resolved.action.clone(), resolved.resource.clone());
    let verified =
        tokio::task::spawn_blocking(move || authority.verify(secret.as_ref().map(|s| s.as_str()), &action, &resource))
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
