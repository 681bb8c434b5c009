//! The audit trail in PostgreSQL: one chain for the whole fleet. An event is
//! appended inside the transaction of the change it records, holding the head
//! row's lock from then to the commit, so the hosts append one at a time in
//! commit order (it is taken last: whoever holds it waits on nothing else).

use deadpool_postgres::Pool;
use tokio_postgres::Row;

use super::rows::{count, get, secs, time, to_i64};
use super::sql::{Param, Sql};
use super::{Op, client};
use crate::audit::{AuditEvent, AuditQuery, AuditRow, ChainHash, seal};
use crate::ids::PrincipalId;
use crate::store::audited::pruned;
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

/// Appends `event` inside the caller's transaction `tx`: its sequence number.
pub async fn append_on(tx: &impl Sql, event: &AuditEvent) -> StoreResult<u64> {
    let (last, prev) = head_on(tx, true).await?;
    let seq = last + 1;
    let row = seal(prev, seq, event).map_err(|e| StoreError::backend("write the audit event", e))?;
    insert_on(tx, &row).await?;
    set_head(tx, seq, &row.hash).await?;
    Ok(seq)
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
    let found = tx
        .maybe_row(
            "SELECT seq, hash FROM audit_events WHERE at < $1 AND seq < $2 ORDER BY seq DESC LIMIT 1",
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
