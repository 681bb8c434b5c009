//! The `Store` operations in PostgreSQL: each is one statement or one
//! transaction on a pooled connection. Concurrent edits of a token are decided
//! by its row lock; usage increments add in the database, so no host's counts
//! overwrite another's.

use std::sync::Arc;

use tokio_postgres::error::SqlState;

use super::audit::{self, append_on};
use super::queries::{PRINCIPALS_LOCK, insert_on, principal_where, principals_on, tokens_where};
use super::rows::{self, TOKEN_COLUMNS, count, get, opt_secs, secs, to_i64};
use super::sql::Sql;
use super::{Op, PgStore, client};
use crate::audit::{AuditEvent, AuditQuery, AuditRow, ChainHash};
use crate::secret::SecretHash;
use crate::store::audited::{principal_added, signed_in, token_stored, token_stored_template};
use crate::store::{
    Binding, Changes, Edited, ExchangeOnce, Exchanged, Fleet, Guarded, LeakRecord, NewToken, Principal, PrincipalId,
    PrincipalsGuard, Snapshot, Store, StoreError, StoreResult, StoreSignal, TokenEdit, TokenId, TokenRecord,
    UsageDelta, Watch,
};
use crate::time::UnixTime;

/// Adds the bindings `texts` to principal `id` inside the caller's transaction.
async fn bind_on(tx: &impl Sql, id: PrincipalId, texts: &[String]) -> StoreResult<()> {
    for text in texts {
        tx.exec(
            "INSERT INTO bindings (principal_id, binding) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&id.get(), text],
        )
        .await
        .op("bind a principal")?;
    }
    Ok(())
}

impl PgStore {
    /// Runs `sql` on `params` (a token id, a time, a text) and, when it
    /// changed a row, appends `audit`, in one transaction: whether it changed one.
    fn audited(
        &self,
        op: &'static str,
        audit: &AuditEvent,
        sql: &'static str,
        params: Box<(i64, Option<i64>, Option<String>)>,
    ) -> StoreResult<bool> {
        let audit = audit.clone();
        self.run(op, move |pool| async move {
            let mut client = client(&pool, op).await?;
            let tx = client.transaction().await.op(op)?;
            let (id, at, text) = *params;
            let n = match text {
                Some(text) => tx.exec(sql, &[&id, &at, &text]).await,
                None => tx.exec(sql, &[&id, &at]).await,
            };
            if n.op(op)? == 0 {
                return Ok(false);
            }
            append_on(&tx, &audit).await?;
            tx.commit().await.op(op)?;
            Ok(true)
        })
    }
}

impl Store for PgStore {
    fn add_principal(
        &self,
        name: &str,
        now: UnixTime,
        bindings: &[Binding],
        audit: &AuditEvent,
    ) -> StoreResult<Principal> {
        const OP: &str = "add a principal";
        let (name, at, audit) = (name.to_owned(), secs(now)?, audit.clone());
        let texts: Vec<String> = bindings.iter().map(Binding::to_text).collect();
        self.run(OP, move |pool| async move {
            let mut client = client(&pool, OP).await?;
            let tx = client.transaction().await.op(OP)?;
            let row =
                tx.row("INSERT INTO principals (name, created_at) VALUES ($1, $2) RETURNING id", &[&name, &at]).await;
            let id = match row {
                Ok(row) => PrincipalId::new(get(&row, 0, "principal")?),
                Err(err) if err.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                    return Err(StoreError::PrincipalExists(name));
                }
                Err(err) => return Err(StoreError::backend(OP, err)),
            };
            bind_on(&tx, id, &texts).await?;
            append_on(&tx, &principal_added(&audit, id)).await?;
            tx.commit().await.op(OP)?;
            let mut bindings = texts.iter().map(|t| Binding::from_text(t)).collect::<StoreResult<Vec<_>>>()?;
            bindings.sort_by_key(Binding::to_text);
            bindings.dedup();
            Ok(Principal { id, name, created_at: now, bindings })
        })
    }

    fn principal(&self, name: &str) -> StoreResult<Option<Principal>> {
        let name = name.to_owned();
        self.run("look up a principal", move |pool| principal_where(pool, "name = $1", Some(name), 0))
    }

    fn principal_by_id(&self, id: PrincipalId) -> StoreResult<Option<Principal>> {
        self.run("look up a principal", move |pool| principal_where(pool, "id = $1", None, id.get()))
    }

    fn principals(&self) -> StoreResult<Vec<Principal>> {
        const OP: &str = "list principals";
        self.run(OP, |pool| async move {
            let client = client(&pool, OP).await?;
            principals_on(&*client).await
        })
    }

    fn remove_principal(&self, name: &str, guard: &PrincipalsGuard, audit: &AuditEvent) -> StoreResult<Guarded> {
        const OP: &str = "remove a principal";
        let (name, guard, audit) = (name.to_owned(), std::sync::Arc::clone(guard), audit.clone());
        self.run(OP, move |pool| async move {
            let mut client = client(&pool, OP).await?;
            let tx = client.transaction().await.op(OP)?;
            tx.exec("SELECT pg_advisory_xact_lock($1)", &[&PRINCIPALS_LOCK]).await.op(OP)?;
            let before = principals_on(&tx).await?;
            if tx.exec("DELETE FROM principals WHERE name = $1", &[&name]).await.op(OP)? == 0 {
                return Ok(Guarded::Missing);
            }
            if !guard(&before, &principals_on(&tx).await?) {
                return Ok(Guarded::Refused);
            }
            append_on(&tx, &audit).await?;
            tx.commit().await.op(OP)?;
            Ok(Guarded::Done)
        })
    }

    fn bind(&self, principal: PrincipalId, bindings: &[Binding], audit: &AuditEvent) -> StoreResult<()> {
        const OP: &str = "bind a principal";
        let texts: Vec<String> = bindings.iter().map(Binding::to_text).collect();
        let audit = audit.clone();
        self.run(OP, move |pool| async move {
            let mut client = client(&pool, OP).await?;
            let tx = client.transaction().await.op(OP)?;
            bind_on(&tx, principal, &texts).await?;
            append_on(&tx, &audit).await?;
            tx.commit().await.op(OP)
        })
    }

    fn unbind(
        &self,
        principal: PrincipalId,
        bindings: &[Binding],
        guard: &PrincipalsGuard,
        audit: &AuditEvent,
    ) -> StoreResult<Guarded> {
        const OP: &str = "unbind a principal";
        let texts: Vec<String> = bindings.iter().map(Binding::to_text).collect();
        let (guard, audit) = (std::sync::Arc::clone(guard), audit.clone());
        self.run(OP, move |pool| async move {
            let mut client = client(&pool, OP).await?;
            let tx = client.transaction().await.op(OP)?;
            tx.exec("SELECT pg_advisory_xact_lock($1)", &[&PRINCIPALS_LOCK]).await.op(OP)?;
            let before = principals_on(&tx).await?;
            for text in &texts {
                let sql = "DELETE FROM bindings WHERE principal_id = $1 AND binding = $2";
                if tx.exec(sql, &[&principal.get(), text]).await.op(OP)? == 0 {
                    return Ok(Guarded::Missing);
                }
            }
            if !guard(&before, &principals_on(&tx).await?) {
                return Ok(Guarded::Refused);
            }
            append_on(&tx, &audit).await?;
            tx.commit().await.op(OP)?;
            Ok(Guarded::Done)
        })
    }

    fn insert_token(&self, token: &NewToken, audit: &AuditEvent) -> StoreResult<TokenId> {
        const OP: &str = "store a token";
        let (token, audit) = (token.clone(), token_stored_template(audit, token));
        self.run(OP, move |pool| async move {
            let client = client(&pool, OP).await?;
            audit::insert_token_on(&*client, &token, &audit).await
        })
    }

    fn insert_exchanged(
        &self,
        token: &NewToken,
        once: &ExchangeOnce,
        now: UnixTime,
        audit: &AuditEvent,
    ) -> StoreResult<Exchanged> {
        const OP: &str = "store an exchanged token";
        let (token, once, at, audit) = (token.clone(), *once, secs(now)?, audit.clone());
        self.run(OP, move |pool| async move {
            let mut client = client(&pool, OP).await?;
            let tx = client.transaction().await.op(OP)?;
            // The owner's row lock orders exchanges for one principal, so the count holds.
            let owner = tx.maybe_row("SELECT 1 FROM principals WHERE id = $1 FOR UPDATE", &[&token.owner.get()]).await;
            if owner.op(OP)?.is_none() {
                return Err(StoreError::backend(OP, "the token's owner is gone"));
            }
            tx.exec("DELETE FROM exchanged_identities WHERE expires_at < $1", &[&at]).await.op(OP)?;
            let fresh = tx
                .exec(
                    "INSERT INTO exchanged_identities (digest, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&&once.digest[..], &secs(once.until)?],
                )
                .await
                .op(OP)?;
            if fresh == 0 {
                return Ok(Exchanged::Replayed);
            }
            let row = tx
                .row(
                    "SELECT count(*) FROM tokens WHERE owner_id = $1 AND origin IS NOT NULL AND revoked_at IS NULL
                     AND (expires_at IS NULL OR expires_at > $2)",
                    &[&token.owner.get(), &at],
                )
                .await
                .op(OP)?;
            let live: i64 = get(&row, 0, "live exchanged tokens")?;
            if u64::try_from(live).unwrap_or(u64::MAX) >= u64::from(once.max_live) {
                return Ok(Exchanged::AtCapacity);
            }
            let id = insert_on(&tx, &token).await?;
            append_on(&tx, &token_stored(&audit, id, &token)).await?;
            tx.commit().await.op(OP)?;
            Ok(Exchanged::Stored(id))
        })
    }

    fn insert_tokens(&self, tokens: &[NewToken], audit: &AuditEvent) -> StoreResult<Vec<TokenId>> {
        const OP: &str = "store a token";
        let (tokens, audit) = (tokens.to_vec(), audit.clone());
        self.run(OP, move |pool| async move {
            let mut client = client(&pool, OP).await?;
            let tx = client.transaction().await.op(OP)?;
            let mut ids = Vec::with_capacity(tokens.len());
            for token in &tokens {
                let id = insert_on(&tx, token).await?;
                append_on(&tx, &token_stored(&audit, id, token)).await?;
                ids.push(id);
            }
            tx.commit().await.op("commit new tokens")?;
            Ok(ids)
        })
    }

    fn token(&self, id: TokenId) -> StoreResult<Option<TokenRecord>> {
        let found = self
            .run("look up a token", move |pool| tokens_where(pool, "look up a token", "t.id = $1", vec![id.get()]))?;
        Ok(found.into_iter().next())
    }

    fn token_by_hash(&self, hash: &SecretHash) -> StoreResult<Option<TokenRecord>> {
        const OP: &str = "look up a token";
        let wanted = *hash;
        self.run(OP, move |pool| async move {
            let client = client(&pool, OP).await?;
            let sql = format!(
                "SELECT {TOKEN_COLUMNS}, t.secret_sha256 FROM tokens t JOIN principals p ON p.id = t.owner_id \
                 WHERE t.secret_sha256 = $1"
            );
            let Some(row) = client.maybe_row(&sql, &[&&wanted.0[..]]).await.op(OP)? else { return Ok(None) };
            // The index found it by hash; confirm in constant time before trusting it.
            let stored = rows::hash(get(&row, rows::AFTER_TOKEN_COLUMNS, "secret hash")?)?;
            if !stored.matches(&wanted) {
                return Ok(None);
            }
            rows::token(&row).map(Some)
        })
    }

    fn tokens(&self, owner: Option<PrincipalId>) -> StoreResult<Vec<TokenRecord>> {
        const OP: &str = "list tokens";
        self.run(OP, move |pool| match owner {
            Some(owner) => tokens_where(pool, OP, "t.owner_id = $1 ORDER BY t.id", vec![owner.get()]),
            None => tokens_where(pool, OP, "true ORDER BY t.id", Vec::new()),
        })
    }

    fn edit_token(&self, id: TokenId, edit: &TokenEdit, audit: &AuditEvent) -> StoreResult<Edited> {
        const OP: &str = "change a token";
        let (edit, audit) = (edit.clone(), audit.clone());
        self.run(OP, move |pool| async move {
            let id = id.get();
            let mut client = client(&pool, OP).await?;
            let tx = client.transaction().await.op(OP)?;
            let row = tx.maybe_row("SELECT revision FROM tokens WHERE id = $1 FOR UPDATE", &[&id]).await.op(OP)?;
            let Some(row) = row else { return Ok(Edited::NotFound) };
            let revision: i64 = get(&row, 0, "token revision")?;
            if edit.revision.is_some_and(|expected| Some(expected) != u64::try_from(revision).ok()) {
                return Ok(Edited::Conflict);
            }
            if let Some(name) = &edit.name {
                tx.exec("UPDATE tokens SET name = $2 WHERE id = $1", &[&id, name]).await.op(OP)?;
            }
            if let Some(description) = &edit.description {
                tx.exec("UPDATE tokens SET description = $2 WHERE id = $1", &[&id, description]).await.op(OP)?;
            }
            if let Some(expires_at) = edit.expires_at {
                tx.exec(
                    "UPDATE tokens SET expires_at = $2, last_warned_at = NULL WHERE id = $1",
                    &[&id, &opt_secs(expires_at)?],
                )
                .await
                .op(OP)?;
            }
            if let Some((hash, hint)) = &edit.secret {
                tx.exec("UPDATE tokens SET secret_sha256 = $2, hint = $3 WHERE id = $1", &[&id, &&hash.0[..], hint])
                    .await
                    .op(OP)?;
            }
            tx.exec("UPDATE tokens SET revision = revision + 1 WHERE id = $1", &[&id]).await.op(OP)?;
            append_on(&tx, &audit).await?;
            tx.commit().await.op("commit the token's change")?;
            Ok(Edited::Done)
        })
    }

    fn revoke_token(&self, id: TokenId, now: UnixTime, audit: &AuditEvent) -> StoreResult<bool> {
        let at = secs(now)?;
        self.audited(
            "revoke a token",
            audit,
            "UPDATE tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1",
            Box::new((id.get(), Some(at), None)),
        )
    }

    fn record_leak(&self, id: TokenId, leak: &LeakRecord, audit: &AuditEvent) -> StoreResult<bool> {
        let (at, text) = (secs(leak.at)?, leak.to_text()?);
        self.audited(
            "record a leak",
            audit,
            "UPDATE tokens SET revoked_at = coalesce(revoked_at, $2), leak = coalesce(leak, $3) WHERE id = $1",
            Box::new((id.get(), Some(at), Some(text))),
        )
    }

    fn claim_leak_report(&self, digest: &[u8; 32], now: UnixTime, until: UnixTime) -> StoreResult<bool> {
        const OP: &str = "take a leak report";
        let (digest, now, until) = (*digest, secs(now)?, secs(until)?);
        self.run(OP, move |pool| async move {
            let mut client = client(&pool, OP).await?;
            let tx = client.transaction().await.op(OP)?;
            tx.exec("DELETE FROM leak_reports WHERE expires_at <= $1", &[&now]).await.op(OP)?;
            let fresh = tx
                .exec(
                    "INSERT INTO leak_reports (digest, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&&digest[..], &until],
                )
                .await
                .op(OP)?;
            tx.commit().await.op(OP)?;
            Ok(fresh == 1)
        })
    }

    fn delete_token(&self, id: TokenId, audit: &AuditEvent) -> StoreResult<bool> {
        const OP: &str = "delete a token";
        let audit = audit.clone();
        self.run(OP, move |pool| async move {
            let mut client = client(&pool, OP).await?;
            let tx = client.transaction().await.op(OP)?;
            if tx.exec("DELETE FROM tokens WHERE id = $1", &[&id.get()]).await.op(OP)? == 0 {
                return Ok(false);
            }
            append_on(&tx, &audit).await?;
            tx.commit().await.op(OP)?;
            Ok(true)
        })
    }

    fn expiring(&self, now: UnixTime, before: UnixTime) -> StoreResult<Vec<TokenRecord>> {
        const OP: &str = "list expiring tokens";
        let (now, before) = (secs(now)?, secs(before)?);
        self.run(OP, move |pool| {
            tokens_where(
                pool,
                OP,
                "t.revoked_at IS NULL AND t.expires_at > $1 AND t.expires_at <= $2 ORDER BY t.expires_at",
                vec![now, before],
            )
        })
    }

    fn claim_warning(&self, id: TokenId, now: UnixTime, not_since: UnixTime, audit: &AuditEvent) -> StoreResult<bool> {
        const OP: &str = "record a warning";
        let (now, not_since, audit) = (secs(now)?, secs(not_since)?, audit.clone());
        self.run(OP, move |pool| async move {
            let mut client = client(&pool, OP).await?;
            let tx = client.transaction().await.op(OP)?;
            // The row lock makes a second claimer re-read the row after the first commits.
            let n = tx
                .exec(
                    "UPDATE tokens SET last_warned_at = $2
                     WHERE id = $1 AND (last_warned_at IS NULL OR last_warned_at <= $3)",
                    &[&id.get(), &now, &not_since],
                )
                .await
                .op(OP)?;
            if n == 0 {
                return Ok(false);
            }
            append_on(&tx, &audit).await?;
            tx.commit().await.op(OP)?;
            Ok(true)
        })
    }

    fn add_usage(&self, deltas: &[UsageDelta]) -> StoreResult<()> {
        const OP: &str = "write usage counts";
        let mut ids = Vec::with_capacity(deltas.len());
        let mut uses = Vec::with_capacity(deltas.len());
        let mut last = Vec::with_capacity(deltas.len());
        for d in deltas {
            ids.push(d.token.get());
            uses.push(to_i64("a use count", d.uses)?);
            last.push(secs(d.last_used_at)?);
        }
        self.run(OP, move |pool| async move {
            let client = client(&pool, OP).await?;
            // One statement: the batch is added whole or not at all, and each
            // host's increments add to whatever the others wrote.
            client
                .exec(
                    "UPDATE tokens t SET use_count = t.use_count + d.uses,
                        last_used_at = greatest(coalesce(t.last_used_at, 0), d.last_used)
                     FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS d(id, uses, last_used)
                     WHERE t.id = d.id",
                    &[&ids, &uses, &last],
                )
                .await
                .op(OP)?;
            Ok(())
        })
    }

    fn change_counter(&self) -> StoreResult<u64> {
        const OP: &str = "read the change counter";
        self.run(OP, |pool| async move {
            let client = client(&pool, OP).await?;
            let row = client.row("SELECT counter FROM changes WHERE id = 1", &[]).await.op(OP)?;
            Ok(count(get(&row, 0, "change counter")?))
        })
    }

    fn changes_since(&self, cursor: u64, limit: usize) -> StoreResult<Changes> {
        const OP: &str = "read the change feed";
        let after = to_i64("cursor", cursor)?;
        let take = to_i64("limit", u64::try_from(limit).unwrap_or(u64::MAX))?.saturating_add(1);
        self.run(OP, move |pool| async move {
            let client = client(&pool, OP).await?;
            let oldest: Option<i64> = client.row("SELECT min(seq) FROM change_log", &[]).await.op(OP)?.get(0);
            let mut changes = Changes {
                cursor,
                reset: oldest.is_some_and(|oldest| oldest > after.saturating_add(1)),
                ..Changes::default()
            };
            let rows = client
                .rows(
                    "SELECT seq, secret_sha256, principal FROM change_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                    &[&after, &take],
                )
                .await
                .op(OP)?;
            for (taken, row) in rows.iter().enumerate() {
                if taken == limit {
                    changes.more = true;
                    break;
                }
                changes.cursor = count(get(row, 0, "change")?);
                if let Some(hash) = get::<Option<Vec<u8>>>(row, 1, "change")? {
                    changes.tokens.push(rows::hash(hash)?);
                }
                if let Some(principal) = get::<Option<String>>(row, 2, "change")? {
                    changes.principals.push(principal);
                }
            }
            Ok(changes)
        })
    }

    fn change_head(&self) -> StoreResult<u64> {
        const OP: &str = "read the change feed's head";
        self.run(OP, |pool| async move {
            let client = client(&pool, OP).await?;
            let row = client.row("SELECT coalesce(max(seq), 0) FROM change_log", &[]).await.op(OP)?;
            Ok(count(get(&row, 0, "change feed head")?))
        })
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
        let (hash, now, expires_at, audit) = (hash.0.to_vec(), secs(now)?, secs(expires_at)?, audit.clone());
        self.run(OP, move |pool| async move {
            let mut client = client(&pool, OP).await?;
            let tx = client.transaction().await.op(OP)?;
            tx.exec("DELETE FROM sign_in_links WHERE expires_at < $1", &[&now.saturating_sub(86_400)]).await.op(OP)?;
            tx.exec(
                "INSERT INTO sign_in_links (secret_sha256, principal_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                &[&hash, &principal.get(), &now, &expires_at],
            )
            .await
            .op(OP)?;
            append_on(&tx, &audit).await?;
            tx.commit().await.op(OP)
        })
    }

    fn use_sign_in_link(
        &self,
        hash: &SecretHash,
        now: UnixTime,
        audit: &AuditEvent,
    ) -> StoreResult<Option<PrincipalId>> {
        const OP: &str = "use a sign-in link";
        let (hash, now, audit) = (hash.0.to_vec(), secs(now)?, audit.clone());
        self.run(OP, move |pool| async move {
            let mut client = client(&pool, OP).await?;
            let tx = client.transaction().await.op(OP)?;
            let row = tx
                .maybe_row(
                    "UPDATE sign_in_links l SET used_at = $2 FROM principals p
                     WHERE l.secret_sha256 = $1 AND l.used_at IS NULL AND l.expires_at > $2 AND p.id = l.principal_id
                     RETURNING l.principal_id, p.name",
                    &[&hash, &now],
                )
                .await
                .op(OP)?;
            let Some(row) = row else { return Ok(None) };
            let id = PrincipalId::new(get(&row, 0, "sign-in link")?);
            let name: String = get(&row, 1, "sign-in link")?;
            append_on(&tx, &signed_in(&audit, id, &name)).await?;
            tx.commit().await.op(OP)?;
            Ok(Some(id))
        })
    }

    fn watch(&self, signal: Arc<dyn Fn(StoreSignal) + Send + Sync>) -> StoreResult<Option<Watch>> {
        Ok(Some(super::listen::spawn(&self.handle, self.listen.clone(), signal)))
    }

    fn export(&self) -> StoreResult<Snapshot> {
        self.run_for("read the whole store", super::copy::BOUND, super::copy::export)
    }

    fn import(&self, snapshot: &Snapshot, replace: bool, audit: &AuditEvent) -> StoreResult<()> {
        let (snapshot, audit) = (snapshot.clone(), audit.clone());
        self.run_for("write the whole store", super::copy::BOUND, move |pool| {
            super::copy::import(pool, snapshot, replace, audit)
        })
    }

    fn append_audit(&self, event: &AuditEvent) -> StoreResult<u64> {
        let event = event.clone();
        self.run("write the audit event", move |pool| audit::append(pool, event))
    }

    fn audit_rows(&self, after: u64, limit: usize) -> StoreResult<Vec<AuditRow>> {
        self.run("read the audit trail", move |pool| audit::rows_after(pool, after, limit))
    }

    fn audit_events(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRow>> {
        let query = query.clone();
        self.run("read the audit trail", move |pool| audit::events(pool, query))
    }

    fn audit_head(&self) -> StoreResult<(u64, ChainHash)> {
        self.run("read the audit head", audit::head)
    }

    fn prune_audit(&self, before: UnixTime, event: &AuditEvent) -> StoreResult<u64> {
        let event = event.clone();
        self.run("prune the audit trail", move |pool| audit::prune(pool, before, event))
    }

    fn fleet(&self) -> Option<&dyn Fleet> {
        Some(self)
    }
}
