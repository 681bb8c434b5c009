//! Signing in and out of the token page: a pasted token is verified for
//! `user.token:view` on its owner's node, as the API would, or a one-time link
//! made by an operator is used up; either starts a server-side session
//! (`HttpOnly`, `SameSite=Strict` cookie, `Secure` behind https). Signing out
//! ends it.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::guard::{see_other, session_cookie};
use super::pages;
use super::session::StartError;
use super::signed_in::{Form, Page, Visitor, Whose, to_sign_in};
use crate::authority::Actor;
use crate::authority::actions::{TOKEN_VIEW, user_node};
use crate::server::AppState;
use crate::server::api_caller::caller_of;
use crate::server::blocking::blocking;
use crate::server::client_info::ClientOf;
use crate::store::PrincipalId;

/// `GET /ui/`: the tokens when signed in, else the sign-in page.
pub async fn home(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let live = session_cookie(&headers).and_then(|cookie| state.ui.sessions.get(&cookie)).is_some();
    see_other(if live { "/ui/tokens" } else { "/ui/sign-in" })
}

/// `GET /ui/sign-in`
pub async fn form() -> Response {
    pages::sign_in(None).into_response()
}

/// `POST /ui/sign-in`
pub async fn sign_in(State(state): State<Arc<AppState>>, ClientOf(client): ClientOf, form: Form) -> Response {
    let token = form.field("token").to_owned();
    if token.is_empty() {
        return (StatusCode::UNAUTHORIZED, pages::sign_in(Some("Paste a token to sign in."))).into_response();
    }
    let caller = match caller_of(&state, Some(token.clone()), TOKEN_VIEW, user_node).await {
        Ok(caller) => caller,
        Err(denied) => {
            let message = format!("This token cannot sign in: {} ({}).", denied.message, denied.code);
            return (StatusCode::UNAUTHORIZED, pages::sign_in(Some(&message))).into_response();
        }
    };
    let by = Actor::Token(caller.token).from_client(client);
    let response = start(&state, caller.principal, &caller.name, Some(&token));
    if response.status() == StatusCode::SEE_OTHER {
        let _ = blocking(&state, move |a| {
            let event = a.event_by(&by, "session.sign-in", &format!("principal/{}", caller.name));
            a.record_event(&event.with_owner(caller.principal));
        })
        .await;
    }
    response
}

/// `GET /ui/sign-in/link`
pub async fn link_form() -> Response {
    pages::sign_in_link(None).into_response()
}

/// `POST /ui/sign-in/link`: uses a one-time link; the session acts with the
/// principal's own rights.
pub async fn sign_in_link(State(state): State<Arc<AppState>>, ClientOf(client): ClientOf, form: Form) -> Response {
    let code = form.field("code").to_owned();
    let refused = || {
        let message = "This link does not work: it is unknown, used or expired. Ask for a new one.";
        (StatusCode::UNAUTHORIZED, pages::sign_in_link(Some(message))).into_response()
    };
    let principal = match blocking(&state, move |a| a.use_sign_in_link(&code, client)).await {
        Ok(Ok(Some(principal))) => principal,
        Ok(Ok(None)) | Ok(Err(_)) => return refused(),
        Err(_) => return (StatusCode::SERVICE_UNAVAILABLE, pages::sign_in_link(Some("Try again."))).into_response(),
    };
    start(&state, principal.id, &principal.name, None)
}

/// A new session's cookie, and on to the tokens; 503 when no session can be
/// kept now (the server holds as many as it may: nobody else is signed out).
fn start(state: &AppState, principal: PrincipalId, owner: &str, secret: Option<&str>) -> Response {
    let cookie = match state.ui.sessions.start(principal, owner, secret) {
        Ok(cookie) => cookie,
        Err(why) => {
            let message = match why {
                StartError::Full => "The server holds as many sessions as it may; try again later.",
                StartError::Random => "No session could be made; try again.",
            };
            return (StatusCode::SERVICE_UNAVAILABLE, pages::sign_in(Some(message))).into_response();
        }
    };
    let mut response = see_other("/ui/tokens");
    let set = super::guard::set_cookie(&cookie, state.ui.sessions.max_age().as_secs(), state.ui.secure_cookies);
    if let Ok(value) = set.parse() {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `POST /ui/sign-out`
pub async fn sign_out(State(state): State<Arc<AppState>>, visitor: Visitor, form: Form) -> Page {
    let signed = visitor.may_post(&state, TOKEN_VIEW, &Whose::Own, &form).await?;
    state.ui.sessions.end(&signed.cookie);
    let by = signed.actor.clone();
    let _ = blocking(&state, move |a| a.record_sign_out(&by)).await;
    Ok(to_sign_in(&state))
}
