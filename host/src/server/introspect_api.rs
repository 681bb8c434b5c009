//! The endpoints for gateways that decide inside a proxy (the `wasi:http`
//! gateway): `POST /v1/introspect` answers a stored token's grants, owner
//! rights and state for the SHA-256 of its secret (never the secret itself), and
//! `GET /v1/revocations?since=CURSOR` the change feed that says which cached
//! answers to drop (without `since`: its newest cursor, where a reader starts).
//! Both need `system.tokens:introspect` on the root; the answers' shapes are
//! `tokenscope_wasm_gateway`'s wire types, the ones the gateway reads.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokenscope_wasm_gateway::{FeedPage, Introspection, TokenData, WireGrants};

use super::AppState;
use super::api::parse_json;
use super::api_caller::Presented;
use super::api_error::{ApiError, ApiResult};
use super::blocking::run;
use crate::authority::{Introspected, MAX_CHANGES};
use crate::grant_text::print_grant;
use crate::secret::SecretHash;
use crate::store::StoredGrants;
use crate::time::UnixTime;

/// The introspection action; a gateway's token holds it.
const INTROSPECT: &str = "system.tokens:introspect";

fn root() -> String {
    "/".to_owned()
}

/// `POST /v1/introspect` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntrospectBody {
    /// The SHA-256 of the presented secret, 64 hex digits.
    pub sha256: String,
}

/// `GET /v1/revocations` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// The cursor of the last read; none for the newest (where a reader that
    /// has cached nothing starts).
    #[serde(default)]
    pub since: Option<u64>,
    /// The most changes to return (1 to `MAX_CHANGES`).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// `private`: the answer is token data for the one gateway that asked, never for a shared cache.
fn max_age(response: &mut Response, age: std::time::Duration) {
    if let Ok(value) = HeaderValue::from_str(&format!("private, max-age={}", age.as_secs())) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
}

/// A digest of the role definitions (name and access): owners' rights come
/// from them as well as from bindings, and a restart with other roles changes
/// rights that no feed entry names.
pub(super) fn rights_epoch(config: &crate::config::Config) -> String {
    let roles: String = config.roles.iter().map(|(name, role)| format!("{name}={}\n", role.access)).collect();
    crate::runtime::sha256_hex(roles.as_bytes())
}

/// `POST /v1/introspect`
pub async fn introspect(
    State(state): State<Arc<AppState>>,
    presented: Presented,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    presented.at(&state, INTROSPECT, root()).await?;
    let body: IntrospectBody = parse_json(&headers, &body)?;
    let hash = SecretHash::from_hex(&body.sha256).ok_or_else(|| ApiError::bad_request("`sha256` is 64 hex digits"))?;
    let found = run(&state, move |a| a.introspect(&hash)).await?;
    let ages = &state.authority.config().introspect;
    let Some(Introspected { record, owner_rights }) = found else {
        state.metrics.gateway("unknown");
        let mut response = Json(Introspection { found: false, token: None }).into_response();
        max_age(&mut response, ages.unknown_max_age);
        return Ok(response);
    };
    state.metrics.gateway("found");
    let token = TokenData {
        id: record.id.get(),
        name: record.name,
        owner: record.owner_name,
        grants: match record.grants {
            StoredGrants::Scopes(items) => WireGrants::Scopes(items),
            StoredGrants::Resources(items) => WireGrants::Resources(items),
        },
        owner_rights: owner_rights.iter().map(print_grant).collect(),
        expires_at: record.expires_at.map(UnixTime::secs),
        revoked: record.revoked_at.is_some(),
    };
    let mut response = Json(Introspection { found: true, token: Some(token) }).into_response();
    max_age(&mut response, ages.max_age);
    Ok(response)
}

/// `GET /v1/revocations?since=CURSOR[&limit=N]`
pub async fn revocations(
    State(state): State<Arc<AppState>>,
    presented: Presented,
    query: Result<Query<FeedQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    presented.at(&state, INTROSPECT, root()).await?;
    let Ok(Query(query)) = query else {
        return Err(ApiError::bad_request("`since` and `limit` are unsigned integers"));
    };
    let limit = query.limit.unwrap_or(MAX_CHANGES);
    if query.since.is_some_and(|since| i64::try_from(since).is_err()) || !(1..=MAX_CHANGES).contains(&limit) {
        return Err(ApiError::bad_request(format!("`since` is at most {} and `limit` 1 to {MAX_CHANGES}", i64::MAX)));
    }
    let read = move |a: &crate::authority::Authority| match query.since {
        Some(since) => a.changes_since(since, limit),
        None => a.changes_head(),
    };
    let changes = run(&state, read).await?;
    state.metrics.gateway("feed");
    let mut response = Json(FeedPage {
        cursor: changes.cursor,
        tokens: changes.tokens.iter().map(SecretHash::to_hex).collect(),
        principals: changes.principals,
        more: changes.more,
        reset: changes.reset,
        rights_epoch: state.rights_epoch.clone(),
    })
    .into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
