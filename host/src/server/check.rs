//! The check endpoint for proxies (nginx `auth_request`, Envoy `ext_authz`,
//! Traefik `forwardAuth`, Caddy `forward_auth`): hands the request to the one
//! check flow (`Authority::check`) and renders its outcome: 200 with the token's
//! identity for the upstream, 400 for a request that has no canonical form, 401
//! for missing, unknown, expired or revoked tokens, 403 for insufficient rights
//! or unmapped routes, 503 when the store or the policy failed. Denies carry
//! their code in `x-tokenscope-deny-code`; every answer names the deciding module
//! in `x-tokenscope-policy` (SHA-256), and the metrics count the outcome's code.
//! A serving thread decides from memory only; a check the caches cannot answer
//! waits for the store on the blocking pool, at most `server.store_waits` at a
//! time (503 `store-unavailable` at once beyond that), so a slow database never
//! holds up the other connections of a serving thread.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{OriginalUri, Request, State};
use axum::http::{self as http, HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::{deny_answer, json_error};
use super::request_headers::HttpHeaders;
use crate::authority::{Checked, NeedsStore, Outcome};
use crate::verdict::Verdict;
use tokenscope_request::AnswerCode;

pub use tokenscope_request::{OWNER_HEADER, POLICY_HEADER, TOKEN_ID_HEADER};

/// `ANY /v1/check` and `ANY /v1/check/{*path}`, for requests that carry a body.
/// The body plays no part in the decision, but it is read to its end (within the
/// route's body limit) first: a connection whose request body was left unread
/// cannot carry the next request, so hyper would close it under the client.
pub async fn check(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if let Err(err) = axum::body::to_bytes(body, usize::MAX).await {
        let mut response = if is_over_limit(&err) {
            json_error(StatusCode::PAYLOAD_TOO_LARGE, "body-too-large", "the request body exceeds the route's limit")
        } else {
            json_error(StatusCode::BAD_REQUEST, "bad-request", "the request body could not be read")
        };
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    // The request itself, not extractors that copy its headers and URI.
    let uri = parts.extensions.get::<OriginalUri>().map_or(&parts.uri, |original| &original.0).clone();
    match answer(&state, &parts.method, &uri, &parts.headers) {
        Answer::Now(response) => response,
        Answer::Later(waiting) => waiting.await,
    }
}

/// Whether reading a body stopped at the body-limit layer's bound.
fn is_over_limit(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if current.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = current.source();
    }
    false
}

/// Serves the check routes ahead of the router: a check has no body to limit and
/// no await to time out, so it skips the router's layers but for the one that
/// applies, the header limit. A request that declares a body goes the router's way.
#[derive(Clone)]
pub struct Fast {
    state: Arc<AppState>,
    prefix: String,
    max_header_bytes: usize,
}

impl Fast {
    /// The check routes under `prefix`, answered with `state`.
    pub fn new(state: Arc<AppState>, prefix: &str, max_header_bytes: usize) -> Fast {
        Fast { state, prefix: prefix.to_owned(), max_header_bytes }
    }

    /// Whether `request` is a check this path answers.
    pub fn takes<B>(&self, request: &http::Request<B>) -> bool {
        let path = request.uri().path();
        // As the router's `{prefix}` and `{prefix}/{*rest}` (a bare trailing `/` is neither).
        let routed = path
            .strip_prefix(self.prefix.as_str())
            .is_some_and(|rest| rest.is_empty() || (rest.starts_with('/') && rest.len() > 1));
        let headers = request.headers();
        let bodiless = !headers.contains_key(header::TRANSFER_ENCODING)
            && headers.get(header::CONTENT_LENGTH).is_none_or(|length| length.as_bytes() == b"0");
        routed && bodiless
    }

    /// The answer to a request that `takes` accepted.
    pub fn answer<B>(&self, request: &http::Request<B>) -> Answer {
        if let Some(refused) = super::error::headers_over(request.headers(), self.max_header_bytes) {
            return Answer::Now(refused);
        }
        answer(&self.state, request.method(), request.uri(), request.headers())
    }
}

/// A check's answer: decided now, from memory, or once the store answered.
pub enum Answer {
    /// Decided on the serving thread.
    Now(Response),
    /// Waiting for the store off the serving thread.
    Later(Pin<Box<dyn Future<Output = Response> + Send>>),
}

/// Decides one check request from memory, or hands it to the blocking pool
/// when the caches cannot answer; renders the outcome with the policy header
/// and the metrics.
fn answer(state: &Arc<AppState>, method: &Method, uri: &Uri, headers: &HeaderMap) -> Answer {
    let started = Instant::now();
    match state.authority.check_now(method.as_str(), uri.path(), &HttpHeaders(headers)) {
        Ok(checked) => Answer::Now(finish(state, &checked, started)),
        Err(NeedsStore) => {
            let Ok(permit) = Arc::clone(&state.store_waits).try_acquire_owned() else {
                return Answer::Now(busy(state, started));
            };
            let (state, method, uri, headers) = (Arc::clone(state), method.clone(), uri.clone(), headers.clone());
            Answer::Later(Box::pin(async move {
                let authority = Arc::clone(&state.authority);
                let waited = tokio::task::spawn_blocking(move || {
                    let _permit = permit;
                    authority.check(method.as_str(), uri.path(), &HttpHeaders(&headers))
                })
                .await;
                match waited {
                    Ok(checked) => finish(&state, &checked, started),
                    Err(_) => busy(&state, started),
                }
            }))
        }
    }
}

/// The rendered outcome, with the policy header, counted in the metrics.
fn finish(state: &AppState, checked: &Checked, started: Instant) -> Response {
    let mut response = render(checked);
    if let Some(value) = policy_header(state, checked.policy.sha256_shared()) {
        response.headers_mut().insert(POLICY_HEADER, value);
    }
    state.metrics.record(checked.code().name(), checked.policy.sha256_shared(), started.elapsed());
    response
}

/// 503 `store-unavailable` at once: `server.store_waits` checks wait for the store already.
fn busy(state: &AppState, started: Instant) -> Response {
    let module = state.authority.module();
    let mut response =
        deny_answer(AnswerCode::StoreUnavailable, "the token store is slow: too many checks wait for it");
    if let Some(value) = policy_header(state, module.sha256_shared()) {
        response.headers_mut().insert(POLICY_HEADER, value);
    }
    state.metrics.record(AnswerCode::StoreUnavailable.name(), module.sha256_shared(), started.elapsed());
    response
}

/// The `x-tokenscope-policy` value for the module with digest `sha256`: made
/// once per module and shared (a header value clones by reference count).
fn policy_header(state: &AppState, sha256: &Arc<str>) -> Option<HeaderValue> {
    if let Some(cached) = state.policy_header.load().as_ref().filter(|c| Arc::ptr_eq(&c.0, sha256)) {
        return Some(cached.1.clone());
    }
    let value = HeaderValue::from_str(sha256).ok()?;
    state.policy_header.store(Some(Arc::new((Arc::clone(sha256), value.clone()))));
    Some(value)
}

/// The answer for an outcome, without the policy header (set by the caller, once).
fn render(checked: &Checked) -> Response {
    match &checked.outcome {
        Outcome::Public => StatusCode::OK.into_response(),
        Outcome::Unmapped => deny_answer(checked.code(), "no route maps this request to an action"),
        Outcome::Unreadable(refusal) => deny_answer(checked.code(), &refusal.message),
        Outcome::Verified(verified) => match &verified.verdict {
            Verdict::Allow { .. } => {
                let mut response = StatusCode::OK.into_response();
                let headers = response.headers_mut();
                if let Some(id) = verified.token {
                    headers.insert(TOKEN_ID_HEADER, HeaderValue::from(id.get()));
                }
                if let Some(owner) = verified.owner.as_deref().and_then(|o| HeaderValue::from_str(o).ok()) {
                    headers.insert(OWNER_HEADER, owner);
                }
                response
            }
            Verdict::Deny { code, message } => deny_answer(code.answer(), message),
        },
    }
}
