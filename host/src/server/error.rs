//! Error answers: JSON `{code, message}` with a stable code and a fitting status:
//! denies (401 with a Bearer challenge for token problems, 403 for rights, 503
//! for faults), unknown routes, and requests over the header limit.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::verdict::Code;

/// The header that carries a deny's code, for proxies that only see headers.
pub const DENY_CODE_HEADER: &str = "x-tokenscope-deny-code";

#[derive(Serialize)]
pub struct ErrorBody<'a> {
    pub code: &'a str,
    pub message: &'a str,
}

pub fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(ErrorBody { code, message })).into_response()
}

pub fn status_of(code: Code) -> StatusCode {
    match code {
        Code::MissingToken | Code::MalformedToken | Code::UnknownToken => StatusCode::UNAUTHORIZED,
        Code::Policy(crate::contract::DenyCode::Expired | crate::contract::DenyCode::Revoked) => StatusCode::UNAUTHORIZED,
        Code::StoreUnavailable | Code::PolicyFault => StatusCode::SERVICE_UNAVAILABLE,
        Code::Policy(_) => StatusCode::FORBIDDEN,
    }
}

pub fn deny(status: StatusCode, code: &str, message: &str) -> Response {
    let mut response = json_error(status, code, message);
    if let Ok(value) = HeaderValue::from_str(code) {
        response.headers_mut().insert(DENY_CODE_HEADER, value);
    }
    if status == StatusCode::UNAUTHORIZED {
        let challenge = format!("Bearer realm=\"tokenscope\", error=\"invalid_token\", error_description=\"{code}\"");
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
    }
    response
}

pub async fn not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "not-found", "no such endpoint")
}

/// Refuses requests whose headers add up to more than `max` bytes (431).
pub async fn limit_headers(State(max): State<usize>, request: Request, next: Next) -> Response {
    let size: usize = request.headers().iter().map(|(k, v)| k.as_str().len() + v.len()).sum();
    if size > max {
        return json_error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers-too-large",
            &format!("request headers exceed {max} bytes"),
        );
    }
    next.run(request).await
}

/// Gives every error answer a JSON body: responses the framework or a limit layer
/// produced (405, 408, 413, ...) get `{code, message}` from their status.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
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
