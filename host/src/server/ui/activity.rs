//! `GET /ui/activity`: the audit trail for people. Whoever holds
//! `system.audit:view` on the root sees all of it with filters; everyone else
//! the events on what they own (their tokens, themselves), as the API scopes it.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::activity_page;
use super::signed_in::{Page, Visitor};
use crate::audit::{AuditFilter, AuditRecord};
use crate::authority::actions::TOKEN_VIEW;
use crate::server::AppState;
use crate::server::blocking::blocking;
use crate::store::PrincipalId;

/// The events `filter` asks for, on what `owner` owns when it is given, newest last.
pub(super) async fn events(
    state: &Arc<AppState>,
    filter: &AuditFilter,
    owner: Option<PrincipalId>,
) -> Result<Vec<AuditRecord>, String> {
    let mut query = filter.query()?;
    query.owner = owner;
    let rows = blocking(state, move |a| a.audit_events(&query)).await.map_err(|_| "try again".to_owned())?;
    let rows = rows.map_err(|err| format!("the audit trail could not be read: {err}"))?;
    let seen = |record: AuditRecord| match owner {
        Some(owner) => record.seen_by(owner),
        None => record,
    };
    rows.iter()
        .map(|row| row.record().map(seen).map_err(|_| "an event is unreadable: run `tokenscope audit verify`".into()))
        .collect()
}

/// `GET /ui/activity?actor=&target=&action=&since=`
pub async fn page(State(state): State<Arc<AppState>>, visitor: Visitor, RawQuery(query): RawQuery) -> Page {
    let whole = visitor.clone().may(&state, "system.audit:view", Some(String::new())).await.is_ok();
    let signed = visitor.may(&state, TOKEN_VIEW, None).await?;
    let Ok(mut filter) = AuditFilter::from_query(query.as_deref().unwrap_or("")) else {
        let viewer = signed.viewer();
        let page = activity_page::activity(
            &viewer,
            whole,
            &AuditFilter::default(),
            &[],
            Some("The filter could not be read."),
        );
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    };
    if !whole {
        filter.actor = None;
    }
    let owner = (!whole).then_some(signed.session.principal);
    let viewer = signed.viewer();
    Ok(match events(&state, &filter, owner).await {
        Ok(events) => activity_page::activity(&viewer, whole, &filter, &events, None).into_response(),
        Err(why) => {
            (StatusCode::BAD_REQUEST, activity_page::activity(&viewer, whole, &filter, &[], Some(&why))).into_response()
        }
    })
}
