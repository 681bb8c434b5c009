//! The policy page, for principals holding `system.policy:view` on the root:
//! the active module (name, version, SHA-256, when it was loaded), its history,
//! the swap counts and the shadow's agreement; a rollback button for those
//! holding `system.policy:edit`, which rolls back as the API does.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::response::IntoResponse;

use super::guard::see_other;
use super::policy_page::{self, PolicyView};
use super::signed_in::{Form, Page, Visitor};
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
        trusted: state
            .authority
            .config()
            .policy
            .trust
            .as_ref()
            .map(|t| t.loaded.as_ref().map(|keys| keys.ids()).unwrap_or_default()),
    }
}

/// `GET /ui/policy`, with the rollback button for those who may also edit the policy.
pub async fn page(State(state): State<Arc<AppState>>, visitor: Visitor) -> Page {
    let signed = visitor.clone().may(&state, "system.policy:view", root()).await?;
    let editable = visitor.may(&state, "system.policy:edit", root()).await.is_ok();
    Ok(policy_page::policy(&signed.viewer(), &view(&state, editable), None).into_response())
}

/// `POST /ui/policy/rollback`
pub async fn rollback(State(state): State<Arc<AppState>>, visitor: Visitor, form: Form) -> Page {
    let signed = visitor.may(&state, "system.policy:edit", root()).await?;
    form.check_csrf(&signed)?;
    let by = signed.actor.clone();
    let outcome = blocking(&state, move |a| a.rollback_policy(&a.event_by(&by, "policy.rollback", "policy")))
        .await
        .map_err(|lost| lost.into_response())?;
    let notice = match &outcome {
        SwapOutcome::Refused { report, .. } => format!("The rollback was refused by the gate: {}", report.reasons()),
        SwapOutcome::NoPrevious { .. } => "There is no earlier module to roll back to.".to_owned(),
        SwapOutcome::Unrecorded { .. } => {
            "The audit trail could not record the rollback, so it was not made; try again.".to_owned()
        }
        _ => return Ok(see_other("/ui/policy")),
    };
    Ok(policy_page::policy(&signed.viewer(), &view(&state, true), Some(&notice)).into_response())
}
