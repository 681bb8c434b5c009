//! The queries several `Store` operations share in PostgreSQL: a principal with
//! its bindings, tokens by a clause, every principal, and storing a token inside
//! a caller's transaction.

use deadpool_postgres::Pool;

use super::rows::{self, TOKEN_COLUMNS, get, opt_secs, secs};
use super::sql::{Param, Sql};
use super::{Op, client};
use crate::store::{Binding, NewToken, Principal, PrincipalId, StoreError, StoreResult, TokenId, TokenRecord};

pub(super) async fn bindings_of(client: &deadpool_postgres::Object, id: i64) -> StoreResult<Vec<Binding>> {
    const OP: &str = "read bindings";
    let rows =
        client.rows("SELECT binding FROM bindings WHERE principal_id = $1 ORDER BY binding", &[&id]).await.op(OP)?;
    rows.iter().map(|r| Binding::from_text(&get::<String>(r, 0, "binding")?)).collect()
}

pub(super) async fn principal_where(
    pool: Pool,
    clause: &'static str,
    name: Option<String>,
    id: i64,
) -> StoreResult<Option<Principal>> {
    const OP: &str = "look up a principal";
    let client = client(&pool, OP).await?;
    let sql = format!("SELECT id, name, created_at FROM principals WHERE {clause}");
    let row = match &name {
        Some(name) => client.maybe_row(&sql, &[name]).await,
        None => client.maybe_row(&sql, &[&id]).await,
    }
    .op(OP)?;
    let Some(row) = row else { return Ok(None) };
    let id: i64 = get(&row, 0, "principal")?;
    Ok(Some(Principal {
        id: PrincipalId::new(id),
        name: get(&row, 1, "principal")?,
        created_at: rows::time(get(&row, 2, "principal")?),
        bindings: bindings_of(&client, id).await?,
    }))
}

pub(super) async fn tokens_where(
    pool: Pool,
    op: &'static str,
    clause: &'static str,
    params: Vec<i64>,
) -> StoreResult<Vec<TokenRecord>> {
    let client = client(&pool, op).await?;
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens t JOIN principals p ON p.id = t.owner_id WHERE {clause}");
    let params: Vec<&dyn Param> = params.iter().map(|p| p as &dyn Param).collect();
    let rows = client.rows(&sql, &params).await.op(op)?;
    rows.iter().map(rows::token).collect()
}

/// The advisory lock every change that takes rights away holds, so that its
/// guard sees the other such changes (any number unlikely to clash).
pub(super) const PRINCIPALS_LOCK: i64 = 0x746f_6b73_7072_6e63;

/// Stores `token` inside the caller's transaction: its id.
pub(super) async fn insert_on(tx: &deadpool_postgres::Transaction<'_>, token: &NewToken) -> StoreResult<TokenId> {
    const OP: &str = "store a token";
    let grants = serde_json::to_string(&token.grants).map_err(|e| StoreError::backend(OP, e))?;
    let origin = token.origin.as_ref().map(crate::store::TokenOrigin::to_text).transpose()?;
    let row = tx
        .row(
            "INSERT INTO tokens (owner_id, name, description, secret_sha256, hint, grants, created_at, expires_at,
                origin)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            &[
                &token.owner.get(),
                &token.name,
                &token.description,
                &&token.hash.0[..],
                &token.hint,
                &grants,
                &secs(token.created_at)?,
                &opt_secs(token.expires_at)?,
                &origin,
            ],
        )
        .await
        .op(OP)?;
    Ok(TokenId::new(get(&row, 0, "token id")?))
}

/// Every principal with its bindings, by name, as `client` sees them.
pub(super) async fn principals_on(client: &impl Sql) -> StoreResult<Vec<Principal>> {
    const OP: &str = "list principals";
    let principals = client.rows("SELECT id, name, created_at FROM principals ORDER BY name", &[]).await.op(OP)?;
    let bindings = client.rows("SELECT principal_id, binding FROM bindings ORDER BY binding", &[]).await.op(OP)?;
    let mut by_id = std::collections::HashMap::<i64, Vec<Binding>>::new();
    for row in &bindings {
        by_id.entry(get(row, 0, "binding")?).or_default().push(Binding::from_text(&get::<String>(row, 1, "binding")?)?);
    }
    principals
        .iter()
        .map(|row| {
            let id: i64 = get(row, 0, "principal")?;
            Ok(Principal {
                id: PrincipalId::new(id),
                name: get(row, 1, "principal")?,
                created_at: rows::time(get(row, 2, "principal")?),
                bindings: by_id.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}
