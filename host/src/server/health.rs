//! `/healthz` (the process answers) and `/readyz` (the store answers and a
//! policy is loaded).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;

pub async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let authority = Arc::clone(&state.authority);
    let store_ok = tokio::task::spawn_blocking(move || authority.store_answers()).await.unwrap_or(false);
    let module = state.authority.module();
    let body = json!({
        "status": if store_ok { "ready" } else { "not-ready" },
        "store": store_ok,
        "policy": {"name": module.info().name, "version": module.info().version, "sha256": module.sha256()},
    });
    let status = if store_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}
