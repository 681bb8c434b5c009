//! The management API (psm's "Managing tokens via the API", plus what the CLI
//! can do). Callers authenticate with their own token; every operation is a
//! policy decision on `user.token:view` or `user.token:edit` over `user/<owner>`
//! (the caller's own under `/api/account/`, a named principal's under
//! `/api/principals/{name}/`), and issuing goes through the policy's issuance
//! check like the CLI.

// Handlers return early with a finished `Response` as the error; it is built once
// on a failure path, so boxing it would only add an allocation.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::AppState;
use super::api_body::{CreateBody, EditBody, TokenView};
use super::error::{deny, json_error, lifecycle_error, status_of};
use crate::authority::actions::{TOKEN_EDIT, TOKEN_VIEW, user_node};
use crate::authority::{Actor, Authority, Expiry, IssueRequest, LifecycleError, TokenChange};
use crate::config::{RoleConfig, parse_duration};
use crate::contract::Grants;
use crate::grant_text::{grants_from_texts, parse_grant};
use crate::store::{PrincipalId, TokenId};
use crate::time::UnixTime;
use crate::verdict::Verdict;

/// The authenticated caller: its owner's name and id, and the token it presented.
pub(super) struct Caller {
    pub(super) name: String,
    pub(super) principal: PrincipalId,
    pub(super) token: TokenId,
}

impl Caller {
    /// The caller as the actor of an operation.
    pub(super) fn actor(&self) -> Actor {
        Actor::Token(self.token)
    }
}

/// Runs blocking authority work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    state: &Arc<AppState>,
    work: impl FnOnce(&Authority) -> T + Send + 'static,
) -> Result<T, Response> {
    let authority = Arc::clone(&state.authority);
    tokio::task::spawn_blocking(move || work(&authority))
        .await
        .map_err(|_| json_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the request could not be completed"))
}

/// Authenticates the caller and decides `action` on `user/<caller>`.
async fn authorize(state: &Arc<AppState>, headers: &HeaderMap, action: &'static str) -> Result<Caller, Response> {
    authorize_on(state, headers, action, user_node).await
}

/// Authenticates the caller and decides `action` on the resource `resource_of(caller)`.
pub(super) async fn authorize_on(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    action: &'static str,
    resource_of: impl Fn(&str) -> String + Send + 'static,
) -> Result<Caller, Response> {
    let secret = match tokenscope_request::presented_in_headers(&super::request_headers::HttpHeaders(headers)) {
        Ok(secret) => secret.map(|(secret, _)| secret.as_str().to_owned()),
        Err(refusal) => return Err(json_error(StatusCode::BAD_REQUEST, "bad-request", &refusal.message)),
    };
    caller_of(state, secret, action, resource_of).await.map_err(|denied| denied.response())
}

/// Authenticates the caller and decides `action` on the fixed `resource`.
pub(super) async fn authorize_at(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    action: &'static str,
    resource: String,
) -> Result<Caller, Response> {
    authorize_on(state, headers, action, move |_| resource.clone()).await
}

/// Why a caller was refused: the check's status, code and reason.
pub(super) struct Denied {
    pub(super) status: StatusCode,
    pub(super) code: &'static str,
    pub(super) message: String,
}

impl Denied {
    /// The API's answer for it.
    pub(super) fn response(&self) -> Response {
        deny(self.status, self.code, &self.message)
    }
}

/// Verifies `secret` for `action` on `resource_of(its owner)`, as every API
/// call and every page of the token UI does.
pub(super) async fn caller_of(
    state: &Arc<AppState>,
    secret: Option<String>,
    action: &'static str,
    resource_of: impl Fn(&str) -> String + Send + 'static,
) -> Result<Caller, Denied> {
    let verified = blocking(state, move |a| a.verify_for_owner(secret.as_deref(), action, &resource_of))
        .await
        .map_err(|_| Denied {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "unavailable",
            message: "the request could not be completed".into(),
        })?;
    match (verified.verdict, verified.owner, verified.owner_id, verified.token) {
        (Verdict::Allow { .. }, Some(name), Some(principal), Some(token)) => {
            Ok(Caller { name: name.to_string(), principal, token })
        }
        (Verdict::Deny { code, message }, ..) => {
            Err(Denied { status: status_of(code), code: code.as_str(), message: message.to_string() })
        }
        (Verdict::Allow { .. }, ..) => {
            Err(Denied { status: StatusCode::UNAUTHORIZED, code: "unknown-token", message: "no owner".into() })
        }
    }
}

/// Whose tokens a request manages.
pub(super) enum Whose {
    /// The caller's own (`/api/account/tokens`).
    Own,
    /// Principal `name`'s (`/api/principals/{name}/tokens`): `user.token:*` on `user/<name>`.
    Of(String),
}

/// Authorises `action` on the tokens of `whose`: the caller, and whose tokens they are.
pub(super) async fn authorize_tokens(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    action: &'static str,
    whose: Whose,
) -> Result<(Caller, String), Response> {
    match whose {
        Whose::Own => authorize(state, headers, action).await.map(|caller| {
            let owner = caller.name.clone();
            (caller, owner)
        }),
        Whose::Of(name) => {
            let caller = authorize_at(state, headers, action, user_node(&name)).await?;
            Ok((caller, name))
        }
    }
}

pub(super) fn parse_json<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Result<T, Response> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")));
    if !json {
        return Err(json_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send `application/json`",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| json_error(StatusCode::BAD_REQUEST, "bad-request", &format!("invalid JSON body: {e}")))
}

fn unprocessable(message: &str) -> Response {
    json_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
}

fn expiry_of(expires_at: Option<&str>, ttl: Option<&str>, no_expiry: bool) -> Result<Option<Expiry>, Response> {
    match (expires_at, ttl, no_expiry) {
        (None, None, false) => Ok(None),
        (Some(at), None, false) => {
            UnixTime::parse(at).map(|t| Some(Expiry::At(t))).map_err(|e| unprocessable(&format!("{e:#}")))
        }
        (None, Some(ttl), false) => {
            parse_duration(ttl).map(|d| Some(Expiry::Ttl(d))).map_err(|e| unprocessable(&format!("{e:#}")))
        }
        (None, None, true) => Ok(Some(Expiry::Never)),
        _ => Err(unprocessable("give at most one of `expires_at`, `ttl` and `no_expiry`")),
    }
}

/// The grants a create body asks for: exactly one of `scopes`, `resources` and
/// `role` (with `role_at` only beside `role`), none of them empty.
fn requested_grants(roles: &BTreeMap<String, RoleConfig>, body: &CreateBody) -> Result<Grants, Response> {
    let listed = |what: &str, list: &Option<Vec<String>>| match list {
        Some(list) if list.is_empty() => Err(unprocessable(&format!("`{what}` is empty: leave it out or name one"))),
        _ => Ok(list.clone()),
    };
    let (scopes, resources) = (listed("scopes", &body.scopes)?, listed("resources", &body.resources)?);
    match (&body.role, scopes, resources) {
        (Some(role), None, None) => {
            let def = roles.get(role).ok_or_else(|| unprocessable(&format!("no role `{role}`")))?;
            let at = body.role_at.as_deref().unwrap_or("/");
            if at.is_empty() {
                return Err(unprocessable("`role_at` is empty: leave it out for the root"));
            }
            let grant = parse_grant(&format!("{at}={}", def.access)).map_err(|e| unprocessable(&format!("{e:#}")))?;
            Ok(Grants::Resources(vec![grant]))
        }
        (None, scopes, resources) if body.role_at.is_none() => {
            grants_from_texts(&scopes.unwrap_or_default(), &resources.unwrap_or_default())
                .map_err(|e| unprocessable(&format!("{e:#}")))
        }
        (None, ..) => Err(unprocessable("`role_at` goes only with `role`")),
        (Some(_), ..) => Err(unprocessable("give a role, or scopes, or resources: one of them")),
    }
}

fn token_id(text: &str) -> Result<TokenId, Response> {
    text.parse::<TokenId>().map_err(|_| json_error(StatusCode::BAD_REQUEST, "bad-request", "token ids are integers"))
}

/// The caller's own token `id`, or 404 (another principal's token is not found either).
pub(super) fn own_token(a: &Authority, caller: &str, id: TokenId) -> Result<(), LifecycleError> {
    let token = a.token(id)?;
    if token.owner_name != caller {
        return Err(LifecycleError::NotFound(format!("token {id}")));
    }
    Ok(())
}

/// `GET /api/system/tokens`: the scopes and actions the loaded policy knows.
pub async fn list_scopes(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(response) = authorize(&state, &headers, TOKEN_VIEW).await {
        return response;
    }
    let catalog: Vec<_> = state
        .authority
        .module()
        .catalog()
        .iter()
        .map(|e| {
            json!({"action": e.action, "level": crate::contract::level_name(e.level), "targets": e.targets,
                   "on_parent": e.on_parent, "description": e.description})
        })
        .collect();
    Json(json!({"policy": state.authority.module().info().name, "scopes": catalog})).into_response()
}

/// `GET /api/account/tokens`: the caller's tokens, without secrets.
pub async fn list_tokens(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    list_tokens_of(&state, &headers, Whose::Own).await
}

/// The tokens of `whose`, without secrets.
pub(super) async fn list_tokens_of(state: &Arc<AppState>, headers: &HeaderMap, whose: Whose) -> Response {
    let (_, owner) = match authorize_tokens(state, headers, TOKEN_VIEW, whose).await {
        Ok(authorized) => authorized,
        Err(response) => return response,
    };
    let listed = blocking(state, move |a| {
        let principal = a.principal(&owner)?;
        a.tokens(Some(&principal))
    })
    .await;
    match listed {
        Ok(Ok(tokens)) => {
            Json(tokens.iter().map(|t| TokenView { token: t, secret: None }).collect::<Vec<_>>()).into_response()
        }
        Ok(Err(err)) => lifecycle_error(err),
        Err(response) => response,
    }
}

/// `POST /api/account/tokens`: creates a token for the caller; the secret is in this answer only.
pub async fn create_token(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    create_token_for(&state, &headers, &body, Whose::Own).await
}

/// Creates a token for `whose`. One made for someone else stays within the
/// owner's rights, the asking token's grants and its creator's current rights.
pub(super) async fn create_token_for(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    body: &Bytes,
    whose: Whose,
) -> Response {
    let (caller, owner) = match authorize_tokens(state, headers, TOKEN_EDIT, whose).await {
        Ok(authorized) => authorized,
        Err(response) => return response,
    };
    let body: CreateBody = match parse_json(headers, body) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let grants = match requested_grants(&state.authority.config().roles, &body) {
        Ok(grants) => grants,
        Err(response) => return response,
    };
    let expiry = match expiry_of(body.expires_at.as_deref(), body.ttl.as_deref(), body.no_expiry) {
        Ok(expiry) => expiry.unwrap_or(Expiry::Default),
        Err(response) => return response,
    };
    let request =
        IssueRequest { owner, name: body.name, description: body.description, expiry, grants, exchange: None };
    let actor = caller.actor();
    let made = blocking(state, move |a| a.create_token(actor, &request)).await;
    match made {
        Ok(Ok(issued)) => {
            let view = TokenView { token: &issued.record, secret: Some(issued.secret.expose()) };
            (StatusCode::CREATED, Json(view)).into_response()
        }
        Ok(Err(err)) => lifecycle_error(err),
        Err(response) => response,
    }
}

/// `PATCH /api/account/tokens/{id}`: rename, describe, change expiry, or reissue.
pub async fn edit_token(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    edit_token_of(&state, &id, &headers, &body, Whose::Own).await
}

/// Changes token `id` of `whose`.
pub(super) async fn edit_token_of(
    state: &Arc<AppState>,
    id: &str,
    headers: &HeaderMap,
    body: &Bytes,
    whose: Whose,
) -> Response {
    let (caller, owner) = match authorize_tokens(state, headers, TOKEN_EDIT, whose).await {
        Ok(authorized) => authorized,
        Err(response) => return response,
    };
    let (id, body): (TokenId, EditBody) = match token_id(id).and_then(|id| Ok((id, parse_json(headers, body)?))) {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let expiry = match expiry_of(body.expires_at.as_deref(), body.ttl.as_deref(), body.no_expiry) {
        Ok(expiry) => expiry,
        Err(response) => return response,
    };
    let change = TokenChange { name: body.name, description: body.description, expiry, reissue: body.reissue };
    let actor = caller.actor();
    let done = blocking(state, move |a| a.change_token(actor, id, Some(&owner), change)).await;
    match done {
        Ok(Ok((record, secret))) => {
            Json(TokenView { token: &record, secret: secret.as_ref().map(|s| s.expose()) }).into_response()
        }
        Ok(Err(err)) => lifecycle_error(err),
        Err(response) => response,
    }
}

/// `DELETE /api/account/tokens/{id}`
pub async fn delete_token(State(state): State<Arc<AppState>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    delete_token_of(&state, &id, &headers, Whose::Own).await
}

/// Deletes token `id` of `whose`.
pub(super) async fn delete_token_of(state: &Arc<AppState>, id: &str, headers: &HeaderMap, whose: Whose) -> Response {
    let (caller, owner) = match authorize_tokens(state, headers, TOKEN_EDIT, whose).await {
        Ok(authorized) => authorized,
        Err(response) => return response,
    };
    let id = match token_id(id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let actor = caller.actor();
    match blocking(state, move |a| a.delete_token(actor, id, Some(&owner))).await {
        Ok(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err(err)) => lifecycle_error(err),
        Err(response) => response,
    }
}

/// `POST /api/account/tokens/{id}/revoke` (venafi: a client revokes its own token when done).
pub async fn revoke_token(State(state): State<Arc<AppState>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    revoke_token_of(&state, &id, &headers, Whose::Own).await
}

/// Revokes token `id` of `whose`.
pub(super) async fn revoke_token_of(state: &Arc<AppState>, id: &str, headers: &HeaderMap, whose: Whose) -> Response {
    let (caller, owner) = match authorize_tokens(state, headers, TOKEN_EDIT, whose).await {
        Ok(authorized) => authorized,
        Err(response) => return response,
    };
    let id = match token_id(id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let actor = caller.actor();
    match blocking(state, move |a| a.revoke_token(actor, id, Some(&owner))).await {
        Ok(Ok(record)) => Json(TokenView { token: &record, secret: None }).into_response(),
        Ok(Err(err)) => lifecycle_error(err),
        Err(response) => response,
    }
}
