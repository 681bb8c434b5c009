//! The token views' HTML: the list with its expiry warnings, the generate form
//! (resources or scopes), one token with its effective permissions, the secret
//! shown once, the edit form and the revoke and delete confirmations.

use axum::response::Html;
use maud::html;

use super::activity_page::events_table;
use super::pages::{Viewer, alert, layout};
use crate::audit::AuditRecord;
use crate::authority::Permission;
use crate::contract::{CatalogEntry, level_name};
use crate::store::{StoredGrants, TokenRecord};
use crate::time::UnixTime;

/// How many whole days from `now` to `at` (negative when past).
fn days_until(now: UnixTime, at: UnixTime) -> i64 {
    let (now, at) = (i64::try_from(now.secs()).unwrap_or(i64::MAX), i64::try_from(at.secs()).unwrap_or(i64::MAX));
    at.saturating_sub(now).div_euclid(86_400)
}

fn date(t: UnixTime) -> String {
    t.to_string().get(..10).unwrap_or_default().to_owned()
}

fn kind(grants: &StoredGrants) -> &'static str {
    match grants {
        StoredGrants::Scopes(_) => "Scopes",
        StoredGrants::Resources(_) => "Resources",
    }
}

/// The person's tokens.
pub fn tokens(
    viewer: &Viewer<'_>,
    list: &[TokenRecord],
    now: UnixTime,
    warn_days: i64,
    notice: Option<&str>,
    activity: &Result<Vec<AuditRecord>, String>,
) -> Html<String> {
    let body = html! {
        h1 { @if viewer.target == viewer.owner { "Tokens" } @else { "Tokens of " (viewer.target) } }
        @if let Some(notice) = notice { p.notice role="status" { (notice) } }
        @let leaked: Vec<&TokenRecord> = list.iter().filter(|t| t.leak.is_some()).collect();
        @if !leaked.is_empty() {
            div.leak-banner role="alert" {
                p { strong { (leaked.len()) @if leaked.len() == 1 { " token was" } @else { " tokens were" } " revoked because a secret was reported leaked." }
                    " Generate new ones for what used them, and delete these once replaced." }
                ul { @for token in &leaked { @if let Some(leak) = &token.leak {
                    li { a href={ (viewer.base) "/" (token.id) } { (token.name) } ": leaked at " code { (leak.url) } " on " (date(leak.at)) " (" (leak.source) ", reported by " (leak.reporter) ")" }
                } } }
            }
        }
        p { a.button href={ (viewer.base) "/new" } { "Generate token" } }
        p.sort { "Sort by: " a href={ (viewer.base) "?sort=expires" } { "expiry" } " · " a href={ (viewer.base) "?sort=last_used" } { "last use" } " · " a href=(viewer.base) { "creation" } }
        @if list.is_empty() {
            p { "No tokens yet." }
        } @else {
            div.table-wrap {
                table {
                    caption.visually-hidden { "Tokens of " (viewer.target) }
                    thead { tr {
                        th scope="col" { "Name" } th scope="col" { "Type" } th scope="col" { "Grants" }
                        th scope="col" { "Description" } th scope="col" { "Created" } th scope="col" { "Expires" }
                        th scope="col" { "Uses" } th scope="col" { "Last used" } th scope="col" { "Token" }
                        th scope="col" { "Actions" }
                    } }
                    tbody {
                        @for token in list {
                            @let revoked = token.revoked_at.is_some();
                            tr class=[revoked.then_some("revoked")] {
                                th scope="row" {
                                    a href={ (viewer.base) "/" (token.id) } { (token.name) }
                                    @if let Some(leak) = &token.leak { " " span.badge.leaked { "revoked: leaked at " (leak.url) } }
                                    @else if revoked { " " span.badge { "revoked" } }
                                }
                                td { (kind(&token.grants)) }
                                td { ul.grants { @for grant in token.grants.items() { li { code { (grant) } } } } }
                                td {
                                    (token.description)
                                    @if let Some(origin) = &token.origin {
                                        br; small.origin { "from " (origin.issuer) " for " code { (origin.subject) } ", rule " (origin.rule) }
                                    }
                                }
                                td { (date(token.created_at)) }
                                @match token.expires_at {
                                    None => td { "never" },
                                    Some(at) => {
                                        @let days = days_until(now, at);
                                        td class=[(days <= warn_days).then_some("warn")] {
                                            (date(at)) br;
                                            @if days < 0 { "expired" } @else { "expires in " (days) " days" }
                                        }
                                    }
                                }
                                td { (token.use_count) }
                                td { @match token.last_used_at { Some(at) => (date(at)), None => "never" } }
                                td { code { (token.hint) } }
                                td.actions {
                                    a href={ (viewer.base) "/" (token.id) "/edit" } { "Edit" span.visually-hidden { " " (token.name) } }
                                    @if !revoked {
                                        a href={ (viewer.base) "/" (token.id) "/revoke" } { "Revoke" span.visually-hidden { " " (token.name) } }
                                    }
                                    a href={ (viewer.base) "/" (token.id) "/delete" } { "Delete" span.visually-hidden { " " (token.name) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="activity" {
            h2 id="activity" { "Activity" }
            @match activity {
                Ok(events) => (events_table("Recent activity", events)),
                Err(why) => (alert(why)),
            }
            p { a href="/ui/activity" { "All activity" } }
        }
    };
    layout("Tokens", Some(viewer), body)
}

/// What the generate form was filled with (kept when it is shown again with an error).
#[derive(Debug, Default)]
pub struct GenerateForm {
    /// The name.
    pub name: String,
    /// The expiry date, `YYYY-MM-DD`.
    pub expires: String,
    /// The description.
    pub description: String,
    /// `resources` or `scopes`.
    pub kind: String,
    /// Resource rows: (node, level).
    pub resources: Vec<(String, String)>,
    /// Chosen catalog actions.
    pub scopes: Vec<String>,
}

/// Where an error belongs on the generate form.
pub enum FieldError {
    /// The name, expiry or description.
    Details(String),
    /// The grants (the policy's refusal).
    Grants(String),
}

/// The generate form: psm's two kinds, resources (node and level rows) or scopes
/// (the loaded policy's catalog).
pub fn generate(
    viewer: &Viewer<'_>,
    form: &GenerateForm,
    catalog: &[CatalogEntry],
    nodes: &[String],
    max_date: &str,
    error: Option<&FieldError>,
) -> Html<String> {
    let mut rows = form.resources.clone();
    while rows.len() < 3 {
        rows.push((String::new(), "read".to_owned()));
    }
    let scopes_kind = form.kind == "scopes";
    let body = html! {
        h1 { "Generate token" @if viewer.target != viewer.owner { " for " (viewer.target) } }
        p.help { "A token never holds more than its owner's rights, nor more than your own rights or the token you signed in with." }
        form method="post" action=(viewer.base) novalidate {
            input type="hidden" name="csrf" value=(viewer.csrf);
            @if let Some(FieldError::Details(message)) = error { (alert(message)) }
            label for="name" { "Name" }
            input id="name" name="name" required maxlength="200" value=(form.name);
            label for="expires" { "Expiration date" }
            input id="expires" name="expires" type="date" value=(form.expires) max=(max_date) aria-describedby="expires-help";
            p id="expires-help" class="help" { "One year from today unless you change it; at most " (max_date) "." }
            label for="description" { "Description" }
            textarea id="description" name="description" rows="2" maxlength="1000" { (form.description) }
            fieldset aria-describedby=[error.and_then(|e| matches!(e, FieldError::Grants(_)).then_some("grants-error"))] {
                legend { "Type" }
                @if let Some(FieldError::Grants(message)) = error {
                    p.alert id="grants-error" role="alert" { (message) }
                }
                label.choice { input type="radio" name="kind" value="resources" checked[!scopes_kind]; " Resources: a level on nodes you may bind" }
                label.choice { input type="radio" name="kind" value="scopes" checked[scopes_kind]; " Scopes: actions from the policy's catalog" }
                fieldset #resources {
                    legend { "Resources" }
                    datalist id="nodes" { @for node in nodes { option value=(node) {} } }
                    div #resource-rows {
                        @for (i, (node, level)) in rows.iter().enumerate() {
                            div.row {
                                label for={ "node-" (i) } { "Node" }
                                input id={ "node-" (i) } name="node" list="nodes" value=(node) placeholder="channel/main";
                                label for={ "level-" (i) } { "Level" }
                                select id={ "level-" (i) } name="level" {
                                    @for l in ["read", "write", "manage"] { option value=(l) selected[level == l] { (l) } }
                                }
                            }
                        }
                    }
                    button type="button" #add-resource hidden { "Add resource" }
                }
                fieldset #scopes {
                    legend { "Scopes" }
                    @for (i, entry) in catalog.iter().enumerate() {
                        div.scope {
                            input type="checkbox" id={ "scope-" (i) } name="scope" value=(entry.action)
                                checked[form.scopes.contains(&entry.action)];
                            label for={ "scope-" (i) } {
                                code { (entry.action) } " (" (level_name(entry.level)) ") " span.help { (entry.description) }
                            }
                        }
                    }
                }
            }
            button type="submit" { "Generate token" }
        }
    };
    layout("Generate token", Some(viewer), body)
}

/// One token and what it may do right now, as the loaded policy decides it.
pub fn token(viewer: &Viewer<'_>, token: &TokenRecord, now: UnixTime, permissions: &[Permission]) -> Html<String> {
    let mut nodes: Vec<(&str, Vec<&str>)> = Vec::new();
    for p in permissions {
        match nodes.last_mut() {
            Some((node, actions)) if *node == p.resource => actions.push(&p.action),
            _ => nodes.push((&p.resource, vec![&p.action])),
        }
    }
    let body = html! {
        h1 { (token.name) }
        dl {
            dt { "Type" } dd { (kind(&token.grants)) }
            dt { "Grants" } dd { ul.grants { @for grant in token.grants.items() { li { code { (grant) } } } } }
            dt { "Description" } dd { (token.description) }
            dt { "Created" } dd { (date(token.created_at)) }
            dt { "Expires" } dd {
                @match token.expires_at {
                    None => "never",
                    Some(at) => { (date(at)) " (" @if days_until(now, at) < 0 { "expired" } @else { "in " (days_until(now, at)) " days" } ")" }
                }
            }
            dt { "State" } dd {
                @if let Some(leak) = &token.leak {
                    "revoked: leaked at " code { (leak.url) } " on " (date(leak.at)) " (" (leak.source) ", reported by " (leak.reporter) "). Reissuing it is refused: generate a new token."
                } @else if token.revoked_at.is_some() { "revoked" } @else { "active" }
            }
            dt { "Uses" } dd { (token.use_count) }
            dt { "Token" } dd { code { (token.hint) } }
        }
        h2 { "Effective permissions" }
        p.help { "What this token may do right now, on each node and everything below it: its grants, limited by its owner's current rights, decided by the loaded policy." }
        @if nodes.is_empty() {
            p { "Nothing: the token may do nothing right now." }
        } @else {
            div.table-wrap {
                table {
                    thead { tr { th scope="col" { "Node" } th scope="col" { "Actions" } } }
                    tbody {
                        @for (node, actions) in &nodes {
                            tr {
                                th scope="row" { code { @if node.is_empty() { "/" } @else { (node) } } }
                                td { @for (i, action) in actions.iter().enumerate() { @if i > 0 { ", " } code { (action) } } }
                            }
                        }
                    }
                }
            }
        }
        p { a href={ (viewer.base) "/" (token.id) "/edit" } { "Edit" } " · " a href=(viewer.base) { "Back to the tokens" } }
    };
    layout(&token.name, Some(viewer), body)
}

/// A new secret, shown this once.
pub fn secret(viewer: &Viewer<'_>, name: &str, secret: &str) -> Html<String> {
    let body = html! {
        h1 { "Your new token" }
        p.warning role="alert" {
            "Make sure to copy your new token now. You won't be able to see it again!"
        }
        label for="secret" { "Token " strong { (name) } }
        div.copy {
            input id="secret" readonly value=(secret) autocomplete="off" spellcheck="false";
            button type="button" #copy data-target="secret" { "Copy" }
        }
        p #copied role="status" {}
        p { a href=(viewer.base) { "Back to the tokens" } }
    };
    layout("Your new token", Some(viewer), body)
}

/// The edit form.
pub fn edit(viewer: &Viewer<'_>, token: &TokenRecord, max_date: &str, error: Option<&str>) -> Html<String> {
    let expires = token.expires_at.map(date).unwrap_or_default();
    let body = html! {
        h1 { "Edit " (token.name) }
        @if let Some(error) = error { (alert(error)) }
        form method="post" action={ (viewer.base) "/" (token.id) } {
            input type="hidden" name="csrf" value=(viewer.csrf);
            label for="name" { "Name" }
            input id="name" name="name" required maxlength="200" value=(token.name);
            label for="description" { "Description" }
            textarea id="description" name="description" rows="2" maxlength="1000" { (token.description) }
            label for="expires" { "Expiration date" }
            input id="expires" name="expires" type="date" value=(expires) max=(max_date);
            div.scope {
                input type="checkbox" id="reissue" name="reissue" value="yes" aria-describedby="reissue-help";
                label for="reissue" { "Issue a new token" }
            }
            p id="reissue-help" class="warning" {
                "The current token stops working at once; the new one is shown once."
            }
            button type="submit" { "Save" }
        }
        p { a href=(viewer.base) { "Cancel" } }
    };
    layout("Edit token", Some(viewer), body)
}

/// The confirmation before a revoke or a delete.
pub fn confirm(viewer: &Viewer<'_>, token: &TokenRecord, action: &str) -> Html<String> {
    let (verb, warning) = match action {
        "revoke" => ("Revoke", "It stops working at once and stays listed as revoked."),
        _ => ("Delete", "It stops working at once and is removed for good."),
    };
    let body = html! {
        h1 { (verb) " " (token.name) "?" }
        p.warning { (warning) }
        form method="post" action={ (viewer.base) "/" (token.id) "/" (action) } {
            input type="hidden" name="csrf" value=(viewer.csrf);
            button.danger type="submit" { (verb) " token" }
        }
        p { a href=(viewer.base) { "Cancel" } }
    };
    layout(verb, Some(viewer), body)
}
