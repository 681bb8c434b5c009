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
use super::api_caller::{Caller, Presented};
use super::api_error::{ApiError, ApiResult};
use super::blocking::blocking;
use crate::store::StoreError;
use crate::swap::{ModuleSummary, SwapOutcome};

const VIEW: &str = "system.policy:view";
const EDIT: &str = "system.policy:edit";

fn root() -> String {
    "/".to_owned()
}

fn refused(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::Refused { status, code, message: message.into() }
}

/// `GET /api/system/policy`
pub async fn status(State(state): State<Arc<AppState>>, presented: Presented) -> ApiResult {
    presented.at(&state, VIEW, root()).await?;
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
    Ok(Json(json!({
        "active": ModuleSummary::of(slot.active().module()),
        "previous": slot.history(),
        "swaps": {
            "swapped": counts.swapped.load(Ordering::Relaxed),
            "refused": counts.refused.load(Ordering::Relaxed),
            "rolled_back": counts.rolled_back.load(Ordering::Relaxed),
        },
        "shadow": shadow,
        "trust": trust(&state.authority.config().policy),
    }))
    .into_response())
}

/// `[policy.trust]` as status shows it: whether a signature is required, and by which keys.
pub(crate) fn trust(config: &crate::config::PolicyConfig) -> serde_json::Value {
    match config.trust.as_ref().and_then(|t| t.loaded.as_ref()) {
        Some(keys) => json!({
            "required": true,
            "keys": keys.keys().iter().map(|k| json!({"id": k.id, "path": k.path.display().to_string()})).collect::<Vec<_>>(),
        }),
        None if config.trust.is_some() => json!({"required": true, "keys": []}),
        None => json!({"required": false, "keys": []}),
    }
}

/// `POST /api/system/policy` with the module's bytes (`application/wasm`). The
/// caller is authorised from the headers before a byte of the body is read, and
/// only `UPLOADS` bodies are read at a time. Authorising and reading must end
/// within `server.request_timeout`; the gate, once it has the module, runs to its
/// end (this route is outside the server's 408 layer), so the answer always says
/// what became of the module.
pub async fn load(
    State(state): State<Arc<AppState>>,
    presented: Presented,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let within = state.authority.config().server.request_timeout;
    let received = tokio::time::timeout(within, receive(&state, presented, &headers, body)).await.map_err(|_| {
        refused(StatusCode::REQUEST_TIMEOUT, "timeout", "the module did not arrive within server.request_timeout")
    })?;
    let (caller, body, _uploading) = received?;
    let by = caller.actor();
    if let Some(member) = state.fleet.clone() {
        let name = caller.name.clone();
        let (outcome, fleet) =
            blocking(&state, move |_| member.publish(&body, &name, &by)).await?.map_err(fleet_store)?;
        return Ok(answer(outcome, fleet.map(|f| json!(f))));
    }
    let source = format!("upload by {}", caller.name);
    Ok(answer(
        blocking(&state, move |a| a.load_policy(&body, &source, &a.event_by(&by, "policy.load", "policy"))).await?,
        None,
    ))
}

/// The authorised caller and the module's bytes, holding one of the `UPLOADS` permits.
async fn receive<'a>(
    state: &'a Arc<AppState>,
    presented: Presented,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Caller, Bytes, tokio::sync::SemaphorePermit<'a>), ApiError> {
    let caller = presented.at(state, EDIT, root()).await?;
    let Ok(uploading) = state.uploads.try_acquire() else {
        return Err(refused(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-uploads",
            "another module upload is being read; try again when it is done",
        ));
    };
    let max = state.authority.config().policy.max_module_bytes;
    let body: Bytes = axum::body::to_bytes(body, max).await.map_err(|_| {
        refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            format!("the module exceeds {max} bytes (policy.max_module_bytes)"),
        )
    })?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence != "application/wasm" && essence != "application/octet-stream" {
        return Err(refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send the module as `application/wasm`",
        ));
    }
    if body.is_empty() {
        return Err(ApiError::bad_request("the body holds no module"));
    }
    Ok((caller, body, uploading))
}

/// The fleet's store failed: logged whole, answered with a short reason.
fn fleet_store(err: StoreError) -> ApiError {
    tracing::error!("the fleet's store failed: {err}");
    refused(StatusCode::SERVICE_UNAVAILABLE, "store-unavailable", "the fleet's store is unavailable")
}

/// `GET /api/system/fleet`: every live host of the fleet, from their heartbeats.
pub async fn fleet(State(state): State<Arc<AppState>>, presented: Presented) -> ApiResult {
    presented.at(&state, VIEW, root()).await?;
    let Some(member) = state.fleet.clone() else {
        return Err(refused(
            StatusCode::CONFLICT,
            "not-a-fleet",
            "this host's store is not shared: a fleet shares a PostgreSQL store (store.url)",
        ));
    };
    let status = blocking(&state, move |_| member.status()).await?.map_err(fleet_store)?;
    Ok(Json(status).into_response())
}

/// `POST /api/system/policy/rollback`
pub async fn rollback(State(state): State<Arc<AppState>>, presented: Presented) -> ApiResult {
    let caller = presented.at(&state, EDIT, root()).await?;
    let by = caller.actor();
    if let Some(member) = state.fleet.clone() {
        let name = caller.name.clone();
        let (rolled, outcome) = blocking(&state, move |_| member.roll_back(&name, &by)).await?.map_err(fleet_store)?;
        return Ok(answer(outcome, Some(json!(rolled))));
    }
    Ok(answer(blocking(&state, move |a| a.rollback_policy(&a.event_by(&by, "policy.rollback", "policy"))).await?, None))
}

/// The answer to a load or rollback; on a fleet's store, with what the store recorded as `fleet`.
fn answer(outcome: SwapOutcome, fleet: Option<serde_json::Value>) -> Response {
    let (status, mut body) = match &outcome {
        SwapOutcome::Refused { report, .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            match &report.signature_refusal {
                // A signature refusal has its own code: the module was never compiled.
                Some(refusal) => json!({
                    "code": refusal.code.as_str(),
                    "message": format!("the module is refused for its signature: {}", refusal.reason),
                    "outcome": outcome,
                }),
                None => json!({
                    "code": "gate-refused",
                    "message": format!("the module failed the gate: {}", report.reasons()),
                    "outcome": outcome,
                }),
            },
        ),
        SwapOutcome::NoPrevious { .. } => (
            StatusCode::CONFLICT,
            json!({"code": "no-previous", "message": "there is no earlier module to roll back to", "outcome": outcome}),
        ),
        SwapOutcome::Unrecorded { reason, .. } => {
            tracing::error!("a policy change was not made: {reason}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({
                    "code": "audit-unavailable",
                    "message": "the audit trail could not record the change, so it was not made",
                    "outcome": outcome,
                }),
            )
        }
        _ => (StatusCode::OK, json!(outcome)),
    };
    if let (Some(fleet), Some(object)) = (fleet, body.as_object_mut()) {
        object.insert("fleet".to_owned(), fleet);
    }
    (status, Json(body)).into_response()
}
