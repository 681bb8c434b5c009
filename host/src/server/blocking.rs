//! Authority work off the async threads: the store may wait, a policy call may
//! take its whole budget, so every handler hands such work to the blocking pool
//! and answers 503 `unavailable` if that worker is lost.

use std::sync::Arc;

use axum::http::StatusCode;

use super::AppState;
use super::api_error::{ApiError, ApiResult};
use crate::authority::{Authority, LifecycleError};

/// Runs `work` on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &Arc<AppState>,
    work: impl FnOnce(&Authority) -> T + Send + 'static,
) -> ApiResult<T> {
    let authority = Arc::clone(&state.authority);
    tokio::task::spawn_blocking(move || work(&authority)).await.map_err(|_| ApiError::Refused {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "unavailable",
        message: "the request could not be completed".into(),
    })
}

/// Runs an authority operation on the blocking pool: its result, or why not
/// (the authority's refusal, or the lost worker).
pub(crate) async fn run<T: Send + 'static>(
    state: &Arc<AppState>,
    work: impl FnOnce(&Authority) -> Result<T, LifecycleError> + Send + 'static,
) -> ApiResult<T> {
    Ok(blocking(state, work).await??)
}
