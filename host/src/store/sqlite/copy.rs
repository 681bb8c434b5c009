//! The whole SQLite store at once: read as one consistent snapshot (one read
//! transaction) and written back in one immediate transaction, for backups and
//! for moving a store to PostgreSQL and back.

use rusqlite::params;

use super::SqliteStore;
use super::audit::{all_on, append_on, head_on, index_owners_on, insert_on, set_head};
use super::rows::{AFTER_TOKEN_COLUMNS, Op, TOKEN_COLUMNS, to_i64, token_row};
use crate::audit::AuditEvent;
use crate::store::StoreResult;
use crate::store::audited::copied;
use crate::store::error::StoreError;
use crate::store::snapshot::{Snapshot, StoredLink, StoredToken};
use crate::store::types::{LeakRecord, Principal, TokenOrigin, stored_hash};

impl SqliteStore {
    pub(super) fn read_snapshot(&self) -> StoreResult<Snapshot> {
        const OP: &str = "read the whole store";
        let mut conn = self.reader()?;
        // One read transaction: a consistent snapshot while writers go on.
        let tx = conn.transaction().op(OP)?;
        let mut principals = Vec::new();
        {
            let mut stmt = tx.prepare("SELECT id, name, created_at FROM principals ORDER BY id").op(OP)?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).op(OP)?;
            for row in rows {
                let (id, name, created_at) = row.op(OP)?;
                principals.push(Principal { id, name, created_at, bindings: Self::bindings_of(&tx, id)? });
            }
        }
        let mut tokens = Vec::new();
        {
            let sql = format!(
                "SELECT {TOKEN_COLUMNS}, t.secret_sha256 FROM tokens t JOIN principals p ON p.id = t.owner_id ORDER BY t.id"
            );
            let mut stmt = tx.prepare(&sql).op(OP)?;
            let rows = stmt.query_map([], |r| Ok((token_row(r)?, r.get::<_, Vec<u8>>(AFTER_TOKEN_COLUMNS)?))).op(OP)?;
            for row in rows {
                let (record, hash) = row.op(OP)?;
                tokens.push(StoredToken { record: record?, hash: stored_hash(hash)? });
            }
        }
        let mut links = Vec::new();
        {
            let mut stmt = tx
                .prepare("SELECT secret_sha256, principal_id, created_at, expires_at, used_at FROM sign_in_links ORDER BY secret_sha256")
                .op(OP)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
                .op(OP)?;
            for row in rows {
                let (hash, principal, created_at, expires_at, used_at) = row.op(OP)?;
                links.push(StoredLink { hash: stored_hash(hash)?, principal, created_at, expires_at, used_at });
            }
        }
        let (audit, audit_head) = all_on(&tx)?;
        Ok(Snapshot { principals, tokens, links, audit, audit_head })
    }

    pub(super) fn write_snapshot(&self, snapshot: &Snapshot, replace: bool, audit: &AuditEvent) -> StoreResult<()> {
        const OP: &str = "write the whole store";
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).op(OP)?;
        let held: i64 = tx
            .query_row(
                "SELECT (SELECT count(*) FROM principals) + (SELECT count(*) FROM tokens)
                    + (SELECT count(*) FROM audit_events)",
                [],
                |r| r.get(0),
            )
            .op(OP)?;
        if held > 0 && !replace {
            return Err(StoreError::NotEmpty);
        }
        let replaced = head_on(&tx)?;
        tx.execute_batch(
            "DELETE FROM sign_in_links; DELETE FROM tokens; DELETE FROM bindings; DELETE FROM principals;
             DELETE FROM audit_events; DELETE FROM audit_owners; UPDATE changes SET audit_owners_upto = 0;",
        )
        .op(OP)?;
        for row in &snapshot.audit {
            insert_on(&tx, row)?;
        }
        set_head(&tx, snapshot.audit_head.0, &snapshot.audit_head.1)?;
        index_owners_on(&tx)?;
        for p in &snapshot.principals {
            tx.execute(
                "INSERT INTO principals (id, name, created_at) VALUES (?1, ?2, ?3)",
                params![p.id, p.name, p.created_at],
            )
            .op(OP)?;
            for binding in &p.bindings {
                tx.execute(
                    "INSERT INTO bindings (principal_id, binding) VALUES (?1, ?2)",
                    params![p.id, binding.to_text()],
                )
                .op(OP)?;
            }
        }
        for StoredToken { record: t, hash } in &snapshot.tokens {
            let grants = serde_json::to_string(&t.grants).map_err(|e| StoreError::backend(OP, e))?;
            tx.execute(
                "INSERT INTO tokens (id, owner_id, name, description, secret_sha256, hint, grants, created_at, expires_at,
                    revoked_at, use_count, last_used_at, last_warned_at, revision, origin, leak)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                params![
                    t.id,
                    t.owner,
                    t.name,
                    t.description,
                    &hash.0[..],
                    t.hint,
                    grants,
                    t.created_at,
                    t.expires_at,
                    t.revoked_at,
                    to_i64("a use count", t.use_count)?,
                    t.last_used_at,
                    t.last_warned_at,
                    to_i64("a revision", t.revision)?,
                    t.origin.as_ref().map(TokenOrigin::to_text).transpose()?,
                    t.leak.as_ref().map(LeakRecord::to_text).transpose()?,
                ],
            )
            .op(OP)?;
        }
        for link in &snapshot.links {
            tx.execute(
                "INSERT INTO sign_in_links (secret_sha256, principal_id, created_at, expires_at, used_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![&link.hash.0[..], link.principal, link.created_at, link.expires_at, link.used_at],
            )
            .op(OP)?;
        }
        append_on(&tx, &copied(audit, snapshot, replaced))?;
        tx.commit().op("commit the copy")
    }
}
