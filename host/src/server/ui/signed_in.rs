//! Who is asking, for every page but sign-in: the session of the cookie, and
//! the page's action decided again on every request. A session opened with a
//! token is decided exactly as the API decides that token (so it dies with the
//! token: revoked, reissued, expired, or its owner without the right); one
//! opened with a one-time link is decided on the principal's own rights. Forms
//! must carry the session's CSRF token. Two extractors: the `Visitor` (the
//! session of the cookie) and the `Form` (a form body's fields); a page handler
//! returns a `Page` and reads top to bottom with `?`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::guard::{clear_cookie, see_other, session_cookie};
use super::pages::{self, Viewer};
use super::session::{Session, csrf_matches};
use crate::audit::Client;
use crate::authority::actions::{TOKEN_VIEW, user_node};
use crate::authority::{Acted, Actor};
use crate::server::AppState;
use crate::server::api_caller::caller_of;
use crate::server::api_error::Denied;
use crate::server::blocking::blocking;
use crate::server::client_info::client_of;
use crate::verdict::Verdict;

/// A signed-in request.
pub struct SignedIn {
    /// The session cookie's value.
    pub cookie: String,
    /// The session.
    pub session: Session,
    /// Who acts: the token the session was opened with (its grants and its
    /// owner's current rights bound what it does), or for a one-time link the
    /// principal itself (its own current rights); with where the request came from.
    pub actor: Acted,
    /// Whose tokens the request is about: the owner, or another principal.
    pub target: String,
    /// Where the target's token pages live.
    pub base: String,
}

impl SignedIn {
    /// What pages show of the person.
    pub fn viewer(&self) -> Viewer<'_> {
        Viewer { owner: &self.session.owner, csrf: &self.session.csrf, target: &self.target, base: &self.base }
    }
}

/// Whose tokens a page manages.
#[derive(Clone, Debug)]
pub enum Whose {
    /// The signed-in person's (`/ui/tokens`).
    Own,
    /// Principal `name`'s (`/ui/principals/{name}/tokens`), for those holding
    /// `user.token:*` on `user/<name>`.
    Of(String),
}

/// Back to the sign-in page, the cookie cleared.
pub fn to_sign_in(state: &AppState) -> Response {
    let mut response = see_other("/ui/sign-in");
    if let Ok(value) = clear_cookie(state.ui.secure_cookies).parse() {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// Decides `action` on `node_of(owner)` for the session: its token as the API
/// would, or the principal itself (by id: a new principal of the same name is
/// someone else). The session's actor.
async fn decide(
    state: &Arc<AppState>,
    session: &Session,
    action: &'static str,
    node: Option<String>,
) -> Result<Actor, Denied> {
    let node_of = move |owner: &str| node.clone().unwrap_or_else(|| user_node(owner));
    if let Some(secret) = &session.secret {
        let caller = caller_of(state, Some(secret.expose().to_owned()), action, node_of).await?;
        if caller.principal != session.principal {
            return Err(Denied {
                status: StatusCode::UNAUTHORIZED,
                code: "unknown-token",
                message: "not yours".into(),
            });
        }
        return Ok(Actor::Token(caller.token));
    }
    let (principal, node) = (session.principal, node_of(&session.owner));
    let unavailable =
        || Denied { status: StatusCode::SERVICE_UNAVAILABLE, code: "unavailable", message: "try again".into() };
    match blocking(state, move |a| a.person_may(principal, action, &node)).await {
        Ok(Ok(Verdict::Allow { .. })) => Ok(Actor::Person(principal)),
        Ok(Ok(Verdict::Deny { code, message })) => Err(Denied {
            status: crate::server::error::status_of(code),
            code: code.as_str(),
            message: message.to_string(),
        }),
        Ok(Err(crate::authority::LifecycleError::NotFound(what))) => {
            Err(Denied { status: StatusCode::UNAUTHORIZED, code: "unknown-token", message: format!("{what} is gone") })
        }
        Ok(Err(_)) | Err(_) => Err(unavailable()),
    }
}

/// What a page handler answers: the page, or (from a `?`) the sign-in page or a refusal.
pub type Page = Result<Response, PageRefusal>;

/// A page's refusal: the finished answer (the sign-in page, a 403 or 404
/// page), boxed so that every `Result` that carries one stays small.
pub struct PageRefusal(Box<Response>);

impl From<Response> for PageRefusal {
    fn from(response: Response) -> PageRefusal {
        PageRefusal(Box::new(response))
    }
}

impl IntoResponse for PageRefusal {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// The session a request's cookie names, read by the one extractor of every
/// page but sign-in. Without a live session the request gets the sign-in page.
#[derive(Clone)]
pub struct Visitor {
    cookie: String,
    session: Session,
    client: Option<Client>,
}

impl FromRequestParts<Arc<AppState>> for Visitor {
    type Rejection = PageRefusal;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Visitor, PageRefusal> {
        let Some(cookie) = session_cookie(&parts.headers) else { return Err(to_sign_in(state).into()) };
        let Some(session) = state.ui.sessions.get(&cookie) else { return Err(to_sign_in(state).into()) };
        Ok(Visitor { cookie, session, client: client_of(parts) })
    }
}

impl Visitor {
    /// The signed-in person allowed `action` on `node` (none: their own
    /// `user/<name>`). When the session may no longer even view its own tokens:
    /// the session ends (the sign-in page). When only `action` is refused: a
    /// 403 page with the policy's reason.
    pub async fn may(
        self,
        state: &Arc<AppState>,
        action: &'static str,
        node: Option<String>,
    ) -> Result<SignedIn, PageRefusal> {
        let Visitor { cookie, session, client } = self;
        let own_view = action == TOKEN_VIEW && node.is_none();
        match decide(state, &session, action, node).await {
            Ok(actor) => {
                let target = session.owner.clone();
                let actor = actor.from_client(client);
                Ok(SignedIn { target, base: "/ui/tokens".into(), cookie, session, actor })
            }
            Err(denied) => {
                let still_valid = !own_view
                    && denied.status == StatusCode::FORBIDDEN
                    && decide(state, &session, TOKEN_VIEW, None).await.is_ok();
                if !still_valid {
                    state.ui.sessions.end(&cookie);
                    return Err(to_sign_in(state).into());
                }
                let viewer =
                    Viewer { owner: &session.owner, csrf: &session.csrf, target: &session.owner, base: "/ui/tokens" };
                let message = format!("{} ({})", denied.message, denied.code);
                Err((StatusCode::FORBIDDEN, pages::refusal(Some(&viewer), "Not allowed", &message))
                    .into_response()
                    .into())
            }
        }
    }

    /// `action` on the tokens of `whose`: the person's own, or `user/<name>`'s.
    pub async fn may_for(
        self,
        state: &Arc<AppState>,
        action: &'static str,
        whose: &Whose,
    ) -> Result<SignedIn, PageRefusal> {
        match whose {
            Whose::Own => self.may(state, action, None).await,
            Whose::Of(name) => {
                let mut signed = self.may(state, action, Some(user_node(name))).await?;
                signed.target.clone_from(name);
                signed.base = format!("/ui/principals/{name}/tokens");
                Ok(signed)
            }
        }
    }

    /// Like `may_for`, for a posted form: decided first, then its `csrf` field
    /// must be the session's.
    pub async fn may_post(
        self,
        state: &Arc<AppState>,
        action: &'static str,
        whose: &Whose,
        form: &Form,
    ) -> Result<SignedIn, PageRefusal> {
        let signed = self.may_for(state, action, whose).await?;
        form.check_csrf(&signed)?;
        Ok(signed)
    }
}

/// The fields of an `application/x-www-form-urlencoded` body, in order (the
/// body's limit and errors are the framework's, as for any body).
pub struct Form(Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = PageRefusal;

    async fn from_request(request: Request, state: &S) -> Result<Form, PageRefusal> {
        let body = Bytes::from_request(request, state).await.map_err(|e| PageRefusal::from(e.into_response()))?;
        Ok(Form(form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()))
    }
}

impl Form {
    /// Every field, in order.
    pub fn fields(&self) -> &[(String, String)] {
        &self.0
    }

    /// The first value of field `name`, trimmed.
    pub fn field(&self, name: &str) -> &str {
        field(&self.0, name)
    }

    /// Whether the form carries the session's CSRF token; the refusal page if not.
    pub fn check_csrf(&self, signed: &SignedIn) -> Result<(), PageRefusal> {
        let sent = self.0.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str());
        if csrf_matches(&signed.session, sent) {
            return Ok(());
        }
        let viewer = signed.viewer();
        let message = "The form's CSRF token is missing or wrong: reload the page and try again.";
        Err((StatusCode::FORBIDDEN, pages::refusal(Some(&viewer), "Form expired", message)).into_response().into())
    }
}

/// The first value of field `name`, trimmed.
pub fn field<'f>(form: &'f [(String, String)], name: &str) -> &'f str {
    form.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim())
}
