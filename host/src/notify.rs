//! Expiry warnings, as acs describes them: every `interval`, tokens that expire
//! within `window` are logged, each at most once per `backoff`, as
//! `Warn: API Token <name> (ID <id>) will expire in less than <N> days.` When a
//! token was last warned is stored and claimed in the store, so neither a
//! restart nor another host of the fleet warns again early.

use std::sync::Arc;

use anyhow::Result;

use crate::audit::{AuditActor, AuditEvent};
use crate::config::NotifierConfig;
use crate::store::{Store, TokenRecord};
use crate::time::{Clock, UnixTime};

const DAY: u64 = 86_400;

/// Logs acs's expiry warnings for the tokens of one store.
pub struct ExpiryNotifier {
    store: Arc<dyn Store>,
    config: NotifierConfig,
    clock: Arc<dyn Clock>,
    host: String,
}

/// The warning line for a token, N rounded up to whole days.
pub fn warning_line(token: &TokenRecord, now: UnixTime) -> Option<String> {
    let left = token.expires_at?.since(now)?.as_secs();
    let days = left.div_ceil(DAY).max(1);
    Some(format!("Warn: API Token {} (ID {}) will expire in less than {days} days.", token.name, token.id))
}

impl ExpiryNotifier {
    /// A notifier over `store` with `config`'s interval, backoff and window.
    pub fn new(store: Arc<dyn Store>, config: NotifierConfig, clock: Arc<dyn Clock>) -> ExpiryNotifier {
        ExpiryNotifier { store, config, clock, host: String::new() }
    }

    /// The same notifier, naming its host `host` in the audit events of its warnings.
    pub fn on_host(mut self, host: &str) -> ExpiryNotifier {
        host.clone_into(&mut self.host);
        self
    }

    /// One pass: logs and returns the warnings due now, and records them.
    pub fn run_once(&self) -> Result<Vec<String>> {
        let now = self.clock.now();
        let backoff = self.config.backoff;
        let mut lines = Vec::new();
        for token in self.store.expiring(now, now.saturating_add(self.config.window))? {
            if token.last_warned_at.is_some_and(|at| now.since(at).unwrap_or_default() < backoff) {
                continue;
            }
            let Some(line) = warning_line(&token, now) else { continue };
            // The claim is the fleet's: of hosts sharing a store, one logs each warning.
            let not_since = UnixTime::from_secs(now.secs().saturating_sub(backoff.as_secs()));
            let audit = AuditEvent::new(
                now,
                &self.host,
                AuditActor::system("expiry-notifier"),
                "token.expiry-warning",
                format!("token/{}", token.id),
            )
            .with_owner(token.owner)
            .with_change(None, Some(serde_json::json!({"expires_at": token.expires_at, "warning": line})));
            if self.store.claim_warning(token.id, now, not_since, &audit)? {
                tracing::warn!(target: "tokenscope::expiry", token = token.id.get(), "{line}");
                lines.push(line);
            }
        }
        Ok(lines)
    }

    /// Runs a pass every `interval` until the task is aborted.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        let interval = self.config.interval;
        crate::periodic::spawn_periodic("expiry check", interval, move || self.run_once().map(drop))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    /// The event these tests' writes record.
    fn audit() -> crate::audit::AuditEvent {
        crate::audit::AuditEvent::by_operator("test", "")
    }

    use super::*;
    use crate::secret::Secret;
    use crate::store::{NewToken, SqliteStore, StoredGrants};
    use crate::time::ManualClock;

    const T0: u64 = 1_800_000_000;

    fn at(seconds: u64) -> UnixTime {
        UnixTime::from_secs(seconds)
    }

    fn setup(dir: &std::path::Path) -> (Arc<dyn Store>, crate::store::TokenId) {
        let store = SqliteStore::open(&dir.join("t.db")).unwrap();
        let owner = store.add_principal("ci", at(T0), &[], &audit()).unwrap();
        let secret = Secret::generate().unwrap();
        let id = store
            .insert_token(
                &NewToken {
                    owner: owner.id,
                    name: "deploy".into(),
                    description: String::new(),
                    hash: secret.hash(),
                    hint: secret.hint(),
                    grants: StoredGrants::Scopes(vec!["artifact".into()]),
                    created_at: at(T0),
                    expires_at: Some(at(T0 + 10 * DAY)),
                    origin: None,
                },
                &audit(),
            )
            .unwrap();
        (Arc::new(store), id)
    }

    #[test]
    fn warns_inside_the_window_once_per_backoff_even_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let (store, id) = setup(dir.path());
        let clock = Arc::new(ManualClock::new(at(T0)));
        let notifier = ExpiryNotifier::new(Arc::clone(&store), NotifierConfig::default(), clock.clone());
        assert!(notifier.run_once().unwrap().is_empty(), "10 days left is outside the 168h window");
        clock.advance(3 * DAY + 1); // 6 days 23:59:59 left
        assert_eq!(
            notifier.run_once().unwrap(),
            [format!("Warn: API Token deploy (ID {id}) will expire in less than 7 days.")]
        );
        clock.advance(3600);
        assert!(notifier.run_once().unwrap().is_empty(), "inside the 24h backoff");
        // A restart: a new notifier over the same store remembers the last warning.
        let restarted = ExpiryNotifier::new(Arc::clone(&store), NotifierConfig::default(), clock.clone());
        assert!(restarted.run_once().unwrap().is_empty());
        clock.advance(DAY);
        assert_eq!(restarted.run_once().unwrap().len(), 1, "backoff passed");
    }

    /// Lets the runtime run (the pass itself runs on the blocking pool, in real
    /// time) until `done` holds, for at most ten real seconds.
    async fn settle(done: impl Fn() -> bool) -> bool {
        for _ in 0..1000 {
            if done() {
                return true;
            }
            tokio::task::yield_now().await;
            std::thread::sleep(Duration::from_millis(10));
        }
        done()
    }

    #[tokio::test(start_paused = true)]
    async fn the_background_task_runs_every_interval() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = setup(dir.path());
        let clock = Arc::new(ManualClock::new(at(T0 + 5 * DAY)));
        let config = NotifierConfig { interval: Duration::from_secs(3600), ..NotifierConfig::default() };
        let task = ExpiryNotifier::new(Arc::clone(&store), config, clock.clone()).spawn();
        let warned_at = || store.tokens(None).unwrap()[0].last_warned_at;
        // The first pass runs at once.
        assert!(settle(|| warned_at() == Some(at(T0 + 5 * DAY))).await, "first pass did not run");
        // A day later (past the backoff), the next tick warns again.
        clock.advance(DAY);
        tokio::time::advance(Duration::from_secs(3600)).await;
        assert!(settle(|| warned_at() == Some(at(T0 + 6 * DAY))).await, "the next interval's pass did not run");
        task.abort();
    }
}
