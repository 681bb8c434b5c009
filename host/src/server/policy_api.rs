//! The policy endpoints: `GET /api/system/policy` (the active module, the ones
//! before it, swap counts), `POST /api/system/policy` (the body is a module: it
//! goes through the gate and, when it passes, becomes active at once) and
//! `POST /api/system/policy/rollback`; on a fleet's shared store, loading
//! publishes to every host, rolling back rolls the fleet back, and
//! `GET /api/system/fleet` lists the hosts. Loading and rolling back need
//! `system.policy:edit` on the root, viewing `system.policy:view`, decided by the
//! active policy like any other request.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::api::{authorize_on, blocking};
use super::error::json_error;
use crate::swap::{ModuleSummary, SwapOutcome};

fn root(_: &str) -> String {
    "/".to_owned()
}

/// `GET /api/system/policy`
pub async fn status(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(response) = authorize_on(&state, &headers, "system.policy:view", root).await {
        return response;
    }
    let slot = state.authority.policy();
    let counts = slot.counts();
    let shadow = state.authority.shadow().map(|s| {
        json!({
            "module": ModuleSummary::of(s.module()),
            "agreed": s.stats().agreed.load(Ordering::Relaxed),
            "disagreed": s.stats().disagreed.load(Ordering::Relaxed),
            "dropped": s.dropped(),
        })
    });
    Json(json!({
        "active": ModuleSummary::of(slot.active().module()),
        "previous": slot.history(),
        "swaps": {
            "swapped": counts.swapped.load(Ordering::Relaxed),
            "refused": counts.refused.load(Ordering::Relaxed),
            "rolled_back": counts.rolled_back.load(Ordering::Relaxed),
        },
        "shadow": shadow,
    }))
    .into_response()
}

/// `POST /api/system/policy` with the module's bytes (`application/wasm`). The
/// caller is authorised from the headers before a byte of the body is read, and
/// only `UPLOADS` bodies are read at a time.
pub async fn load(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let caller = match authorize_on(&state, &headers, "system.policy:edit", root).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let Ok(_uploading) = state.uploads.try_acquire() else {
        return json_error(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-uploads",
            "another module upload is being read; try again when it is done",
        );
    };
    let max = state.authority.config().policy.max_module_bytes;
    let body: Bytes = match axum::body::to_bytes(body, max).await {
        Ok(body) => body,
        Err(_) => {
            return json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                &format!("the module exceeds {max} bytes (policy.max_module_bytes)"),
            );
        }
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence != "application/wasm" && essence != "application/octet-stream" {
        return json_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send the module as `application/wasm`",
        );
    }
    if body.is_empty() {
        return json_error(StatusCode::BAD_REQUEST, "bad-request", "the body holds no module");
    }
    if let Some(member) = state.fleet.clone() {
        let by = caller.name.clone();
        let published = blocking(&state, move |_| member.publish(&body, &by)).await;
        return match published {
            Ok(Ok((outcome, fleet))) => answer(outcome, fleet.map(|f| json!(f))),
            Ok(Err(err)) => store_failure(&err),
            Err(response) => response,
        };
    }
    let source = format!("upload by {}", caller.name);
    let outcome = blocking(&state, move |a| a.load_policy(&body, &source)).await;
    match outcome {
        Ok(outcome) => answer(outcome, None),
        Err(response) => response,
    }
}

fn store_failure(err: &crate::store::StoreError) -> Response {
    tracing::error!("the fleet's store failed: {err}");
    json_error(StatusCode::SERVICE_UNAVAILABLE, "store-unavailable", "the fleet's store is unavailable")
}

/// `GET /api/system/fleet`: every live host of the fleet, from their heartbeats.
pub async fn fleet(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(response) = authorize_on(&state, &headers, "system.policy:view", root).await {
        return response;
    }
    let Some(member) = state.fleet.clone() else {
        return json_error(
            StatusCode::CONFLICT,
            "not-a-fleet",
            "this host's store is not shared: a fleet shares a PostgreSQL store (store.url)",
        );
    };
    match blocking(&state, move |_| member.status()).await {
        Ok(Ok(status)) => Json(status).into_response(),
        Ok(Err(err)) => store_failure(&err),
        Err(response) => response,
    }
}

/// `POST /api/system/policy/rollback`
pub async fn rollback(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let caller = match authorize_on(&state, &headers, "system.policy:edit", root).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    if let Some(member) = state.fleet.clone() {
        let by = caller.name.clone();
        return match blocking(&state, move |_| member.roll_back(&by)).await {
            Ok(Ok((rolled, outcome))) => answer(outcome, Some(json!(rolled))),
            Ok(Err(err)) => store_failure(&err),
            Err(response) => response,
        };
    }
    match blocking(&state, |a| a.rollback_policy()).await {
        Ok(outcome) => answer(outcome, None),
        Err(response) => response,
    }
}

/// The answer to a load or rollback; on a fleet's store, with what the store recorded as `fleet`.
fn answer(outcome: SwapOutcome, fleet: Option<serde_json::Value>) -> Response {
    let (status, mut body) = match &outcome {
        SwapOutcome::Refused { report, .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({
                "code": "gate-refused",
                "message": format!("the module failed the gate: {}", report.reasons()),
                "outcome": outcome,
            }),
        ),
        SwapOutcome::NoPrevious { .. } => (
            StatusCode::CONFLICT,
            json!({"code": "no-previous", "message": "there is no earlier module to roll back to", "outcome": outcome}),
        ),
        _ => (StatusCode::OK, json!(outcome)),
    };
    if let (Some(fleet), Some(object)) = (fleet, body.as_object_mut()) {
        object.insert("fleet".to_owned(), fleet);
    }
    (status, Json(body)).into_response()
}
