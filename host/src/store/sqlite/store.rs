//! The `Store` operations on SQLite: principals and their bindings, tokens,
//! usage counts and sign-in links, each a statement or one transaction on the
//! write connection, lookups on a read connection.

use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, ToSql, params};

use super::SqliteStore;
use super::audit::append_on;
use super::rows::{AFTER_TOKEN_COLUMNS, Op, TOKEN_COLUMNS, is_constraint, to_i64, token_row};
use crate::audit::{AuditEvent, AuditQuery, AuditRow, ChainHash};
use crate::secret::SecretHash;
use crate::store::audited::{principal_added, signed_in, token_stored};
use crate::store::error::StoreError;
use crate::store::snapshot::Snapshot;
use crate::store::types::{
    Binding, Changes, Edited, ExchangeOnce, Exchanged, Guarded, NewToken, Principal, PrincipalId, PrincipalsGuard,
    TokenEdit, TokenId, TokenOrigin, TokenRecord, UsageDelta, stored_hash,
};
use crate::store::{LeakRecord, Store, StoreResult, StoreSignal, Watch};
use crate::time::UnixTime;

impl SqliteStore {
    pub(super) fn bindings_of(conn: &Connection, id: PrincipalId) -> StoreResult<Vec<Binding>> {
        let mut stmt = conn
            .prepare_cached("SELECT binding FROM bindings WHERE principal_id = ?1 ORDER BY binding")
            .op("read bindings")?;
        let texts = stmt.query_map([id], |r| r.get::<_, String>(0)).op("read bindings")?;
        texts.map(|text| Binding::from_text(&text.op("read bindings")?)).collect()
    }

    fn principal_where(&self, clause: &str, value: &dyn ToSql) -> StoreResult<Option<Principal>> {
        let conn = self.reader()?;
        let sql = format!("SELECT id, name, created_at FROM principals WHERE {clause}");
        let found = conn
            .query_row(&sql, [value], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()
            .op("look up a principal")?;
        let Some((id, name, created_at)) = found else { return Ok(None) };
        let bindings = Self::bindings_of(&conn, id)?;
        Ok(Some(Principal { id, name, created_at, bindings }))
    }

    /// Stores `token` on `conn` (inside the caller's transaction): its id.
    fn insert_on(conn: &Connection, token: &NewToken) -> StoreResult<TokenId> {
        const OP: &str = "store a token";
        let mut stmt = conn
            .prepare_cached(
                // The id is the counter's next (the insert's trigger moves it).
                "INSERT INTO tokens (id, owner_id, name, description, secret_sha256, hint, grants, created_at,
                    expires_at, origin)
                 VALUES ((SELECT token_last + 1 FROM changes WHERE id = 1), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .op(OP)?;
        let grants = serde_json::to_string(&token.grants).map_err(|e| StoreError::backend(OP, e))?;
        stmt.execute(params![
            token.owner,
            token.name,
            token.description,
            &token.hash.0[..],
            token.hint,
            grants,
            token.created_at,
            token.expires_at,
            token.origin.as_ref().map(TokenOrigin::to_text).transpose()?,
        ])
        .op(OP)?;
        Ok(TokenId::new(conn.last_insert_rowid()))
    }

    /// Adds `bindings` to principal `id` on `conn` (inside the caller's transaction).
    fn bind_on(conn: &Connection, id: PrincipalId, bindings: &[Binding]) -> StoreResult<()> {
        let mut stmt = conn
            .prepare_cached("INSERT OR IGNORE INTO bindings (principal_id, binding) VALUES (?1, ?2)")
            .op("bind a principal")?;
        for binding in bindings {
            stmt.execute(params![id, binding.to_text()]).op("bind a principal")?;
        }
        Ok(())
    }

    /// Runs `change` and, when it changed a row, appends `audit`, in one
    /// transaction: whether it changed one.
    fn audited(
        &self,
        op: &'static str,
        audit: &AuditEvent,
        change: impl FnOnce(&Connection) -> rusqlite::Result<usize>,
    ) -> StoreResult<bool> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).op(op)?;
        if change(&tx).op(op)? == 0 {
            return Ok(false);
        }
        append_on(&tx, audit)?;
        tx.commit().op(op)?;
        Ok(true)
    }

    /// Every principal with its bindings, by name, as `conn` sees them.
    fn principals_on(conn: &Connection) -> StoreResult<Vec<Principal>> {
        const OP: &str = "list principals";
        let mut stmt = conn.prepare_cached("SELECT id, name, created_at FROM principals ORDER BY name").op(OP)?;
        let rows: Vec<(PrincipalId, String, UnixTime)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .op(OP)?
            .collect::<rusqlite::Result<_>>()
            .op(OP)?;
        rows.into_iter()
            .map(|(id, name, created_at)| {
                Ok(Principal { id, name, created_at, bindings: Self::bindings_of(conn, id)? })
            })
            .collect()
    }

    fn tokens_where(&self, clause: &str, params: &[&dyn ToSql]) -> StoreResult<Vec<TokenRecord>> {
        let conn = self.reader()?;
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens t JOIN principals p ON p.id = t.owner_id WHERE {clause}");
        let mut stmt = conn.prepare_cached(&sql).op("list tokens")?;
        let rows = stmt.query_map(params, token_row).op("list tokens")?;
        rows.map(|r| r.op("list tokens")?).collect()
    }
}

impl Store for SqliteStore {
    fn add_principal(
        &self,
        name: &str,
        now: UnixTime,
        bindings: &[Binding],
        audit: &AuditEvent,
    ) -> StoreResult<Principal> {
        const OP: &str = "add a principal";
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).op(OP)?;
        // The next number of the counter: ids are never handed out again.
        let sql = "INSERT INTO principals (id, name, created_at) \
                   VALUES ((SELECT last + 1 FROM principal_ids WHERE id = 1), ?1, ?2)";
        match tx.execute(sql, params![name, now]) {
            Ok(_) => {}
            Err(err) if is_constraint(&err) => return Err(StoreError::PrincipalExists(name.to_owned())),
            Err(err) => return Err(StoreError::backend(OP, err)),
        }
        let id = PrincipalId::new(tx.last_insert_rowid());
        Self::bind_on(&tx, id, bindings)?;
        append_on(&tx, &principal_added(audit, id))?;
        let bindings = Self::bindings_of(&tx, id)?;
        tx.commit().op(OP)?;
        Ok(Principal { id, name: name.to_owned(), created_at: now, bindings })
    }

    fn principal(&self, name: &str) -> StoreResult<Option<Principal>> {
        self.principal_where("name = ?1", &name)
    }

    fn principal_by_id(&self, id: PrincipalId) -> StoreResult<Option<Principal>> {
        self.principal_where("id = ?1", &id)
    }

    fn principals(&self) -> StoreResult<Vec<Principal>> {
        Self::principals_on(&*self.reader()?)
    }

    fn remove_principal(&self, name: &str, guard: &PrincipalsGuard, audit: &AuditEvent) -> StoreResult<Guarded> {
        const OP: &str = "remove a principal";
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).op(OP)?;
        let before = Self::principals_on(&tx)?;
        if tx.execute("DELETE FROM principals WHERE name = ?1", [name]).op(OP)? == 0 {
            return Ok(Guarded::Missing);
        }
        if !guard(&before, &Self::principals_on(&tx)?) {
            return Ok(Guarded::Refused);
        }
        append_on(&tx, audit)?;
        tx.commit().op(OP)?;
        Ok(Guarded::Done)
    }

    fn bind(&self, principal: PrincipalId, bindings: &[Binding], audit: &AuditEvent) -> StoreResult<()> {
        const OP: &str = "bind a principal";
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).op(OP)?;
        Self::bind_on(&tx, principal, bindings)?;
        append_on(&tx, audit)?;
        tx.commit().op(OP)
    }

    fn unbind(
        &self,
        principal: PrincipalId,
        bindings: &[Binding],
        guard: &PrincipalsGuard,
        audit: &AuditEvent,
    ) -> StoreResult<Guarded> {
        const OP: &str = "unbind a principal";
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).op(OP)?;
        let before = Self::principals_on(&tx)?;
        for binding in bindings {
            let sql = "DELETE FROM bindings WHERE principal_id = ?1 AND binding = ?2";
            if tx.execute(sql, params![principal, binding.to_text()]).op(OP)? == 0 {
                return Ok(Guarded::Missing);
            }
        }
        if !guard(&before, &Self::principals_on(&tx)?) {
            return Ok(Guarded::Refused);
        }
        append_on(&tx, audit)?;
        tx.commit().op(OP)?;
        Ok(Guarded::Done)
    }

    fn insert_token(&self, token: &NewToken, audit: &AuditEvent) -> StoreResult<TokenId> {
        let mut ids = self.insert_tokens(std::slice::from_ref(token), audit)?;
        ids.pop().ok_or_else(|| StoreError::backend("store a token", "no token id came back"))
    }

    fn insert_exchanged(
        &self,
        token: &NewToken,
        once: &ExchangeOnce,
        now: UnixTime,
        audit: &AuditEvent,
    ) -> StoreResult<Exchanged> {
        const OP: &str = "store an exchanged token";
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).op(OP)?;
        tx.execute("DELETE FROM exchanged_identities WHERE expires_at < ?1", [now]).op(OP)?;
        let sql = "INSERT OR IGNORE INTO exchanged_identities (digest, expires_at) VALUES (?1, ?2)";
        if tx.execute(sql, params![&once.digest[..], once.until]).op(OP)? == 0 {
            return Ok(Exchanged::Replayed);
        }
        let live: i64 = tx
            .query_row(
                "SELECT COUNT(*) FROM tokens WHERE owner_id = ?1 AND origin IS NOT NULL AND revoked_at IS NULL
                 AND (expires_at IS NULL OR expires_at > ?2)",
                params![token.owner, now],
                |r| r.get(0),
            )
            .op(OP)?;
        if u64::try_from(live).unwrap_or(u64::MAX) >= u64::from(once.max_live) {
            return Ok(Exchanged::AtCapacity);
        }
        let id = Self::insert_on(&tx, token)?;
        append_on(&tx, &token_stored(audit, id, token))?;
        tx.commit().op(OP)?;
        Ok(Exchanged::Stored(id))
    }

    fn insert_tokens(&self, tokens: &[NewToken], audit: &AuditEvent) -> StoreResult<Vec<TokenId>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).op("begin storing tokens")?;
        let ids = tokens
            .iter()
            .map(|token| {
                let id = Self::insert_on(&tx, token)?;
                append_on(&tx, &token_stored(audit, id, token))?;
                Ok(id)
            })
            .collect::<StoreResult<Vec<_>>>()?;
        tx.commit().op("commit new tokens")?;
        Ok(ids)
    }

    fn token(&self, id: TokenId) -> StoreResult<Option<TokenRecord>> {
        Ok(self.tokens_where("t.id = ?1", &[&id])?.into_iter().next())
    }

    fn token_by_hash(&self, hash: &SecretHash) -> StoreResult<Option<TokenRecord>> {
        let conn = self.reader()?;
        let sql = format!(
            "SELECT {TOKEN_COLUMNS}, t.secret_sha256 FROM tokens t JOIN principals p ON p.id = t.owner_id \
             WHERE t.secret_sha256 = ?1"
        );
        let mut stmt = conn.prepare_cached(&sql).op("look up a token")?;
        let found = stmt
            .query_row([&hash.0[..]], |r| {
                let stored: Vec<u8> = r.get(AFTER_TOKEN_COLUMNS)?;
                Ok((token_row(r)?, stored))
            })
            .optional()
            .op("look up a token")?;
        let Some((record, stored)) = found else { return Ok(None) };
        // The index found it by hash; confirm in constant time before trusting it.
        let stored = stored_hash(stored)?;
        if !stored.matches(hash) {
            return Ok(None);
        }
        record.map(Some)
    }

    fn tokens(&self, owner: Option<PrincipalId>) -> StoreResult<Vec<TokenRecord>> {
        match owner {
            Some(owner) => self.tokens_where("t.owner_id = ?1 ORDER BY t.id", &[&owner]),
            None => self.tokens_where("1 = 1 ORDER BY t.id", &[]),
        }
    }

    fn edit_token(&self, id: TokenId, edit: &TokenEdit, audit: &AuditEvent) -> StoreResult<Edited> {
        const OP: &str = "change a token";
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).op(OP)?;
        let revision: Option<i64> =
            tx.query_row("SELECT revision FROM tokens WHERE id = ?1", [id], |r| r.get(0)).optional().op(OP)?;
        let Some(revision) = revision else { return Ok(Edited::NotFound) };
        if edit.revision.is_some_and(|expected| Some(expected) != u64::try_from(revision).ok()) {
            return Ok(Edited::Conflict);
        }
        if let Some(name) = &edit.name {
            tx.execute("UPDATE tokens SET name = ?2 WHERE id = ?1", params![id, name]).op(OP)?;
        }
        if let Some(description) = &edit.description {
            tx.execute("UPDATE tokens SET description = ?2 WHERE id = ?1", params![id, description]).op(OP)?;
        }
        if let Some(expires_at) = edit.expires_at {
            tx.execute(
                "UPDATE tokens SET expires_at = ?2, last_warned_at = NULL WHERE id = ?1",
                params![id, expires_at],
            )
            .op(OP)?;
        }
        if let Some((hash, hint)) = &edit.secret {
            tx.execute("UPDATE tokens SET secret_sha256 = ?2, hint = ?3 WHERE id = ?1", params![id, &hash.0[..], hint])
                .op(OP)?;
        }
        tx.execute("UPDATE tokens SET revision = revision + 1 WHERE id = ?1", [id]).op(OP)?;
        append_on(&tx, audit)?;
        tx.commit().op("commit the token's change")?;
        Ok(Edited::Done)
    }

    fn revoke_token(&self, id: TokenId, now: UnixTime, audit: &AuditEvent) -> StoreResult<bool> {
        self.audited("revoke a token", audit, |tx| {
            tx.execute("UPDATE tokens SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1", params![id, now])
        })
    }

    fn record_leak(&self, id: TokenId, leak: &LeakRecord, audit: &AuditEvent) -> StoreResult<bool> {
        let text = leak.to_text()?;
        self.audited("record a leak", audit, |tx| {
            tx.execute(
                "UPDATE tokens SET revoked_at = coalesce(revoked_at, ?2), leak = coalesce(leak, ?3) WHERE id = ?1",
                params![id, leak.at, text],
            )
        })
    }

    fn claim_leak_report(&self, digest: &[u8; 32], now: UnixTime, until: UnixTime) -> StoreResult<bool> {
        const OP: &str = "take a leak report";
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).op(OP)?;
        tx.execute("DELETE FROM leak_reports WHERE expires_at <= ?1", [now]).op(OP)?;
        let sql = "INSERT OR IGNORE INTO leak_reports (digest, expires_at) VALUES (?1, ?2)";
        let fresh = tx.execute(sql, params![&digest[..], until]).op(OP)? == 1;
        tx.commit().op(OP)?;
        Ok(fresh)
    }

    fn delete_token(&self, id: TokenId, audit: &AuditEvent) -> StoreResult<bool> {
        self.audited("delete a token", audit, |tx| tx.execute("DELETE FROM tokens WHERE id = ?1", [id]))
    }

    fn expiring(&self, now: UnixTime, before: UnixTime) -> StoreResult<Vec<TokenRecord>> {
        self.tokens_where(
            "t.revoked_at IS NULL AND t.expires_at > ?1 AND t.expires_at <= ?2 ORDER BY t.expires_at",
            &[&now, &before],
        )
    }

    fn claim_warning(&self, id: TokenId, now: UnixTime, not_since: UnixTime, audit: &AuditEvent) -> StoreResult<bool> {
        self.audited("record a warning", audit, |tx| {
            tx.execute(
                "UPDATE tokens SET last_warned_at = ?2
                 WHERE id = ?1 AND (last_warned_at IS NULL OR last_warned_at <= ?3)",
                params![id, now, not_since],
            )
        })
    }

    fn add_usage(&self, deltas: &[UsageDelta]) -> StoreResult<()> {
        const OP: &str = "write usage counts";
        let mut conn = self.conn()?;
        let tx = conn.transaction().op(OP)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE tokens SET use_count = use_count + ?2,
                        last_used_at = max(coalesce(last_used_at, 0), ?3) WHERE id = ?1",
                )
                .op(OP)?;
            for d in deltas {
                stmt.execute(params![d.token, to_i64("a use count", d.uses)?, d.last_used_at]).op(OP)?;
            }
        }
        tx.commit().op(OP)
    }

    fn watch(&self, signal: Arc<dyn Fn(StoreSignal) + Send + Sync>) -> StoreResult<Option<Watch>> {
        self.watch_files(signal)
    }

    fn add_sign_in_link(
        &self,
        hash: &SecretHash,
        principal: PrincipalId,
        now: UnixTime,
        expires_at: UnixTime,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        const OP: &str = "store a sign-in link";
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).op(OP)?;
        tx.execute("DELETE FROM sign_in_links WHERE expires_at < ?1", [now.secs().saturating_sub(86_400)]).op(OP)?;
        tx.execute(
            "INSERT INTO sign_in_links (secret_sha256, principal_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![hash.0.as_slice(), principal, now, expires_at],
        )
        .op(OP)?;
        append_on(&tx, audit)?;
        tx.commit().op(OP)
    }

    fn use_sign_in_link(
        &self,
        hash: &SecretHash,
        now: UnixTime,
        audit: &AuditEvent,
    ) -> StoreResult<Option<PrincipalId>> {
        const OP: &str = "use a sign-in link";
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).op(OP)?;
        let used = tx
            .query_row(
                "UPDATE sign_in_links SET used_at = ?2
                 WHERE secret_sha256 = ?1 AND used_at IS NULL AND expires_at > ?2 RETURNING principal_id",
                params![hash.0.as_slice(), now],
                |r| r.get::<_, PrincipalId>(0),
            )
            .optional()
            .op(OP)?;
        let Some(id) = used else { return Ok(None) };
        let name: String = tx.query_row("SELECT name FROM principals WHERE id = ?1", [id], |r| r.get(0)).op(OP)?;
        append_on(&tx, &signed_in(audit, id, &name))?;
        tx.commit().op(OP)?;
        Ok(Some(id))
    }

    fn change_head(&self) -> StoreResult<u64> {
        self.read_change_head()
    }

    fn changes_since(&self, cursor: u64, limit: usize) -> StoreResult<Changes> {
        self.read_changes(cursor, limit)
    }

    fn export(&self) -> StoreResult<Snapshot> {
        self.read_snapshot()
    }

    fn import(&self, snapshot: &Snapshot, replace: bool, audit: &AuditEvent) -> StoreResult<()> {
        self.write_snapshot(snapshot, replace, audit)
    }

    fn append_audit(&self, event: &AuditEvent) -> StoreResult<u64> {
        self.append_audit_event(event)
    }

    fn audit_rows(&self, after: u64, limit: usize) -> StoreResult<Vec<AuditRow>> {
        self.read_audit_rows(after, limit)
    }

    fn audit_events(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRow>> {
        self.read_audit_events(query)
    }

    fn audit_head(&self) -> StoreResult<(u64, ChainHash)> {
        self.read_audit_head()
    }

    fn prune_audit(&self, before: UnixTime, audit: &AuditEvent) -> StoreResult<u64> {
        self.prune_audit_events(before, audit)
    }

    fn change_counter(&self) -> StoreResult<u64> {
        self.read_change_counter()
    }
}
