//! Usage counting without a write per request: successful verifications are
//! counted in memory and flushed to the store in one transaction per interval
//! (and on clean shutdown). A crash loses at most one interval of counts, never a token.

use foldhash::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::locks;
use crate::store::{Store, StoreError, TokenId, UsageDelta};
use crate::time::UnixTime;

/// Uses counted in memory since the last flush, and how the flushes went.
#[derive(Default)]
pub struct UsageRecorder {
    pending: Mutex<HashMap<TokenId, (u64, UnixTime)>>,
    flushes: AtomicU64,
    failed_flushes: AtomicU64,
}

impl UsageRecorder {
    /// Counts one use of `token` at `now`.
    pub fn record(&self, token: TokenId, now: UnixTime) {
        let mut pending = locks::lock(&self.pending, "usage counts");
        let entry = pending.entry(token).or_insert((0, now));
        entry.0 += 1;
        entry.1 = entry.1.max(now);
    }

    /// Writes what was counted; on failure the counts are kept for the next flush.
    pub fn flush(&self, store: &dyn Store) -> Result<usize, StoreError> {
        let taken: Vec<UsageDelta> = {
            let mut pending = locks::lock(&self.pending, "usage counts");
            pending.drain().map(|(token, (uses, last_used_at))| UsageDelta { token, uses, last_used_at }).collect()
        };
        if taken.is_empty() {
            return Ok(0);
        }
        if let Err(err) = store.add_usage(&taken) {
            self.failed_flushes.fetch_add(1, Ordering::Relaxed);
            let mut pending = locks::lock(&self.pending, "usage counts");
            for d in &taken {
                let entry = pending.entry(d.token).or_insert((0, d.last_used_at));
                entry.0 += d.uses;
                entry.1 = entry.1.max(d.last_used_at);
            }
            return Err(err);
        }
        self.flushes.fetch_add(1, Ordering::Relaxed);
        Ok(taken.len())
    }

    /// Batches written, and batches that failed (kept for the next flush).
    pub fn flush_counts(&self) -> (u64, u64) {
        (self.flushes.load(Ordering::Relaxed), self.failed_flushes.load(Ordering::Relaxed))
    }

    /// Flushes every `interval` until the returned handle is aborted; a failed
    /// flush keeps its counts for the next one.
    pub fn spawn_flusher(self: &Arc<Self>, store: Arc<dyn Store>, interval: Duration) -> tokio::task::JoinHandle<()> {
        let recorder = Arc::clone(self);
        crate::periodic::spawn_periodic("usage flush", interval, move || {
            let flushed = recorder.flush(store.as_ref())?;
            if flushed > 0 {
                tracing::debug!(tokens = flushed, "usage flushed");
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use crate::store::{NewToken, SqliteStore, StoredGrants};

    /// The event these tests' writes record.
    fn audit() -> crate::audit::AuditEvent {
        crate::audit::AuditEvent::by_operator("test", "")
    }

    fn store_with_token(dir: &std::path::Path) -> (Arc<dyn Store>, TokenId) {
        let store = SqliteStore::open(&dir.join("u.db")).unwrap();
        let owner = store.add_principal("p", UnixTime::default(), &[], &audit()).unwrap();
        let secret = Secret::generate().unwrap();
        let id = store
            .insert_token(
                &NewToken {
                    owner: owner.id,
                    name: "t".into(),
                    description: String::new(),
                    hash: secret.hash(),
                    hint: secret.hint(),
                    grants: StoredGrants::Scopes(vec!["artifact".into()]),
                    created_at: UnixTime::default(),
                    expires_at: None,
                    origin: None,
                },
                &audit(),
            )
            .unwrap();
        (Arc::new(store), id)
    }

    #[test]
    fn counts_survive_a_panic_while_the_counter_was_held() {
        let dir = tempfile::tempdir().unwrap();
        let (store, id) = store_with_token(dir.path());
        let recorder = Arc::new(UsageRecorder::default());
        recorder.record(id, UnixTime::from_secs(5));
        let held = Arc::clone(&recorder);
        let _ = std::thread::spawn(move || {
            let _guard = held.pending.lock().unwrap();
            panic!("a bug while counting");
        })
        .join();
        assert!(recorder.pending.is_poisoned());
        recorder.record(id, UnixTime::from_secs(6));
        assert_eq!(recorder.flush(store.as_ref()).unwrap(), 1, "neither dropped nor an error");
        assert_eq!(store.token(id).unwrap().unwrap().use_count, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn the_flusher_writes_counts_once_per_interval() {
        let dir = tempfile::tempdir().unwrap();
        let (store, id) = store_with_token(dir.path());
        let recorder = Arc::new(UsageRecorder::default());
        let task = recorder.spawn_flusher(Arc::clone(&store), Duration::from_secs(1));
        tokio::time::sleep(Duration::from_millis(10)).await; // the first, immediate tick: nothing to write
        for now in 100..103 {
            recorder.record(id, UnixTime::from_secs(now));
        }
        assert_eq!(store.token(id).unwrap().unwrap().use_count, 0, "counted in memory only");
        tokio::time::advance(Duration::from_secs(1)).await;
        for _ in 0..1000 {
            if store.token(id).unwrap().unwrap().use_count == 3 {
                break;
            }
            tokio::task::yield_now().await;
            std::thread::sleep(Duration::from_millis(5));
        }
        let record = store.token(id).unwrap().unwrap();
        assert_eq!((record.use_count, record.last_used_at), (3, Some(UnixTime::from_secs(102))));
        task.abort();
    }
}
