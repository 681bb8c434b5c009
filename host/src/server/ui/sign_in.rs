//! Signing in and out of the token page: a pasted token is verified for
//! `user.token:view` on its owner's node, as the API would, and starts a
//! server-side session (`HttpOnly`, `SameSite=Strict` cookie, `Secure` behind
//! https); signing out ends it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::guard::session_cookie;
use super::pages;
use super::signed_in::{field, form_fields, signed_in_form, to_sign_in};
use crate::server::AppState;
use crate::server::api::{caller_of, user_node};

/// `GET /ui/`: the tokens when signed in, else the sign-in page.
pub async fn home(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let live = session_cookie(&headers).and_then(|cookie| state.ui.sessions.get(&cookie)).is_some();
    Redirect::to(if live { "/ui/tokens" } else { "/ui/sign-in" }).into_response()
}

/// `GET /ui/sign-in`
pub async fn form() -> Response {
    pages::sign_in(None).into_response()
}

/// `POST /ui/sign-in`
pub async fn sign_in(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let fields = form_fields(&body);
    let token = field(&fields, "token").to_owned();
    if token.is_empty() {
        return (StatusCode::UNAUTHORIZED, pages::sign_in(Some("Paste a token to sign in."))).into_response();
    }
    let caller = match caller_of(&state, Some(token.clone()), "user.token:view", user_node).await {
        Ok(caller) => caller,
        Err(denied) => {
            let message = format!("This token cannot sign in: {} ({}).", denied.message, denied.code);
            return (StatusCode::UNAUTHORIZED, pages::sign_in(Some(&message))).into_response();
        }
    };
    let Some(cookie) = state.ui.sessions.start(&caller.name, &token) else {
        return (StatusCode::SERVICE_UNAVAILABLE, pages::sign_in(Some("No session could be made; try again.")))
            .into_response();
    };
    let mut response = Redirect::to("/ui/tokens").into_response();
    let set = super::guard::set_cookie(&cookie, state.ui.sessions.max_age().as_secs(), state.ui.secure_cookies);
    if let Ok(value) = set.parse() {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `POST /ui/sign-out`
pub async fn sign_out(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = form_fields(&body);
    match signed_in_form(&state, &headers, "user.token:view", &fields).await {
        Ok(signed) => {
            state.ui.sessions.end(&signed.cookie);
            to_sign_in(&state)
        }
        Err(response) => response,
    }
}
