//! The token page's HTML frame, rendered with `maud` (compiled into the binary;
//! every interpolated value is escaped): the layout and navigation, sign-in,
//! alerts and refusals. No inline script or style: the stylesheet and the script
//! are files under `/ui/assets/`, allowed by the page's CSP. The token views
//! are `token_pages.rs`, the policy's `policy_page.rs`.

use axum::response::Html;
use maud::{DOCTYPE, Markup, html};

/// What a page shows of the signed-in person.
pub struct Viewer<'a> {
    /// The owner's name.
    pub owner: &'a str,
    /// The session's CSRF token, for forms.
    pub csrf: &'a str,
    /// Whose tokens the page shows (the owner's, or another principal's).
    pub target: &'a str,
    /// Where those tokens' pages live: `/ui/tokens` or `/ui/principals/<name>/tokens`.
    pub base: &'a str,
}

/// The page around `body`, with the navigation when someone is signed in.
pub fn layout(title: &str, viewer: Option<&Viewer<'_>>, body: Markup) -> Html<String> {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · tokenscope" }
                link rel="stylesheet" href="/ui/assets/ui.css";
                script src="/ui/assets/ui.js" defer {}
            }
            body {
                header {
                    a.brand href="/ui/" { "tokenscope" }
                    @if let Some(viewer) = viewer {
                        nav aria-label="Main" {
                            a href="/ui/tokens" { "Tokens" }
                            a href="/ui/tokens/new" { "Generate token" }
                            a href="/ui/principals" { "Principals" }
                            a href="/ui/policy" { "Policy" }
                            a href="/ui/activity" { "Activity" }
                            span.who { "Signed in as " strong { (viewer.owner) } }
                            form method="post" action="/ui/sign-out" {
                                input type="hidden" name="csrf" value=(viewer.csrf);
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" { (body) }
            }
        }
    };
    Html(page.into_string())
}

/// A message for the person: `role="alert"` so screen readers announce it.
pub fn alert(text: &str) -> Markup {
    html! { p.alert role="alert" { (text) } }
}

/// The sign-in form.
pub fn sign_in(error: Option<&str>) -> Html<String> {
    let body = html! {
        h1 { "Sign in" }
        p { "Paste a token you hold. Its rights decide what you can do here, exactly as over the API." }
        @if let Some(error) = error { (alert(error)) }
        form method="post" action="/ui/sign-in" {
            label for="token" { "Token" }
            input id="token" name="token" type="password" autocomplete="off" required
                aria-describedby="token-help";
            p id="token-help" class="help" { "It is sent once; the server keeps it for this session only." }
            button type="submit" { "Sign in" }
        }
    };
    layout("Sign in", None, body)
}

/// The one-time link's page: the code comes from the link's fragment (filled
/// in by the script, never sent in a URL) or is pasted.
pub fn sign_in_link(error: Option<&str>) -> Html<String> {
    let body = html! {
        h1 { "Sign in with a link" }
        @if let Some(error) = error { (alert(error)) }
        form method="post" action="/ui/sign-in/link" {
            label for="code" { "Sign-in code" }
            input id="code" name="code" type="password" autocomplete="off" required data-from-fragment
                aria-describedby="code-help";
            p id="code-help" class="help" { "The part of your link after `#`; it works once." }
            button type="submit" { "Sign in" }
        }
        p { a href="/ui/sign-in" { "Sign in with a token instead" } }
    };
    layout("Sign in", None, body)
}

/// A refusal page (404, 403) for someone signed in.
pub fn refusal(viewer: Option<&Viewer<'_>>, title: &str, message: &str) -> Html<String> {
    layout(title, viewer, html! { h1 { (title) } (alert(message)) p { a href="/ui/" { "Back" } } })
}
