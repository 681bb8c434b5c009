//! The policy page's HTML: the active module, its history, the swap counts, the
//! shadow's agreement, and the rollback button for those who may edit.

use axum::response::Html;
use maud::{Markup, html};

use super::pages::{Viewer, layout};
use crate::signing::Signature;
use crate::swap::ModuleSummary;
use crate::time::UnixTime;

/// What the policy page shows.
pub struct PolicyView {
    /// The active module.
    pub active: ModuleSummary,
    /// When it became active.
    pub since: UnixTime,
    /// Earlier modules, newest first (what a rollback returns to).
    pub history: Vec<ModuleSummary>,
    /// Loads that swapped, were refused, and rollbacks.
    pub swaps: (u64, u64, u64),
    /// The shadow module and its agreement (agreed, disagreed, dropped).
    pub shadow: Option<(ModuleSummary, u64, u64, u64)>,
    /// Whether the viewer may roll back.
    pub may_edit: bool,
    /// The key ids of `[policy.trust]`, when signatures are required.
    pub trusted: Option<Vec<String>>,
}

fn module_row(m: &ModuleSummary) -> Markup {
    html! { td { (m.name) } td { (m.version) } td { code { (m.sha256) } } td { (signed_by(&m.signature)) } td { (m.source) } }
}

/// Who signed a module, in words.
fn signed_by(signature: &Signature) -> String {
    match signature {
        Signature::Embedded => "embedded in this binary".into(),
        Signature::Verified { signers } => format!("trusted key {}", signers.join(", ")),
        Signature::NotChecked { signers } if signers.is_empty() => "not checked (no [policy.trust])".into(),
        Signature::NotChecked { signers } => format!("key {} (not checked: no [policy.trust])", signers.join(", ")),
        Signature::Unsigned => "unsigned".into(),
    }
}

/// The loaded policy, its history, swap counts and the shadow's agreement; a
/// rollback button for those who may edit the policy.
pub fn policy(viewer: &Viewer<'_>, view: &PolicyView, notice: Option<&str>) -> Html<String> {
    let (swapped, refused, rolled_back) = view.swaps;
    let body = html! {
        h1 { "Policy" }
        @if let Some(notice) = notice { p.notice role="status" { (notice) } }
        h2 { "Active module" }
        dl {
            dt { "Name" } dd { (view.active.name) }
            dt { "Version" } dd { (view.active.version) }
            dt { "SHA-256" } dd { code { (view.active.sha256) } }
            dt { "Signed by" } dd { (signed_by(&view.active.signature)) }
            dt { "Loaded at" } dd { (view.since) }
            dt { "Source" } dd { (view.active.source) }
            dt { "Contract" } dd { (view.active.contract) }
            dt { "Catalog" } dd { (view.active.catalog_actions) " actions" }
        }
        h2 { "Signatures" }
        @match &view.trusted {
            Some(ids) => p { "Only modules signed by a trusted key go live: " (ids.join(", ")) },
            None => p { "Not required: no [policy.trust] in the config." },
        }
        h2 { "Swaps" }
        p { (swapped) " swapped · " (refused) " refused by the gate · " (rolled_back) " rolled back" }
        h2 { "History" }
        @if view.history.is_empty() {
            p { "No earlier module: nothing to roll back to." }
        } @else {
            div.table-wrap { table {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Version" } th scope="col" { "SHA-256" } th scope="col" { "Signed by" } th scope="col" { "Source" } } }
                tbody { @for m in &view.history { tr { (module_row(m)) } } }
            } }
            @if let (true, Some(previous)) = (view.may_edit, view.history.first()) {
                form method="post" action="/ui/policy/rollback" {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    button.danger type="submit" { "Roll back to " (previous.name) " " (previous.version) }
                }
            }
        }
        h2 { "Shadow" }
        @match &view.shadow {
            None => p { "No shadow module runs." },
            Some((module, agreed, disagreed, dropped)) => {
                p { (module.name) " " (module.version) " (" code { (module.sha256) } "): "
                    (agreed) " agreed · " (disagreed) " disagreed · " (dropped) " dropped" }
            }
        }
    };
    layout("Policy", Some(viewer), body)
}
