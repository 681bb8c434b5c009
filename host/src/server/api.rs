//! The management API (psm's "Managing tokens via the API", plus what the CLI
//! can do). Callers authenticate with their own token; every operation is a
//! policy decision on `user.token:view` or `user.token:edit` over `user/<owner>`
//! (the caller's own under `/api/account/`, a named principal's under
//! `/api/principals/{name}/`), and issuing goes through the policy's issuance
//! check like the CLI.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::AppState;
use super::api_body::{CreateBody, EditBody, TokenView};
use super::api_caller::{Presented, Whose};
use super::api_error::{ApiError, ApiResult};
use super::blocking::run;
use crate::authority::actions::{TOKEN_EDIT, TOKEN_VIEW};
use crate::authority::{Authority, Expiry, IssueRequest, LifecycleError, TokenChange};
use crate::config::{RoleConfig, parse_duration};
use crate::contract::Grants;
use crate::grant_text::{grants_from_texts, parse_grant};
use crate::store::TokenId;
use crate::time::UnixTime;

/// The JSON body of a request, which must say `application/json`.
pub(super) fn parse_json<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> ApiResult<T> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")));
    if !json {
        return Err(ApiError::Refused {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported-media-type",
            message: "send `application/json`".into(),
        });
    }
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

fn expiry_of(expires_at: Option<&str>, ttl: Option<&str>, no_expiry: bool) -> ApiResult<Option<Expiry>> {
    match (expires_at, ttl, no_expiry) {
        (None, None, false) => Ok(None),
        (Some(at), None, false) => {
            UnixTime::parse(at).map(|t| Some(Expiry::At(t))).map_err(|e| ApiError::invalid(format!("{e:#}")))
        }
        (None, Some(ttl), false) => {
            parse_duration(ttl).map(|d| Some(Expiry::Ttl(d))).map_err(|e| ApiError::invalid(format!("{e:#}")))
        }
        (None, None, true) => Ok(Some(Expiry::Never)),
        _ => Err(ApiError::invalid("give at most one of `expires_at`, `ttl` and `no_expiry`")),
    }
}

/// The grants a create body asks for: exactly one of `scopes`, `resources` and
/// `role` (with `role_at` only beside `role`), none of them empty.
fn requested_grants(roles: &BTreeMap<String, RoleConfig>, body: &CreateBody) -> ApiResult<Grants> {
    let listed = |what: &str, list: &Option<Vec<String>>| match list {
        Some(list) if list.is_empty() => Err(ApiError::invalid(format!("`{what}` is empty: leave it out or name one"))),
        _ => Ok(list.clone()),
    };
    let (scopes, resources) = (listed("scopes", &body.scopes)?, listed("resources", &body.resources)?);
    match (&body.role, scopes, resources) {
        (Some(role), None, None) => {
            let def = roles.get(role).ok_or_else(|| ApiError::invalid(format!("no role `{role}`")))?;
            let at = body.role_at.as_deref().unwrap_or("/");
            if at.is_empty() {
                return Err(ApiError::invalid("`role_at` is empty: leave it out for the root"));
            }
            let grant =
                parse_grant(&format!("{at}={}", def.access)).map_err(|e| ApiError::invalid(format!("{e:#}")))?;
            Ok(Grants::Resources(vec![grant]))
        }
        (None, scopes, resources) if body.role_at.is_none() => {
            grants_from_texts(&scopes.unwrap_or_default(), &resources.unwrap_or_default())
                .map_err(|e| ApiError::invalid(format!("{e:#}")))
        }
        (None, ..) => Err(ApiError::invalid("`role_at` goes only with `role`")),
        (Some(_), ..) => Err(ApiError::invalid("give a role, or scopes, or resources: one of them")),
    }
}

fn token_id(text: &str) -> ApiResult<TokenId> {
    text.parse::<TokenId>().map_err(|_| ApiError::bad_request("token ids are integers"))
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
pub async fn list_scopes(State(state): State<Arc<AppState>>, presented: Presented) -> ApiResult {
    presented.own(&state, TOKEN_VIEW).await?;
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
    Ok(Json(json!({"policy": state.authority.module().info().name, "scopes": catalog})).into_response())
}

/// `GET /api/account/tokens`: the caller's tokens, without secrets.
pub async fn list_tokens(State(state): State<Arc<AppState>>, presented: Presented) -> ApiResult {
    list_tokens_of(&state, presented, Whose::Own).await
}

/// The tokens of `whose`, without secrets.
pub(super) async fn list_tokens_of(state: &Arc<AppState>, presented: Presented, whose: Whose) -> ApiResult {
    let (_, owner) = presented.on_tokens_of(state, TOKEN_VIEW, whose).await?;
    let tokens = run(state, move |a| a.tokens(Some(&a.principal(&owner)?))).await?;
    Ok(Json(tokens.iter().map(|t| TokenView { token: t, secret: None }).collect::<Vec<_>>()).into_response())
}

/// `POST /api/account/tokens`: creates a token for the caller; the secret is in this answer only.
pub async fn create_token(
    State(state): State<Arc<AppState>>,
    presented: Presented,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    create_token_for(&state, presented, &headers, &body, Whose::Own).await
}

/// Creates a token for `whose`. One made for someone else stays within the
/// owner's rights, the asking token's grants and its creator's current rights.
pub(super) async fn create_token_for(
    state: &Arc<AppState>,
    presented: Presented,
    headers: &HeaderMap,
    body: &Bytes,
    whose: Whose,
) -> ApiResult {
    let (caller, owner) = presented.on_tokens_of(state, TOKEN_EDIT, whose).await?;
    let body: CreateBody = parse_json(headers, body)?;
    let grants = requested_grants(&state.authority.config().roles, &body)?;
    let expiry = expiry_of(body.expires_at.as_deref(), body.ttl.as_deref(), body.no_expiry)?.unwrap_or(Expiry::Default);
    let request =
        IssueRequest { owner, name: body.name, description: body.description, expiry, grants, exchange: None };
    let actor = caller.actor();
    let issued = run(state, move |a| a.create_token(actor, &request)).await?;
    let view = TokenView { token: &issued.record, secret: Some(issued.secret.expose()) };
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// `PATCH /api/account/tokens/{id}`: rename, describe, change expiry, or reissue.
pub async fn edit_token(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    presented: Presented,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    edit_token_of(&state, &id, presented, &headers, &body, Whose::Own).await
}

/// Changes token `id` of `whose`.
pub(super) async fn edit_token_of(
    state: &Arc<AppState>,
    id: &str,
    presented: Presented,
    headers: &HeaderMap,
    body: &Bytes,
    whose: Whose,
) -> ApiResult {
    let (caller, owner) = presented.on_tokens_of(state, TOKEN_EDIT, whose).await?;
    let id = token_id(id)?;
    let body: EditBody = parse_json(headers, body)?;
    let expiry = expiry_of(body.expires_at.as_deref(), body.ttl.as_deref(), body.no_expiry)?;
    let change = TokenChange { name: body.name, description: body.description, expiry, reissue: body.reissue };
    let actor = caller.actor();
    let (record, secret) = run(state, move |a| a.change_token(actor, id, Some(&owner), change)).await?;
    Ok(Json(TokenView { token: &record, secret: secret.as_ref().map(|s| s.expose()) }).into_response())
}

/// What ends a token's use: revoking it (kept, refused from now on) or deleting it.
#[derive(Clone, Copy)]
pub(super) enum Ending {
    /// `POST .../revoke`: answers the revoked token.
    Revoke,
    /// `DELETE`: answers 204.
    Delete,
}

/// `DELETE /api/account/tokens/{id}`
pub async fn delete_token(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    presented: Presented,
) -> ApiResult {
    end_token_of(&state, &id, presented, Whose::Own, Ending::Delete).await
}

/// `POST /api/account/tokens/{id}/revoke` (venafi: a client revokes its own token when done).
pub async fn revoke_token(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    presented: Presented,
) -> ApiResult {
    end_token_of(&state, &id, presented, Whose::Own, Ending::Revoke).await
}

/// Revokes or deletes token `id` of `whose`.
pub(super) async fn end_token_of(
    state: &Arc<AppState>,
    id: &str,
    presented: Presented,
    whose: Whose,
    ending: Ending,
) -> ApiResult {
    let (caller, owner) = presented.on_tokens_of(state, TOKEN_EDIT, whose).await?;
    let id = token_id(id)?;
    let actor = caller.actor();
    Ok(match ending {
        Ending::Delete => {
            run(state, move |a| a.delete_token(actor, id, Some(&owner))).await?;
            StatusCode::NO_CONTENT.into_response()
        }
        Ending::Revoke => {
            let record = run(state, move |a| a.revoke_token(actor, id, Some(&owner))).await?;
            Json(TokenView { token: &record, secret: None }).into_response()
        }
    })
}
