//! `GET /api/system/audit`: the audit trail, filtered (`since`, `actor`,
//! `target`, `action`, `limit`). The whole trail needs `system.audit:view` on
//! the root; an owner who may view their own tokens reads the events on what
//! they own, and nothing else.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use super::AppState;
use super::api_caller::Presented;
use super::api_error::{ApiError, ApiResult};
use super::blocking::blocking;
use crate::audit::{AuditFilter, AuditRecord};
use crate::authority::LifecycleError;
use crate::authority::actions::TOKEN_VIEW;

/// Reading the whole trail.
pub(crate) const AUDIT_VIEW: &str = "system.audit:view";

/// `GET /api/system/audit?since=&actor=&target=&action=&limit=`
pub async fn list(State(state): State<Arc<AppState>>, presented: Presented, RawQuery(query): RawQuery) -> ApiResult {
    let (caller, whole) = presented.wide_or_own(&state, AUDIT_VIEW, "/".to_owned(), TOKEN_VIEW).await?;
    let filter = AuditFilter::from_query(query.as_deref().unwrap_or("")).map_err(ApiError::bad_request)?;
    let mut query = filter.query().map_err(ApiError::bad_request)?;
    if !whole {
        query.owner = Some(caller.principal);
    }
    let read = blocking(&state, move |a| Ok::<_, crate::store::StoreError>((a.audit_events(&query)?, a.audit_head()?)))
        .await?;
    let (rows, head) = read.map_err(|err| ApiError::from(LifecycleError::from(err)))?;
    let viewer = (!whole).then_some(caller.principal);
    let seen = |record: AuditRecord| match viewer {
        Some(viewer) => record.seen_by(viewer),
        None => record,
    };
    let events =
        rows.iter().map(|row| row.record().map(seen)).collect::<Result<Vec<AuditRecord>, _>>().map_err(|err| {
            tracing::error!("an audit event is unreadable: {err}");
            ApiError::Refused {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                code: "audit-unreadable",
                message: "an audit event is unreadable: run `tokenscope audit verify`".into(),
            }
        })?;
    let next = events.last().map(|e| e.seq);
    let mut response = Json(json!({
        "scope": if whole { "all" } else { "own" },
        "events": events,
        "next": next,
        "head": {"seq": head.0, "hash": hex::encode(head.1)},
    }))
    .into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
