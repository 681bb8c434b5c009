//! What other processes learn of the SQLite store's changes: the change counter,
//! the change feed (old secret hashes and principals, for gateways' caches), and
//! a watch on the store's files that hears a commit by any process.

use std::path::Path;
use std::sync::Arc;

use super::SqliteStore;
use super::rows::{Op, count, to_i64};
use crate::store::error::StoreError;
use crate::store::types::{Changes, stored_hash};
use crate::store::{StoreResult, StoreSignal, Watch};

impl SqliteStore {
    /// A commit by any process writes the `-wal` file (or, after a checkpoint, the
    /// database file): a watch on their directory hears of it within milliseconds.
    pub(super) fn watch_files(&self, signal: Arc<dyn Fn(StoreSignal) + Send + Sync>) -> StoreResult<Option<Watch>> {
        let changed = move || signal(StoreSignal::Changed { sent_ms: None });
        use notify::{EventKind, RecursiveMode, Watcher};
        let dir = self.path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
        let Some(name) = self.path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            return Ok(None);
        };
        let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return changed() };
            let ours = event
                .paths
                .iter()
                .any(|p| p.file_name().map(|n| n.to_string_lossy()).is_some_and(|n| n.starts_with(name.as_str())));
            if ours && matches!(event.kind, EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)) {
                changed();
            }
        })
        .map_err(|e| StoreError::backend("watch the store for changes", e))?;
        watcher
            .watch(&dir, RecursiveMode::NonRecursive)
            .map_err(|e| StoreError::backend("watch the store for changes", e))?;
        Ok(Some(Watch::new(watcher)))
    }

    pub(super) fn read_change_head(&self) -> StoreResult<u64> {
        let conn = self.reader()?;
        let head: i64 = conn
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM change_log")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .op("read the change feed's head")?;
        Ok(count(head))
    }

    pub(super) fn read_changes(&self, cursor: u64, limit: usize) -> StoreResult<Changes> {
        let conn = self.reader()?;
        let after = to_i64("cursor", cursor)?;
        let oldest: Option<i64> = conn
            .prepare_cached("SELECT min(seq) FROM change_log")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .op("read the change feed")?;
        let mut changes = Changes {
            cursor,
            reset: oldest.is_some_and(|oldest| oldest > after.saturating_add(1)),
            ..Changes::default()
        };
        let mut stmt = conn
            .prepare_cached("SELECT seq, secret_sha256, principal FROM change_log WHERE seq > ?1 ORDER BY seq LIMIT ?2")
            .op("read the change feed")?;
        let rows = stmt
            .query_map(
                rusqlite::params![after, to_i64("limit", u64::try_from(limit).unwrap_or(u64::MAX))?.saturating_add(1)],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<Vec<u8>>>(1)?, r.get::<_, Option<String>>(2)?)),
            )
            .op("read the change feed")?;
        for (taken, row) in rows.enumerate() {
            let (seq, hash, principal) = row.op("read the change feed")?;
            if taken == limit {
                changes.more = true;
                break;
            }
            changes.cursor = count(seq);
            if let Some(hash) = hash {
                changes.tokens.push(stored_hash(hash)?);
            }
            if let Some(principal) = principal {
                changes.principals.push(principal);
            }
        }
        Ok(changes)
    }

    pub(super) fn read_change_counter(&self) -> StoreResult<u64> {
        let conn = self.reader()?;
        let counter: i64 = conn
            .prepare_cached("SELECT counter FROM changes WHERE id = 1")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .op("read the change counter")?;
        Ok(count(counter))
    }
}
