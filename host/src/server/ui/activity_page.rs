//! The activity views' HTML: a table of audit events (when, who, what, on
//! which target, refused or done, what changed), and the activity page around
//! it with its filter form for those who may read the whole trail.

use axum::response::Html;
use maud::{Markup, html};

use super::pages::{Viewer, alert, layout};
use crate::audit::{AuditFilter, AuditRecord};

/// What an event changed, as short text: `field: before → after` per field.
fn change(record: &AuditRecord) -> String {
    let event = &record.event;
    let (before, after) = (event.before.as_ref(), event.after.as_ref());
    let fields: Vec<&String> = match (before.and_then(|b| b.as_object()), after.and_then(|a| a.as_object())) {
        (Some(b), Some(a)) => a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))).collect(),
        (Some(b), None) => b.keys().collect(),
        (None, Some(a)) => a.keys().collect(),
        (None, None) => Vec::new(),
    };
    let show = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => "—".to_owned(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    fields
        .iter()
        .map(|field| {
            let old = before.and_then(|b| b.get(field.as_str()));
            let new = after.and_then(|a| a.get(field.as_str()));
            match (old, new) {
                (Some(old), Some(new)) => format!("{field}: {} → {}", show(Some(old)), show(Some(new))),
                (None, new) => format!("{field}: {}", show(new)),
                (old, None) => format!("{field} was {}", show(old)),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The events, newest first.
pub fn events_table(caption: &str, events: &[AuditRecord]) -> Markup {
    html! {
        @if events.is_empty() {
            p { "Nothing recorded yet." }
        } @else {
            div.table-wrap {
                table.activity {
                    caption.visually-hidden { (caption) }
                    thead { tr {
                        th scope="col" { "#" } th scope="col" { "When" } th scope="col" { "Who" }
                        th scope="col" { "What" } th scope="col" { "On" } th scope="col" { "Outcome" }
                        th scope="col" { "Change" } th scope="col" { "From" }
                    } }
                    tbody {
                        @for record in events.iter().rev() {
                            @let event = &record.event;
                            tr class=[event.refused.is_some().then_some("refused")] {
                                td { (record.seq) }
                                td { time datetime=(event.at) { (event.at) } }
                                td { code { (event.actor.label()) } }
                                td { (event.action) }
                                td { code { (event.target) } }
                                td { @match &event.refused { Some(code) => { span.badge { "refused: " (code) } }, None => "done" } }
                                td.change { (change(record)) }
                                td { @if let Some(client) = &event.client {
                                    (client.addr.as_deref().unwrap_or("")) @if let Some(agent) = &client.agent { br; small { (agent) } }
                                } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The activity page: the whole trail with filters, or the person's own events.
pub fn activity(
    viewer: &Viewer<'_>,
    whole: bool,
    filter: &AuditFilter,
    events: &[AuditRecord],
    error: Option<&str>,
) -> Html<String> {
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let body = html! {
        h1 { "Activity" }
        p { @if whole { "Everything recorded: who changed which token, principal and policy, and when." }
            @else { "What happened to your tokens and to you." } }
        @if let Some(error) = error { (alert(error)) }
        form.filters method="get" action="/ui/activity" role="search" aria-label="Filter the activity" {
            @if whole {
                label for="actor" { "Who" } input id="actor" name="actor" value=(value(&filter.actor)) placeholder="alice, token:17";
            }
            label for="target" { "On" } input id="target" name="target" value=(value(&filter.target)) placeholder="token/42";
            label for="action" { "What" } input id="action" name="action" value=(value(&filter.action)) placeholder="token.create, token";
            label for="since" { "Since" } input id="since" name="since" value=(value(&filter.since)) placeholder="2026-12-01 or a number";
            button type="submit" { "Filter" }
        }
        (events_table("Activity", events))
    };
    layout("Activity", Some(viewer), body)
}
