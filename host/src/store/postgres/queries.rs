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

/// Inserts a new token from `TokenParams::params` ($1 to $9): its id.
pub(super) const INSERT_TOKEN: &str =
    "INSERT INTO tokens (owner_id, name, description, secret_sha256, hint, grants, created_at, expires_at, origin)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";

/// A new token as `INSERT_TOKEN` takes it.
pub(super) struct TokenParams<'a> {
    token: &'a NewToken,
    owner: i64,
    hash: &'a [u8],
    grants: String,
    created_at: i64,
    expires_at: Option<i64>,
    origin: Option<String>,
}

impl<'a> TokenParams<'a> {
    /// `token`'s values, as stored.
    pub(super) fn of(token: &'a NewToken) -> StoreResult<TokenParams<'a>> {
        Ok(TokenParams {
            token,
            owner: token.owner.get(),
            hash: &token.hash.0[..],
            grants: serde_json::to_string(&token.grants).map_err(|e| StoreError::backend("store a token", e))?,
            created_at: secs(token.created_at)?,
            expires_at: opt_secs(token.expires_at)?,
            origin: token.origin.as_ref().map(crate::store::TokenOrigin::to_text).transpose()?,
        })
    }

    /// $1 to $9 of `INSERT_TOKEN`.
    pub(super) fn params(&self) -> [&dyn Param; 9] {
        let t = self.token;
        [
            &self.owner,
            &t.name,
            &t.description,
            &self.hash,
            &t.hint,
            &self.grants,
            &self.created_at,
            &self.expires_at,
            &self.origin,
        ]
    }
}

/// Stores `token` inside the caller's transaction: its id.
pub(super) async fn insert_on(tx: &deadpool_postgres::Transaction<'_>, token: &NewToken) -> StoreResult<TokenId> {
    let values = TokenParams::of(token)?;
    let row = tx.row(INSERT_TOKEN, &values.params()).await.op("store a token")?;
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
