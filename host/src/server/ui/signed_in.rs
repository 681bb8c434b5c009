//! Who is asking, for every page but sign-in: the session of the cookie, its
//! token verified again for the page's action exactly as the API verifies a
//! presented token (so a session dies with its token: revoked, reissued,
//! expired, or its owner without the right), and the CSRF token of a form.

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::guard::{clear_cookie, session_cookie};
use super::pages::{self, Viewer};
use super::session::{Session, csrf_matches};
use crate::server::AppState;
use crate::server::api::{Caller, caller_of, user_node};

/// A signed-in request: its cookie, session and verified caller.
pub struct SignedIn {
    /// The session cookie's value.
    pub cookie: String,
    /// The session.
    pub session: Session,
    /// The token's owner and id, as the API knows a caller.
    pub caller: Caller,
}

impl SignedIn {
    /// What pages show of the person.
    pub fn viewer(&self) -> Viewer<'_> {
        Viewer { owner: &self.session.owner, csrf: &self.session.csrf }
    }
}

/// Back to the sign-in page, the cookie cleared.
pub fn to_sign_in(state: &AppState) -> Response {
    let mut response = Redirect::to("/ui/sign-in").into_response();
    if let Ok(value) = clear_cookie(state.ui.secure_cookies).parse() {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The signed-in person allowed `action` on their `user/<name>` node. Without a
/// live session: the sign-in page. When the token no longer verifies (at all,
/// for viewing): the session ends. When only `action` is refused: a 403 page
/// with the policy's reason.
pub async fn signed_in(state: &Arc<AppState>, headers: &HeaderMap, action: &'static str) -> Result<SignedIn, Response> {
    let Some(cookie) = session_cookie(headers) else { return Err(to_sign_in(state)) };
    let Some(session) = state.ui.sessions.get(&cookie) else { return Err(to_sign_in(state)) };
    let secret = Some(session.secret.expose().to_owned());
    match caller_of(state, secret.clone(), action, user_node).await {
        Ok(caller) if caller.name == session.owner => Ok(SignedIn { cookie, session, caller }),
        Ok(_) => {
            state.ui.sessions.end(&cookie);
            Err(to_sign_in(state))
        }
        Err(denied) => {
            let still_valid = action != "user.token:view"
                && denied.status == StatusCode::FORBIDDEN
                && caller_of(state, secret, "user.token:view", user_node).await.is_ok();
            if !still_valid {
                state.ui.sessions.end(&cookie);
                return Err(to_sign_in(state));
            }
            let viewer = Viewer { owner: &session.owner, csrf: &session.csrf };
            let message = format!("{} ({})", denied.message, denied.code);
            Err((StatusCode::FORBIDDEN, pages::refusal(Some(&viewer), "Not allowed", &message)).into_response())
        }
    }
}

/// Like `signed_in`, for a form: its `csrf` field must be the session's.
pub async fn signed_in_form(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    action: &'static str,
    form: &[(String, String)],
) -> Result<SignedIn, Response> {
    let signed = signed_in(state, headers, action).await?;
    let sent = form.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str());
    if !csrf_matches(&signed.session, sent) {
        let viewer = signed.viewer();
        let page = pages::refusal(
            Some(&viewer),
            "Form expired",
            "The form's CSRF token is missing or wrong: reload the page and try again.",
        );
        return Err((StatusCode::FORBIDDEN, page).into_response());
    }
    Ok(signed)
}

/// The fields of an `application/x-www-form-urlencoded` body, in order.
pub fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// The first value of field `name`, trimmed.
pub fn field<'f>(form: &'f [(String, String)], name: &str) -> &'f str {
    form.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim())
}
