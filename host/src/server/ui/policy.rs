//! The policy page, for principals holding `system.policy:view` on the root:
//! the active module (name, version, SHA-256, when it was loaded), its history,
//! the swap counts and the shadow's agreement; a rollback button for those
//! holding `system.policy:edit`, which rolls back as the API does.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::guard::see_other;
use super::pages::{self, PolicyView};
use super::signed_in::{SignedIn, check_csrf, form_fields, signed_in_on};
use crate::server::AppState;
use crate::server::blocking::blocking;
use crate::swap::{ModuleSummary, SwapOutcome};

fn root() -> Option<String> {
    Some(String::new())
}

fn view(state: &AppState, may_edit: bool) -> PolicyView {
    let slot = state.authority.policy();
    let active = slot.active();
    let counts = slot.counts();
    let shadow = state.authority.shadow().map(|s| {
        let stats = s.stats();
        (
            ModuleSummary::of(s.module()),
            stats.agreed.load(Ordering::Relaxed),
            stats.disagreed.load(Ordering::Relaxed),
            s.dropped(),
        )
    });
    PolicyView {
        active: ModuleSummary::of(active.module()),
        since: active.since(),
        history: slot.history(),
        swaps: (
            counts.swapped.load(Ordering::Relaxed),
            counts.refused.load(Ordering::Relaxed),
            counts.rolled_back.load(Ordering::Relaxed),
        ),
        shadow,
        may_edit,
    }
}

/// Whether the signed-in person may also edit the policy.
async fn may_edit(state: &Arc<AppState>, headers: &HeaderMap) -> bool {
    signed_in_on(state, headers, "system.policy:edit", root()).await.is_ok()
}

/// `GET /ui/policy`
pub async fn page(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let signed: SignedIn = match signed_in_on(&state, &headers, "system.policy:view", root()).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let editable = may_edit(&state, &headers).await;
    pages::policy(&signed.viewer(), &view(&state, editable), None).into_response()
}

/// `POST /ui/policy/rollback`
pub async fn rollback(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = form_fields(&body);
    let signed = match signed_in_on(&state, &headers, "system.policy:edit", root()).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    if let Err(response) = check_csrf(&signed, &fields) {
        return response;
    }
    let outcome = match blocking(&state, |a| a.rollback_policy()).await {
        Ok(outcome) => outcome,
        Err(lost) => return lost.into_response(),
    };
    let notice = match &outcome {
        SwapOutcome::Refused { report, .. } => format!("The rollback was refused by the gate: {}", report.reasons()),
        SwapOutcome::NoPrevious { .. } => "There is no earlier module to roll back to.".to_owned(),
        _ => return see_other("/ui/policy"),
    };
    pages::policy(&signed.viewer(), &view(&state, true), Some(&notice)).into_response()
}
