//! The administration API: principals (list, add, bind, unbind, remove) for
//! callers holding `system.principals:view` / `system.principals:edit` on the
//! root, and another principal's tokens (list, create, edit, reissue, revoke,
//! delete) for callers holding `user.token:*` on `user/<name>`, decided by the
//! policy like the account API, whose token handlers serve both.

// Handlers return early with a finished `Response` as the error (as in api.rs).
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::api::{
    Whose, authorize_at, blocking, create_token_for, delete_token_of, edit_token_of, list_tokens_of, parse_json,
    revoke_token_of,
};
use super::error::{json_error, lifecycle_error};
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

fn unprocessable(message: &str) -> Response {
    json_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
}

/// The bindings a body names: grants that parse, roles the config defines.
fn bindings(state: &AppState, body: &BindingsBody) -> Result<Vec<Binding>, Response> {
    bindings_from_texts(&body.grants, &body.roles, &state.authority.config().roles).map_err(lifecycle_error)
}

fn answer(
    result: Result<Result<Principal, crate::authority::LifecycleError>, Response>,
    status: StatusCode,
) -> Response {
    match result {
        Ok(Ok(principal)) => (status, Json(view(&principal))).into_response(),
        Ok(Err(err)) => lifecycle_error(err),
        Err(response) => response,
    }
}

/// `GET /api/principals`
pub async fn list(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(response) = authorize_at(&state, &headers, VIEW, root()).await {
        return response;
    }
    match blocking(&state, |a| a.principals()).await {
        Ok(Ok(principals)) => Json(principals.iter().map(view).collect::<Vec<_>>()).into_response(),
        Ok(Err(err)) => lifecycle_error(err),
        Err(response) => response,
    }
}

/// `POST /api/principals`
pub async fn add(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let caller = match authorize_at(&state, &headers, EDIT, root()).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let body: AddBody = match parse_json(&headers, &body) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let bindings = match bindings(&state, &BindingsBody { grants: body.grants, roles: body.roles }) {
        Ok(bindings) => bindings,
        Err(response) => return response,
    };
    let actor = caller.actor();
    answer(blocking(&state, move |a| a.add_principal(actor, &body.name, &bindings)).await, StatusCode::CREATED)
}

/// `POST /api/principals/{name}/bind` and `/unbind`
async fn rebind(state: &Arc<AppState>, headers: &HeaderMap, name: String, body: &Bytes, bind: bool) -> Response {
    let caller = match authorize_at(state, headers, EDIT, root()).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let body: BindingsBody = match parse_json(headers, body) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let bindings = match bindings(state, &body) {
        Ok(bindings) if !bindings.is_empty() => bindings,
        Ok(_) => return unprocessable("name at least one grant or role"),
        Err(response) => return response,
    };
    let actor = caller.actor();
    let done = blocking(
        state,
        move |a| {
            if bind { a.bind(actor, &name, &bindings) } else { a.unbind(actor, &name, &bindings) }
        },
    );
    answer(done.await, StatusCode::OK)
}

/// `POST /api/principals/{name}/bind`
pub async fn bind(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    rebind(&state, &headers, name, &body, true).await
}

/// `POST /api/principals/{name}/unbind`
pub async fn unbind(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    rebind(&state, &headers, name, &body, false).await
}

/// `DELETE /api/principals/{name}`: the principal and every token it owns.
pub async fn remove(State(state): State<Arc<AppState>>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    let caller = match authorize_at(&state, &headers, EDIT, root()).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let actor = caller.actor();
    match blocking(&state, move |a| a.remove_principal(actor, &name)).await {
        Ok(Ok(removed)) => {
            state.ui.sessions.end_principal(removed.id);
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(Err(err)) => lifecycle_error(err),
        Err(response) => response,
    }
}

/// `GET /api/principals/{name}/tokens`
pub async fn list_tokens(State(state): State<Arc<AppState>>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    list_tokens_of(&state, &headers, Whose::Of(name)).await
}

/// `POST /api/principals/{name}/tokens`
pub async fn create_token(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create_token_for(&state, &headers, &body, Whose::Of(name)).await
}

/// `PATCH /api/principals/{name}/tokens/{id}`
pub async fn edit_token(
    State(state): State<Arc<AppState>>,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    edit_token_of(&state, &id, &headers, &body, Whose::Of(name)).await
}

/// `DELETE /api/principals/{name}/tokens/{id}`
pub async fn delete_token(
    State(state): State<Arc<AppState>>,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    delete_token_of(&state, &id, &headers, Whose::Of(name)).await
}

/// `POST /api/principals/{name}/tokens/{id}/revoke`
pub async fn revoke_token(
    State(state): State<Arc<AppState>>,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    revoke_token_of(&state, &id, &headers, Whose::Of(name)).await
}
