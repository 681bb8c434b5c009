//! The fleet's shared state in PostgreSQL: modules by digest, the rollout
//! stack (its newest row not rolled back is the desired module; a change
//! NOTIFYs `tokenscope_policy`), and heartbeats stamped by the database's clock.

use super::audit::append_on;
use super::rows::{count, get, secs, time};
use super::sql::Sql;
use super::{Op, PgStore, client};
use crate::audit::AuditEvent;
use crate::store::{Desired, Fleet, FleetHost, HostBeat, Published, RolledBack, StoreResult};
use crate::time::UnixTime;

const DESIRED: &str = "SELECT seq, sha256, published_by, published_at FROM policy_rollout
     WHERE rolled_back_at IS NULL ORDER BY seq DESC LIMIT 1";

fn desired(row: &tokio_postgres::Row) -> StoreResult<Desired> {
    Ok(Desired {
        seq: count(get(row, 0, "rollout")?),
        sha256: get(row, 1, "rollout")?,
        published_by: get(row, 2, "rollout")?,
        published_at: time(get(row, 3, "rollout")?),
    })
}

/// The lock publishing and rolling back hold, so the stack changes one at a time.
const ROLLOUT_LOCK: i64 = 0x726f_6c6c_6f75;

impl Fleet for PgStore {
    fn publish_module(
        &self,
        bytes: &[u8],
        sha256: &str,
        by: &str,
        now: UnixTime,
        audit: &AuditEvent,
    ) -> StoreResult<Published> {
        const OP: &str = "publish a policy module";
        let (bytes, sha256, by, at) = (bytes.to_vec(), sha256.to_owned(), by.to_owned(), secs(now)?);
        let audit = audit.clone();
        self.run(OP, move |pool| async move {
            let mut client = client(&pool, OP).await?;
            let tx = client.transaction().await.op(OP)?;
            tx.exec("SELECT pg_advisory_xact_lock($1)", &[&ROLLOUT_LOCK]).await.op(OP)?;
            if let Some(row) = tx.maybe_row(DESIRED, &[]).await.op(OP)? {
                let current = desired(&row)?;
                if current.sha256 == sha256 {
                    return Ok(Published::Unchanged(current));
                }
            }
            tx.exec(
                "INSERT INTO policy_modules (sha256, bytes, published_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&sha256, &bytes, &at],
            )
            .await
            .op(OP)?;
            let row = tx
                .row(
                    "INSERT INTO policy_rollout (sha256, published_by, published_at) VALUES ($1, $2, $3)
                     RETURNING seq, sha256, published_by, published_at",
                    &[&sha256, &by, &at],
                )
                .await
                .op(OP)?;
            let published = desired(&row)?;
            append_on(&tx, &audit).await?;
            tx.commit().await.op(OP)?;
            Ok(Published::Published(published))
        })
    }

    fn desired_module(&self) -> StoreResult<Option<Desired>> {
        const OP: &str = "read the desired policy module";
        self.run(OP, |pool| async move {
            let client = client(&pool, OP).await?;
            client.maybe_row(DESIRED, &[]).await.op(OP)?.as_ref().map(desired).transpose()
        })
    }

    fn module_bytes(&self, sha256: &str) -> StoreResult<Option<Vec<u8>>> {
        const OP: &str = "read a published policy module";
        let sha256 = sha256.to_owned();
        self.run(OP, move |pool| async move {
            let client = client(&pool, OP).await?;
            let row =
                client.maybe_row("SELECT bytes FROM policy_modules WHERE sha256 = $1", &[&sha256]).await.op(OP)?;
            row.map(|r| get(&r, 0, "policy module")).transpose()
        })
    }

    fn roll_back(&self, by: &str, now: UnixTime, audit: &AuditEvent) -> StoreResult<RolledBack> {
        const OP: &str = "roll the fleet's policy back";
        let (by, at, audit) = (by.to_owned(), secs(now)?, audit.clone());
        self.run(OP, move |pool| async move {
            let mut client = client(&pool, OP).await?;
            let tx = client.transaction().await.op(OP)?;
            tx.exec("SELECT pg_advisory_xact_lock($1)", &[&ROLLOUT_LOCK]).await.op(OP)?;
            let Some(row) = tx.maybe_row(DESIRED, &[]).await.op(OP)? else { return Ok(RolledBack::NothingPublished) };
            let from = desired(&row)?;
            let seq = i64::try_from(from.seq).unwrap_or(i64::MAX);
            tx.exec(
                "UPDATE policy_rollout SET rolled_back_at = $2, rolled_back_by = $3 WHERE seq = $1",
                &[&seq, &at, &by],
            )
            .await
            .op(OP)?;
            let to = tx.maybe_row(DESIRED, &[]).await.op(OP)?.as_ref().map(desired).transpose()?;
            let change = serde_json::json!({"from": from.sha256, "to": to.as_ref().map(|t| t.sha256.clone())});
            append_on(&tx, &audit.with_change(None, Some(change))).await?;
            tx.commit().await.op(OP)?;
            Ok(RolledBack::RolledBack { from, to })
        })
    }

    fn heartbeat(&self, beat: &HostBeat) -> StoreResult<()> {
        const OP: &str = "send a heartbeat";
        let beat = beat.clone();
        let started = secs(beat.started_at)?;
        let lag = beat.invalidation_lag_ms.map(|ms| i64::try_from(ms).unwrap_or(i64::MAX));
        self.run(OP, move |pool| async move {
            let client = client(&pool, OP).await?;
            client
                .exec(
                    "INSERT INTO fleet_hosts (id, listen, version, started_at, heartbeat_at, active_sha256, refused,
                        invalidation_lag_ms, listening, active_signer)
                     VALUES ($1, $2, $3, $4, now(), $5, $6, $7, $8, $9)
                     ON CONFLICT (id) DO UPDATE SET listen = $2, version = $3, started_at = $4, heartbeat_at = now(),
                        active_sha256 = $5, refused = $6, invalidation_lag_ms = $7, listening = $8, active_signer = $9",
                    &[
                        &beat.id,
                        &beat.listen,
                        &beat.version,
                        &started,
                        &beat.active_sha256,
                        &beat.refused,
                        &lag,
                        &beat.listening,
                        &beat.active_signer,
                    ],
                )
                .await
                .op(OP)?;
            client.exec("DELETE FROM fleet_hosts WHERE heartbeat_at < now() - interval '1 hour'", &[]).await.op(OP)?;
            Ok(())
        })
    }

    fn leave(&self, id: &str) -> StoreResult<()> {
        const OP: &str = "leave the fleet";
        let id = id.to_owned();
        self.run(OP, move |pool| async move {
            let client = client(&pool, OP).await?;
            client.exec("DELETE FROM fleet_hosts WHERE id = $1", &[&id]).await.op(OP)?;
            Ok(())
        })
    }

    fn hosts(&self, within_secs: u64) -> StoreResult<Vec<FleetHost>> {
        const OP: &str = "list the fleet's hosts";
        let within = f64::from(u32::try_from(within_secs).unwrap_or(u32::MAX));
        self.run(OP, move |pool| async move {
            let client = client(&pool, OP).await?;
            let rows = client
                .rows(
                    "SELECT id, listen, version, started_at, active_sha256, refused, invalidation_lag_ms, listening,
                        (extract(epoch FROM now() - heartbeat_at) * 1000)::bigint, active_signer
                     FROM fleet_hosts WHERE heartbeat_at >= now() - make_interval(secs => $1) ORDER BY id",
                    &[&within],
                )
                .await
                .op(OP)?;
            rows.iter()
                .map(|row| {
                    const WHAT: &str = "fleet host";
                    Ok(FleetHost {
                        beat: HostBeat {
                            id: get(row, 0, WHAT)?,
                            listen: get(row, 1, WHAT)?,
                            version: get(row, 2, WHAT)?,
                            started_at: time(get(row, 3, WHAT)?),
                            active_sha256: get(row, 4, WHAT)?,
                            refused: get(row, 5, WHAT)?,
                            invalidation_lag_ms: get::<Option<i64>>(row, 6, WHAT)?.map(count),
                            listening: get(row, 7, WHAT)?,
                            active_signer: get(row, 9, WHAT)?,
                        },
                        heartbeat_age_ms: count(get(row, 8, WHAT)?),
                    })
                })
                .collect()
        })
    }
}
