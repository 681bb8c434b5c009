//! The audit trail on SQLite: an event is appended inside the transaction of
//! the change it records (the write connection's, which SQLite serialises, so
//! the chain is in commit order); reads for lists, exports and `verify`; pruning.

use rusqlite::{Connection, OptionalExtension, ToSql, params};

use super::SqliteStore;
use super::rows::{Op, count, to_i64};
use crate::audit::{AuditEvent, AuditQuery, AuditRow, ChainHash, PRUNE_ACTION, seal};
use crate::store::StoreResult;
use crate::store::audited::pruned;
use crate::store::error::StoreError;
use crate::time::UnixTime;

const COLUMNS: &str = "seq, at, actor, actor_name, action, target, owner_id, body, prev_hash, hash";

fn hash_of(bytes: Vec<u8>) -> StoreResult<ChainHash> {
    bytes.try_into().map_err(|_| StoreError::Unreadable { what: "audit hash", detail: "not 32 bytes".into() })
}

/// The chain's head (the last event's place and hash), kept in the one row of
/// `changes`, which the changes' own triggers write in the same transaction.
pub(super) fn head_on(conn: &Connection) -> StoreResult<(u64, ChainHash)> {
    const OP: &str = "read the audit head";
    let (seq, hash): (i64, Vec<u8>) = conn
        .prepare_cached("SELECT audit_seq, audit_hash FROM changes WHERE id = 1")
        .op(OP)?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .op(OP)?;
    Ok((count(seq), hash_of(hash)?))
}

/// Appends `event` on `conn`, inside the caller's transaction: its sequence number.
pub(super) fn append_on(conn: &Connection, event: &AuditEvent) -> StoreResult<u64> {
    let (last, prev) = head_on(conn)?;
    let seq = last + 1;
    let row = seal(prev, seq, event).map_err(|e| StoreError::backend("write the audit event", e))?;
    insert_on(conn, &row)?;
    set_head(conn, seq, &row.hash)?;
    if seq % OWNER_BATCH == 0 {
        index_owners_on(conn)?;
    }
    Ok(seq)
}

/// How many events are appended between two runs of `index_owners_on`: an
/// owner's read scans at most this many unindexed events at the trail's end.
const OWNER_BATCH: u64 = 64;

/// Indexes by owner the events after `audit_owners_upto`, up to the head (in
/// the caller's transaction). A batch at a time, so an append writes no index
/// page of its own (what SQLite charges for is pages written per commit).
pub(super) fn index_owners_on(conn: &Connection) -> StoreResult<()> {
    const OP: &str = "index the audit trail by owner";
    conn.prepare_cached(
        "INSERT OR IGNORE INTO audit_owners (owner_id, seq)
         SELECT owner_id, seq FROM audit_events
         WHERE seq > (SELECT audit_owners_upto FROM changes WHERE id = 1) AND owner_id IS NOT NULL",
    )
    .op(OP)?
    .execute([])
    .op(OP)?;
    conn.prepare_cached("UPDATE changes SET audit_owners_upto = audit_seq WHERE id = 1").op(OP)?.execute([]).op(OP)?;
    Ok(())
}

/// Writes `row` as it is (an appended event, or one copied from another store).
pub(super) fn insert_on(conn: &Connection, row: &AuditRow) -> StoreResult<()> {
    const OP: &str = "write the audit event";
    conn.prepare_cached(
        "INSERT INTO audit_events (seq, at, actor, actor_name, action, target, owner_id, body, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .op(OP)?
    .execute(params![
        to_i64("audit seq", row.seq)?,
        row.at,
        row.actor,
        row.actor_name,
        row.action,
        row.target,
        row.owner,
        row.body,
        &row.prev[..],
        &row.hash[..],
    ])
    .op(OP)?;
    Ok(())
}

/// Moves the head to event `seq`, whose hash is `hash`.
pub(super) fn set_head(conn: &Connection, seq: u64, hash: &ChainHash) -> StoreResult<()> {
    const OP: &str = "move the audit head";
    conn.prepare_cached("UPDATE changes SET audit_seq = ?1, audit_hash = ?2 WHERE id = 1")
        .op(OP)?
        .execute(params![to_i64("audit seq", seq)?, &hash[..]])
        .op(OP)?;
    Ok(())
}

/// Every event `conn` sees, oldest first, and the head (a whole-store copy).
pub(super) fn all_on(conn: &Connection) -> StoreResult<(Vec<AuditRow>, (u64, ChainHash))> {
    let rows = read_rows(conn, &format!("SELECT {COLUMNS} FROM audit_events ORDER BY seq"), &[])?;
    Ok((rows, head_on(conn)?))
}

/// A row of `COLUMNS`; its hashes must be 32 bytes.
fn row_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoreResult<AuditRow>> {
    let (seq, prev, hash): (i64, Vec<u8>, Vec<u8>) = (r.get(0)?, r.get(8)?, r.get(9)?);
    let (at, actor, actor_name, action, target, owner, body) =
        (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?);
    Ok(hash_of(prev).and_then(|prev| {
        Ok(AuditRow { seq: count(seq), at, actor, actor_name, action, target, owner, body, prev, hash: hash_of(hash)? })
    }))
}

fn read_rows(conn: &Connection, sql: &str, params: &[&dyn ToSql]) -> StoreResult<Vec<AuditRow>> {
    const OP: &str = "read the audit trail";
    let mut stmt = conn.prepare_cached(sql).op(OP)?;
    let rows = stmt.query_map(params, row_of).op(OP)?;
    rows.map(|row| row.op(OP)?).collect()
}

impl SqliteStore {
    pub(super) fn append_audit_event(&self, event: &AuditEvent) -> StoreResult<u64> {
        let mut conn = self.conn()?;
        let tx =
            conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).op("write the audit event")?;
        let seq = append_on(&tx, event)?;
        tx.commit().op("write the audit event")?;
        Ok(seq)
    }

    pub(super) fn read_audit_rows(&self, after: u64, limit: usize) -> StoreResult<Vec<AuditRow>> {
        let conn = self.reader()?;
        let sql = format!("SELECT {COLUMNS} FROM audit_events WHERE seq > ?1 ORDER BY seq LIMIT ?2");
        read_rows(&conn, &sql, &[&to_i64("audit seq", after)?, &to_i64("limit", limit as u64)?])
    }

    pub(super) fn read_audit_events(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRow>> {
        let conn = self.reader()?;
        let mut values: Vec<Box<dyn ToSql>> = Vec::new();
        let mut param = |value: Box<dyn ToSql>| {
            values.push(value);
            format!("?{}", values.len())
        };
        let mut clauses = vec!["1 = 1".to_owned()];
        if let Some(after) = query.after_seq {
            clauses.push(format!("seq > {}", param(Box::new(to_i64("audit seq", after)?))));
        }
        if let Some(since) = query.since {
            clauses.push(format!("at >= {}", param(Box::new(since))));
        }
        if let Some(actor) = &query.actor {
            let p = param(Box::new(actor.clone()));
            clauses.push(format!("(actor = {p} OR actor_name = {p})"));
        }
        if let Some(target) = &query.target {
            clauses.push(format!("target = {}", param(Box::new(target.clone()))));
        }
        if let Some(action) = &query.action {
            // An action, or its family: `token` is every `token.*`.
            let p = param(Box::new(action.clone()));
            clauses.push(format!("(action = {p} OR substr(action, 1, length({p}) + 1) = {p} || '.')"));
        }
        if let Some(owner) = query.owner {
            // The indexed events, and those appended since the last batch.
            let p = param(Box::new(owner));
            clauses.push(format!(
                "seq IN (SELECT seq FROM audit_owners WHERE owner_id = {p}
                         UNION ALL SELECT seq FROM audit_events
                         WHERE seq > (SELECT audit_owners_upto FROM changes WHERE id = 1) AND owner_id = {p})"
            ));
        }
        let order = if query.oldest_first() { "ASC" } else { "DESC" };
        let limit = to_i64("limit", query.limit as u64)?;
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_events WHERE {} ORDER BY seq {order} LIMIT {limit}",
            clauses.join(" AND ")
        );
        let params: Vec<&dyn ToSql> = values.iter().map(|v| v.as_ref()).collect();
        let mut rows = read_rows(&conn, &sql, &params)?;
        if !query.oldest_first() {
            rows.reverse();
        }
        Ok(rows)
    }

    pub(super) fn read_audit_head(&self) -> StoreResult<(u64, ChainHash)> {
        head_on(&*self.reader()?)
    }

    pub(super) fn prune_audit_events(&self, before: UnixTime, event: &AuditEvent) -> StoreResult<u64> {
        const OP: &str = "prune the audit trail";
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).op(OP)?;
        // The newest event is never removed: the chain's head stays readable.
        let through: Option<(i64, Vec<u8>)> = tx
            .query_row(
                // From the oldest on, up to the first event at or after `before`
                // (events come in time order, give or take the hosts' clocks): no index on `at`.
                "SELECT seq, hash FROM audit_events
                 WHERE seq < coalesce((SELECT seq FROM audit_events WHERE at >= ?1 ORDER BY seq LIMIT 1),
                                      (SELECT audit_seq FROM changes WHERE id = 1))
                 ORDER BY seq DESC LIMIT 1",
                [before],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .op(OP)?;
        let Some((through, hash)) = through else { return Ok(0) };
        let removed = tx.execute("DELETE FROM audit_events WHERE seq <= ?1", [through]).op(OP)?;
        tx.execute("DELETE FROM audit_owners WHERE seq <= ?1", [through]).op(OP)?;
        let removed = removed as u64;
        let event = pruned(event, count(through), &hash_of(hash)?, removed);
        debug_assert_eq!(event.action, PRUNE_ACTION);
        append_on(&tx, &event)?;
        tx.commit().op(OP)?;
        Ok(removed)
    }
}
