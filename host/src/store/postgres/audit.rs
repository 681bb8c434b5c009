//! The audit trail in PostgreSQL: one chain for the whole fleet. An event is
//! appended inside the transaction of the change it records, holding the head
//! row's lock from then to the commit, so the hosts append one at a time in
//! commit order (it is taken last: whoever holds it waits on nothing else).

use deadpool_postgres::Pool;
use tokio_postgres::Row;

use super::queries::{INSERT_TOKEN, TokenParams};
use super::rows::{count, get, secs, time, to_i64};
use super::sql::{Param, Sql};
use super::{Op, client};
use crate::audit::{AuditEvent, AuditQuery, AuditRow, ChainHash, around_seq};
use crate::ids::{PrincipalId, TokenId};
use crate::store::audited::pruned;
use crate::store::types::NewToken;
use crate::store::{StoreError, StoreResult};
use crate::time::UnixTime;

const COLUMNS: &str = "seq, at, actor, actor_name, action, target, owner_id, body, prev_hash, hash";

fn hash_of(bytes: Vec<u8>) -> StoreResult<ChainHash> {
    bytes.try_into().map_err(|_| StoreError::Unreadable { what: "audit hash", detail: "not 32 bytes".into() })
}

fn row_of(row: &Row) -> StoreResult<AuditRow> {
    const WHAT: &str = "audit event";
    Ok(AuditRow {
        seq: count(get(row, 0, WHAT)?),
        at: time(get(row, 1, WHAT)?),
        actor: get(row, 2, WHAT)?,
        actor_name: get(row, 3, WHAT)?,
        action: get(row, 4, WHAT)?,
        target: get(row, 5, WHAT)?,
        owner: get::<Option<i64>>(row, 6, WHAT)?.map(PrincipalId::new),
        body: get(row, 7, WHAT)?,
        prev: hash_of(get(row, 8, WHAT)?)?,
        hash: hash_of(get(row, 9, WHAT)?)?,
    })
}

/// The head, locked until the transaction ends when `lock`.
pub async fn head_on(on: &impl Sql, lock: bool) -> StoreResult<(u64, ChainHash)> {
    const OP: &str = "read the audit head";
    let sql = if lock {
        "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"
    } else {
        "SELECT seq, hash FROM audit_head WHERE id = 1"
    };
    let row = on.row(sql, &[]).await.op(OP)?;
    Ok((count(get(&row, 0, "audit head")?), hash_of(get(&row, 1, "audit head")?)?))
}

/// Moves the head one on and returns the new place, the hash it moved from and
/// the new hash: SHA-256 of the old hash and the body, `$1 || seq || $2` (the
/// SQL joins the parts `around_seq` made). Updating the row locks it to the
/// transaction's end; every append does it last.
const MOVE_HEAD: &str = "UPDATE audit_head SET prev = hash, seq = seq + 1,
        hash = sha256(hash || convert_to($1 || (seq + 1)::text || $2, 'UTF8'))
    WHERE id = 1 RETURNING seq, prev, hash";

/// Appends `event` inside the caller's transaction `tx`, in one statement
/// (the head moved and the event written together): its sequence number.
pub async fn append_on(tx: &impl Sql, event: &AuditEvent) -> StoreResult<u64> {
    const OP: &str = "write the audit event";
    let (before, after) = around_seq(event).map_err(|e| StoreError::backend(OP, e))?;
    let sql = format!(
        "WITH h AS ({MOVE_HEAD})
         INSERT INTO audit_events (seq, at, actor, actor_name, action, target, owner_id, body, prev_hash, hash)
         SELECT h.seq, $3, $4, $5, $6, $7, $8, $1 || h.seq::text || $2, h.prev, h.hash FROM h
         RETURNING seq"
    );
    let row = tx
        .row(
            &sql,
            &[
                &before,
                &after,
                &secs(event.at)?,
                &event.actor.label(),
                &event.actor.principal_name(),
                &event.action,
                &event.target,
                &event.owner.map(PrincipalId::get),
            ],
        )
        .await
        .op(OP)?;
    Ok(count(get(&row, 0, "audit seq")?))
}

/// Stores `token` and appends `event` (its record, whose target the statement
/// completes with the new id) in one statement, which is one transaction: no
/// round trip more than the token's insert alone.
pub async fn insert_token_on(on: &impl Sql, token: &NewToken, event: &AuditEvent) -> StoreResult<TokenId> {
    const OP: &str = "store a token";
    let (before, after) = around_seq(event).map_err(|e| StoreError::backend(OP, e))?;
    // The target is the last field, `"token/"` here: the id goes before its closing quote.
    let Some(after) = after.strip_suffix("\"}") else {
        return Err(StoreError::backend(OP, "an event's target is not its last field"));
    };
    let (mid, end) = (after.to_owned(), "\"}".to_owned());
    let values = TokenParams::of(token)?;
    let (at, actor, owner) = (secs(event.at)?, event.actor.label(), event.owner.map(PrincipalId::get));
    let name = event.actor.principal_name();
    let mut params: Vec<&dyn Param> = values.params().to_vec();
    params.extend([&before as &dyn Param, &mid, &end, &at, &actor, &name, &event.action, &owner]);
    let sql = format!(
        "WITH t AS ({INSERT_TOKEN}), h AS (
            UPDATE audit_head SET prev = hash, seq = seq + 1,
                hash = sha256(hash || convert_to($10 || (seq + 1)::text || $11 || (SELECT id FROM t)::text || $12,
                    'UTF8'))
            WHERE id = 1 RETURNING seq, prev, hash
         ), e AS (
            INSERT INTO audit_events (seq, at, actor, actor_name, action, target, owner_id, body, prev_hash, hash)
            SELECT h.seq, $13, $14, $15, $16, 'token/' || t.id, $17, $10 || h.seq::text || $11 || t.id::text || $12,
                h.prev, h.hash
            FROM h, t RETURNING seq
         )
         SELECT t.id FROM t, e"
    );
    let row = on.row(&sql, &params).await.op(OP)?;
    Ok(TokenId::new(get(&row, 0, "token id")?))
}

/// Writes `row` as it is (an appended event, or one copied from another store).
pub async fn insert_on(tx: &impl Sql, row: &AuditRow) -> StoreResult<()> {
    tx.exec(
        "INSERT INTO audit_events (seq, at, actor, actor_name, action, target, owner_id, body, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &to_i64("audit seq", row.seq)?,
            &secs(row.at)?,
            &row.actor,
            &row.actor_name,
            &row.action,
            &row.target,
            &row.owner.map(PrincipalId::get),
            &row.body,
            &&row.prev[..],
            &&row.hash[..],
        ],
    )
    .await
    .op("write the audit event")?;
    Ok(())
}

/// Moves the head to event `seq`, whose hash is `hash`.
pub async fn set_head(tx: &impl Sql, seq: u64, hash: &ChainHash) -> StoreResult<()> {
    tx.exec("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", &[&to_i64("audit seq", seq)?, &&hash[..]])
        .await
        .op("move the audit head")?;
    Ok(())
}

async fn read(on: &impl Sql, sql: &str, params: &[&dyn Param]) -> StoreResult<Vec<AuditRow>> {
    on.rows(sql, params).await.op("read the audit trail")?.iter().map(row_of).collect()
}

/// Every event, oldest first, and the head (a whole-store copy).
pub async fn all_on(on: &impl Sql) -> StoreResult<(Vec<AuditRow>, (u64, ChainHash))> {
    let rows = read(on, &format!("SELECT {COLUMNS} FROM audit_events ORDER BY seq"), &[]).await?;
    Ok((rows, head_on(on, false).await?))
}

/// Appends `event` in a transaction of its own.
pub async fn append(pool: Pool, event: AuditEvent) -> StoreResult<u64> {
    const OP: &str = "write the audit event";
    let mut client = client(&pool, OP).await?;
    let tx = client.transaction().await.op(OP)?;
    let seq = append_on(&tx, &event).await?;
    tx.commit().await.op(OP)?;
    Ok(seq)
}

/// At most `limit` events after `after`, oldest first.
pub async fn rows_after(pool: Pool, after: u64, limit: usize) -> StoreResult<Vec<AuditRow>> {
    let client = client(&pool, "read the audit trail").await?;
    let sql = format!("SELECT {COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2");
    read(&*client, &sql, &[&to_i64("audit seq", after)?, &to_i64("limit", limit as u64)?]).await
}

/// The events `query` asks for, oldest first.
pub async fn events(pool: Pool, query: AuditQuery) -> StoreResult<Vec<AuditRow>> {
    let client = client(&pool, "read the audit trail").await?;
    let after = query.after_seq.map(|a| to_i64("audit seq", a)).transpose()?;
    let since = query.since.map(secs).transpose()?;
    let owner = query.owner.map(PrincipalId::get);
    // One statement whose filters are off when their parameter is NULL.
    let order = if query.oldest_first() { "ASC" } else { "DESC" };
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_events
         WHERE ($1::bigint IS NULL OR seq > $1) AND ($2::bigint IS NULL OR at >= $2)
           AND ($3::text IS NULL OR actor = $3 OR actor_name = $3) AND ($4::text IS NULL OR target = $4)
           AND ($5::text IS NULL OR action = $5 OR left(action, length($5) + 1) = $5 || '.')
           AND ($6::bigint IS NULL OR owner_id = $6)
         ORDER BY seq {order} LIMIT $7"
    );
    let limit = to_i64("limit", query.limit as u64)?;
    let mut rows =
        read(&*client, &sql, &[&after, &since, &query.actor, &query.target, &query.action, &owner, &limit]).await?;
    if !query.oldest_first() {
        rows.reverse();
    }
    Ok(rows)
}

/// The head, as committed.
pub async fn head(pool: Pool) -> StoreResult<(u64, ChainHash)> {
    let client = client(&pool, "read the audit head").await?;
    head_on(&*client, false).await
}

/// Removes the events before `before` (never the newest), leaving `event`
/// with the boundary: how many were removed.
pub async fn prune(pool: Pool, before: UnixTime, event: AuditEvent) -> StoreResult<u64> {
    const OP: &str = "prune the audit trail";
    let mut client = client(&pool, OP).await?;
    let tx = client.transaction().await.op(OP)?;
    let (last, _) = head_on(&tx, true).await?;
    // From the oldest on, up to the first event at or after `before` (events
    // come in time order, give or take the hosts' clocks): no index on `at`.
    let found = tx
        .maybe_row(
            "SELECT seq, hash FROM audit_events
             WHERE seq < coalesce((SELECT seq FROM audit_events WHERE at >= $1 ORDER BY seq LIMIT 1), $2)
             ORDER BY seq DESC LIMIT 1",
            &[&secs(before)?, &to_i64("audit seq", last)?],
        )
        .await
        .op(OP)?;
    let Some(row) = found else { return Ok(0) };
    let through: i64 = get(&row, 0, "audit event")?;
    let hash = hash_of(get(&row, 1, "audit event")?)?;
    let removed = tx.exec("DELETE FROM audit_events WHERE seq <= $1", &[&through]).await.op(OP)?;
    append_on(&tx, &pruned(&event, count(through), &hash, removed)).await?;
    tx.commit().await.op(OP)?;
    Ok(removed)
}
