//! Request bodies declared larger than a route allows get 413 with a JSON error.
//! What the client sends anyway is read and thrown away first (up to a bound and
//! a time limit, like nginx's lingering close), so a client that writes its whole
//! body before reading gets the answer instead of a reset connection.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;

use super::error::json_error;

/// The most an over-limit body is read before the connection is closed on it.
const DRAIN_BYTES: u64 = 4 << 20;
/// The longest an over-limit body is read.
const DRAIN_TIME: Duration = Duration::from_secs(2);

/// Refuses requests whose `Content-Length` exceeds `max` (bodies without one are
/// bounded by the body-limit layer as they stream).
pub async fn limit_body(State(max): State<usize>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let Some(declared) = declared.filter(|n| *n > u64::try_from(max).unwrap_or(u64::MAX)) else {
        return next.run(request).await;
    };
    if declared <= DRAIN_BYTES {
        let _ = tokio::time::timeout(DRAIN_TIME, discard(request.into_body())).await;
    }
    let mut response =
        json_error(StatusCode::PAYLOAD_TOO_LARGE, "body-too-large", &format!("the request body exceeds {max} bytes"));
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Reads `body` to its end (or its first error), keeping nothing.
async fn discard(mut body: Body) {
    let mut read: u64 = 0;
    while let Some(Ok(frame)) = body.frame().await {
        if let Some(data) = frame.data_ref() {
            read += u64::try_from(data.len()).unwrap_or(u64::MAX);
            if read > DRAIN_BYTES {
                return;
            }
        }
    }
}
