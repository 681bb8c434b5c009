//! Error answers: JSON `{code, message}` with a stable code and a fitting status,
//! for unknown routes and for requests over the header limit.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Serialize)]
pub struct ErrorBody<'a> {
    pub code: &'a str,
    pub message: &'a str,
}

pub fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(ErrorBody { code, message })).into_response()
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
