//! The administration pages' HTML: principals with their bindings, the forms
//! that add, bind, unbind and remove them, and the way to their tokens.

use axum::response::Html;
use maud::html;

use super::pages::{Viewer, alert, layout};
use crate::store::{Binding, Principal};

/// Every principal, and the form that adds one.
pub fn principals(viewer: &Viewer<'_>, list: &[Principal], error: Option<&str>) -> Html<String> {
    let body = html! {
        h1 { "Principals" }
        @if let Some(error) = error { (alert(error)) }
        div.table-wrap { table {
            thead { tr { th scope="col" { "Name" } th scope="col" { "Bindings" } th scope="col" { "Manage" } } }
            tbody { @for p in list { tr {
                th scope="row" { (p.name) }
                td { ul.grants { @for b in &p.bindings { li { code { (b.to_text()) } } } } }
                td { a href={ "/ui/principals/" (p.name) } { "Bindings" span.visually-hidden { " of " (p.name) } } " · "
                     a href={ "/ui/principals/" (p.name) "/tokens" } { "Tokens" span.visually-hidden { " of " (p.name) } } }
            } } }
        } }
        h2 { "Add a principal" }
        form method="post" action="/ui/principals" {
            input type="hidden" name="csrf" value=(viewer.csrf);
            label for="name" { "Name" }
            input id="name" name="name" required maxlength="128" pattern="[A-Za-z0-9._+\\-]+";
            label for="grant" { "Rights (one per line, RESOURCE=ACCESS)" }
            textarea id="grant" name="grants" rows="3" placeholder="channel/main=write" {}
            label for="role" { "Roles (one per line, ROLE@RESOURCE)" }
            textarea id="role" name="roles" rows="2" placeholder="continuous-integration@channel/ci" {}
            button type="submit" { "Add principal" }
        }
    };
    layout("Principals", Some(viewer), body)
}

/// One principal: its bindings, each with an unbind button, a bind form, and removal.
pub fn principal(viewer: &Viewer<'_>, p: &Principal, error: Option<&str>) -> Html<String> {
    let body = html! {
        h1 { (p.name) }
        @if let Some(error) = error { (alert(error)) }
        p { a href={ "/ui/principals/" (p.name) "/tokens" } { "Tokens of " (p.name) } }
        h2 { "Bindings" }
        ul { @for b in &p.bindings {
            li {
                code { (b.to_text()) } " "
                form.inline method="post" action={ "/ui/principals/" (p.name) "/unbind" } {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    @match b {
                        Binding::Grant(grant) => input type="hidden" name="grants" value=(grant);,
                        Binding::Role { role, at } => input type="hidden" name="roles" value={ (role) "@" (at) };,
                    }
                    button.danger type="submit" { "Unbind" span.visually-hidden { " " (b.to_text()) } }
                }
            }
        } }
        h2 { "Bind" }
        form method="post" action={ "/ui/principals/" (p.name) "/bind" } {
            input type="hidden" name="csrf" value=(viewer.csrf);
            label for="grant" { "Rights (one per line, RESOURCE=ACCESS)" }
            textarea id="grant" name="grants" rows="2" {}
            label for="role" { "Roles (one per line, ROLE@RESOURCE)" }
            textarea id="role" name="roles" rows="2" {}
            button type="submit" { "Bind" }
        }
        h2 { "Remove" }
        p { a href={ "/ui/principals/" (p.name) "/remove" } { "Remove " (p.name) " and all of its tokens" } }
        p { a href="/ui/principals" { "Back to the principals" } }
    };
    layout(&p.name, Some(viewer), body)
}

/// The confirmation before removing a principal.
pub fn confirm_remove(viewer: &Viewer<'_>, name: &str) -> Html<String> {
    let body = html! {
        h1 { "Remove " (name) "?" }
        p.warning { "The principal and every token it owns go at once, for good." }
        form method="post" action={ "/ui/principals/" (name) "/remove" } {
            input type="hidden" name="csrf" value=(viewer.csrf);
            button.danger type="submit" { "Remove principal" }
        }
        p { a href={ "/ui/principals/" (name) } { "Cancel" } }
    };
    layout("Remove principal", Some(viewer), body)
}
