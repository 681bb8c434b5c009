//! The administration API: principals (list, add, bind, unbind, remove) for
//! callers holding `system.principals:view` / `system.principals:edit` on the
//! root, and another principal's tokens (list, create, edit, reissue, revoke,
//! delete) for callers holding `user.token:*` on `user/<name>`, decided by the
//! policy like the account API, whose token handlers serve both.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::api::{Ending, create_token_for, edit_token_of, end_token_of, list_tokens_of, parse_json};
use super::api_caller::{Presented, Whose};
use super::api_error::{ApiError, ApiResult};
use super::blocking::run;
use crate::authority::bindings_from_texts;
use crate::store::{Binding, Principal};

use crate::authority::actions::{PRINCIPALS_EDIT as EDIT, PRINCIPALS_VIEW as VIEW};

/// `POST /api/principals`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddBody {
    /// The new principal's name.
    pub name: String,
    /// `RESOURCE=ACCESS` rights.
    #[serde(default)]
    pub grants: Vec<String>,
    /// `ROLE` or `ROLE@RESOURCE`.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// Bindings to add or remove.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingsBody {
    /// `RESOURCE=ACCESS` rights.
    #[serde(default)]
    pub grants: Vec<String>,
    /// `ROLE` or `ROLE@RESOURCE` (the root when no resource is given).
    #[serde(default)]
    pub roles: Vec<String>,
}

/// A principal as the API shows it.
#[derive(Serialize)]
struct PrincipalView<'a> {
    id: i64,
    name: &'a str,
    created_at: u64,
    bindings: Vec<String>,
}

fn view(p: &Principal) -> PrincipalView<'_> {
    PrincipalView {
        id: p.id.get(),
        name: &p.name,
        created_at: p.created_at.secs(),
        bindings: p.bindings.iter().map(Binding::to_text).collect(),
    }
}

fn root() -> String {
    "/".to_owned()
}

/// The bindings a body names: grants that parse, roles the config defines.
fn bindings(state: &AppState, body: &BindingsBody) -> ApiResult<Vec<Binding>> {
    Ok(bindings_from_texts(&body.grants, &body.roles, &state.authority.config().roles)?)
}

/// `GET /api/principals`
pub async fn list(State(state): State<Arc<AppState>>, presented: Presented) -> ApiResult {
    presented.at(&state, VIEW, root()).await?;
    let principals = run(&state, |a| a.principals()).await?;
    Ok(Json(principals.iter().map(view).collect::<Vec<_>>()).into_response())
}

/// `POST /api/principals`
pub async fn add(
    State(state): State<Arc<AppState>>,
    presented: Presented,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let caller = presented.at(&state, EDIT, root()).await?;
    let body: AddBody = parse_json(&headers, &body)?;
    let bindings = bindings(&state, &BindingsBody { grants: body.grants, roles: body.roles })?;
    let actor = caller.actor();
    let principal = run(&state, move |a| a.add_principal(actor, &body.name, &bindings)).await?;
    Ok((StatusCode::CREATED, Json(view(&principal))).into_response())
}

/// `POST /api/principals/{name}/bind` and `/unbind`
async fn rebind(
    state: &Arc<AppState>,
    presented: Presented,
    headers: &HeaderMap,
    name: String,
    body: &Bytes,
    bind: bool,
) -> ApiResult {
    let caller = presented.at(state, EDIT, root()).await?;
    let body: BindingsBody = parse_json(headers, body)?;
    let bindings = bindings(state, &body)?;
    if bindings.is_empty() {
        return Err(ApiError::invalid("name at least one grant or role"));
    }
    let actor = caller.actor();
    let principal =
        run(state, move |a| if bind { a.bind(actor, &name, &bindings) } else { a.unbind(actor, &name, &bindings) })
            .await?;
    Ok(Json(view(&principal)).into_response())
}

/// `POST /api/principals/{name}/bind`
pub async fn bind(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    presented: Presented,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    rebind(&state, presented, &headers, name, &body, true).await
}

/// `POST /api/principals/{name}/unbind`
pub async fn unbind(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    presented: Presented,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    rebind(&state, presented, &headers, name, &body, false).await
}

/// `DELETE /api/principals/{name}`: the principal and every token it owns.
pub async fn remove(State(state): State<Arc<AppState>>, Path(name): Path<String>, presented: Presented) -> ApiResult {
    let actor = presented.at(&state, EDIT, root()).await?.actor();
    let removed = run(&state, move |a| a.remove_principal(actor, &name)).await?;
    state.ui.sessions.end_principal(removed.id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/principals/{name}/tokens`
pub async fn list_tokens(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    presented: Presented,
) -> ApiResult {
    list_tokens_of(&state, presented, Whose::Of(name)).await
}

/// `POST /api/principals/{name}/tokens`
pub async fn create_token(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    presented: Presented,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    create_token_for(&state, presented, &headers, &body, Whose::Of(name)).await
}

/// `PATCH /api/principals/{name}/tokens/{id}`
pub async fn edit_token(
    State(state): State<Arc<AppState>>,
    Path((name, id)): Path<(String, String)>,
    presented: Presented,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    edit_token_of(&state, &id, presented, &headers, &body, Whose::Of(name)).await
}

/// `DELETE /api/principals/{name}/tokens/{id}`
pub async fn delete_token(
    State(state): State<Arc<AppState>>,
    Path((name, id)): Path<(String, String)>,
    presented: Presented,
) -> ApiResult {
    end_token_of(&state, &id, presented, Whose::Of(name), Ending::Delete).await
}

/// `POST /api/principals/{name}/tokens/{id}/revoke`
pub async fn revoke_token(
    State(state): State<Arc<AppState>>,
    Path((name, id)): Path<(String, String)>,
    presented: Presented,
) -> ApiResult {
    end_token_of(&state, &id, presented, Whose::Of(name), Ending::Revoke).await
}
