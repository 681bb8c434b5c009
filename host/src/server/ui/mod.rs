//! The token page for people, at `/ui/`: sign in with a token or a one-time
//! link, list, generate, edit (with reissue), revoke and delete tokens, see a
//! token's effective permissions, what happened to them (the audit trail), and
//! (for policy admins) the policy. Pages
//! are rendered on the server; every change goes through the same authority
//! calls and policy decisions as the API. Security headers, same-origin POSTs
//! and CSRF tokens guard every page (`guard`, `signed_in`).

mod activity;
mod activity_page;
mod assets;
mod guard;
mod pages;
mod policy;
mod policy_page;
mod principal_pages;
mod principals;
mod session;
mod sign_in;
mod signed_in;
mod token_pages;
mod token_routes;
mod tokens;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

pub use guard::PageOrigin;
pub use session::Sessions;

use super::AppState;

/// What the token page keeps: its sessions, whether cookies are `Secure`, and
/// where it is served from.
pub struct UiState {
    /// The sessions.
    pub sessions: Sessions,
    /// `server.public_url` is https: cookies carry `Secure`.
    pub secure_cookies: bool,
    /// The origin form posts must come from.
    pub origin: PageOrigin,
}

impl UiState {
    /// For `server.public_url` (validated with the config) and these session lifetimes.
    pub fn new(public_url: Option<&str>, sessions: Sessions) -> UiState {
        let public = public_url.and_then(|url| url::Url::parse(url).ok());
        UiState {
            sessions,
            secure_cookies: public.is_some_and(|url| url.scheme() == "https"),
            origin: PageOrigin::of(public_url),
        }
    }
}

/// The `/ui/` routes, each answer with the security headers.
pub fn routes(origin: PageOrigin) -> Router<Arc<AppState>> {
    Router::new()
        .route("/ui", get(sign_in::home))
        .route("/ui/", get(sign_in::home))
        .route("/ui/sign-in", get(sign_in::form).post(sign_in::sign_in))
        .route("/ui/sign-in/link", get(sign_in::link_form).post(sign_in::sign_in_link))
        .route("/ui/sign-out", post(sign_in::sign_out))
        .merge(token_routes::routes())
        .route("/ui/principals", get(principals::list).post(principals::add))
        .route("/ui/principals/{name}", get(principals::show))
        .route("/ui/principals/{name}/remove", get(principals::confirm_remove).post(principals::remove))
        .route("/ui/principals/{name}/{action}", post(principals::change))
        .route("/ui/policy", get(policy::page))
        .route("/ui/activity", get(activity::page))
        .route("/ui/policy/rollback", post(policy::rollback))
        .route("/ui/assets/ui.css", get(assets::css))
        .route("/ui/assets/ui.js", get(assets::js))
        .layer(axum::middleware::from_fn_with_state(origin, guard::secure))
}
