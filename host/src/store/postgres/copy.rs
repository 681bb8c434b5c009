//! The whole store at once, for `tokenscope store copy`: read in one
//! repeatable-read transaction, written in one transaction that keeps ids and
//! moves the id sequences past them.

use std::time::Duration;

use deadpool_postgres::Pool;

use super::audit::{all_on, append_on, head_on, insert_on, set_head};
use super::rows::{self, TOKEN_COLUMNS, get, opt_secs, secs, to_i64};
use super::sql::Sql;
use super::{Op, client};
use crate::audit::AuditEvent;
use crate::store::audited::copied;
use crate::store::{Binding, Principal, PrincipalId, Snapshot, StoreError, StoreResult, StoredLink, StoredToken};

/// How long a whole-store copy may take.
pub const BOUND: Duration = Duration::from_secs(600);

pub async fn export(pool: Pool) -> StoreResult<Snapshot> {
    const OP: &str = "read the whole store";
    let mut client = client(&pool, OP).await?;
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .op(OP)?;
    let mut principals = Vec::new();
    for row in tx.rows("SELECT id, name, created_at FROM principals ORDER BY id", &[]).await.op(OP)? {
        principals.push(Principal {
            id: PrincipalId::new(get(&row, 0, "principal")?),
            name: get(&row, 1, "principal")?,
            created_at: rows::time(get(&row, 2, "principal")?),
            bindings: Vec::new(),
        });
    }
    let mut bindings = std::collections::HashMap::<PrincipalId, Vec<Binding>>::new();
    let rows =
        tx.rows("SELECT principal_id, binding FROM bindings ORDER BY principal_id, binding", &[]).await.op(OP)?;
    for row in rows {
        let id = PrincipalId::new(get(&row, 0, "binding")?);
        bindings.entry(id).or_default().push(Binding::from_text(&get::<String>(&row, 1, "binding")?)?);
    }
    for principal in &mut principals {
        principal.bindings = bindings.remove(&principal.id).unwrap_or_default();
    }
    let sql = format!(
        "SELECT {TOKEN_COLUMNS}, t.secret_sha256 FROM tokens t JOIN principals p ON p.id = t.owner_id ORDER BY t.id"
    );
    let mut tokens = Vec::new();
    for row in tx.rows(&sql, &[]).await.op(OP)? {
        tokens.push(StoredToken {
            record: rows::token(&row)?,
            hash: rows::hash(get(&row, rows::AFTER_TOKEN_COLUMNS, "secret hash")?)?,
        });
    }
    let mut links = Vec::new();
    let link_rows = tx
        .rows("SELECT secret_sha256, principal_id, created_at, expires_at, used_at FROM sign_in_links ORDER BY secret_sha256", &[])
        .await
        .op(OP)?;
    for row in link_rows {
        links.push(StoredLink {
            hash: rows::hash(get(&row, 0, "sign-in link")?)?,
            principal: PrincipalId::new(get(&row, 1, "sign-in link")?),
            created_at: rows::time(get(&row, 2, "sign-in link")?),
            expires_at: rows::time(get(&row, 3, "sign-in link")?),
            used_at: get::<Option<i64>>(&row, 4, "sign-in link")?.map(rows::time),
        });
    }
    let (audit, audit_head) = all_on(&tx).await?;
    tx.commit().await.op(OP)?;
    Ok(Snapshot { principals, tokens, links, audit, audit_head })
}

pub async fn import(pool: Pool, snapshot: Snapshot, replace: bool, audit: AuditEvent) -> StoreResult<()> {
    const OP: &str = "write the whole store";
    let mut client = client(&pool, OP).await?;
    let tx = client.transaction().await.op(OP)?;
    // Nobody else writes principals or tokens while we decide and copy.
    tx.batch_execute("LOCK TABLE principals, tokens IN EXCLUSIVE MODE").await.op(OP)?;
    // The head's lock keeps every host's appends out until the copy commits.
    let replaced = head_on(&tx, true).await?;
    let row = tx
        .row(
            "SELECT (SELECT count(*) FROM principals) + (SELECT count(*) FROM tokens)
                + (SELECT count(*) FROM audit_events)",
            &[],
        )
        .await
        .op(OP)?;
    let held: i64 = get(&row, 0, "row count")?;
    if held > 0 && !replace {
        return Err(StoreError::NotEmpty);
    }
    tx.batch_execute(
        "DELETE FROM sign_in_links; DELETE FROM tokens; DELETE FROM bindings; DELETE FROM principals;
         DELETE FROM audit_events;",
    )
    .await
    .op(OP)?;
    for row in &snapshot.audit {
        insert_on(&tx, row).await?;
    }
    set_head(&tx, snapshot.audit_head.0, &snapshot.audit_head.1).await?;
    for p in &snapshot.principals {
        tx.exec(
            "INSERT INTO principals (id, name, created_at) VALUES ($1, $2, $3)",
            &[&p.id.get(), &p.name, &secs(p.created_at)?],
        )
        .await
        .op(OP)?;
        for binding in &p.bindings {
            tx.exec("INSERT INTO bindings (principal_id, binding) VALUES ($1, $2)", &[&p.id.get(), &binding.to_text()])
                .await
                .op(OP)?;
        }
    }
    let insert = "INSERT INTO tokens (id, owner_id, name, description, secret_sha256, hint, grants, created_at,
            expires_at, revoked_at, use_count, last_used_at, last_warned_at, revision, origin, leak)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";
    for StoredToken { record: t, hash } in &snapshot.tokens {
        let grants = serde_json::to_string(&t.grants).map_err(|e| StoreError::backend(OP, e))?;
        tx.exec(
            insert,
            &[
                &t.id.get(),
                &t.owner.get(),
                &t.name,
                &t.description,
                &&hash.0[..],
                &t.hint,
                &grants,
                &secs(t.created_at)?,
                &opt_secs(t.expires_at)?,
                &opt_secs(t.revoked_at)?,
                &to_i64("a use count", t.use_count)?,
                &opt_secs(t.last_used_at)?,
                &opt_secs(t.last_warned_at)?,
                &to_i64("a revision", t.revision)?,
                &t.origin.as_ref().map(crate::store::TokenOrigin::to_text).transpose()?,
                &t.leak.as_ref().map(crate::store::LeakRecord::to_text).transpose()?,
            ],
        )
        .await
        .op(OP)?;
    }
    for link in &snapshot.links {
        tx.exec(
            "INSERT INTO sign_in_links (secret_sha256, principal_id, created_at, expires_at, used_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &&link.hash.0[..],
                &link.principal.get(),
                &secs(link.created_at)?,
                &secs(link.expires_at)?,
                &opt_secs(link.used_at)?,
            ],
        )
        .await
        .op(OP)?;
    }
    tx.batch_execute(
        "SELECT setval(pg_get_serial_sequence('principals', 'id'), coalesce((SELECT max(id) FROM principals), 0) + 1, false);
         SELECT setval(pg_get_serial_sequence('tokens', 'id'), coalesce((SELECT max(id) FROM tokens), 0) + 1, false);",
    )
    .await
    .op(OP)?;
    append_on(&tx, &copied(&audit, &snapshot, replaced)).await?;
    tx.commit().await.op("commit the copy")
}
