//! The token authority: the store, the policy slot (the active module, hot
//! swappable) and the config together. Every front end (the CLI, the HTTP API)
//! issues, verifies and manages tokens through these calls, so the rules are the
//! same everywhere.

pub mod actions;
mod audit;
mod cache;
mod ceiling;
mod check;
mod error;
mod introspect;
mod leaks;
mod lifecycle;
mod people;
mod principals;
mod rights;
mod single_flight;
mod usage;
mod verify;

pub use audit::{Acted, AuditCheckError, verify_trail};
pub use ceiling::Actor;
pub use check::{Checked, Outcome};
pub use error::{LifecycleError, RefusalCode};
pub use introspect::{Introspected, MAX_CHANGES};
pub use leaks::{LeakAnswer, LeakLabel, leak_line};
pub use lifecycle::{ExchangeFacts, Expiry, IssueRequest, Issued, TokenChange};
pub use people::{MAX_LINK_TTL, Permission};
pub use principals::bindings_from_texts;
pub use rights::{RightsError, administers_root, binding_right, owner_rights};
pub use usage::UsageRecorder;
pub use verify::{NeedsStore, Verified};

use std::sync::Arc;

use crate::audit::AuditEvent;
use crate::config::Config;
use crate::gate::GateOptions;
use crate::notify::ExpiryNotifier;
use crate::observe::Recorder;
use crate::observe::Shadow;
use crate::runtime::PolicyModule;
use crate::store::{Store, StoreError, StoreSignal, Watch};
use crate::swap::{ModuleSummary, PolicySlot, SwapEvent, SwapOutcome};
use crate::time::{Clock, UnixTime};
use cache::Caches;

/// The token authority: every operation on tokens, principals and the active
/// policy goes through it.
pub struct Authority {
    store: Arc<dyn Store>,
    policy: PolicySlot,
    config: Config,
    usage: Arc<UsageRecorder>,
    clock: Arc<dyn Clock>,
    shadow: Option<Shadow>,
    recorder: Option<Recorder>,
    caches: Arc<Caches>,
    /// Store reads of one secret hash in flight, shared by concurrent misses.
    reads: single_flight::SingleFlight<(crate::secret::SecretHash, u64), verify::TokenRead>,
    fleet_wake: Arc<tokio::sync::Notify>,
    /// What audit events name as the host that wrote them.
    host: String,
    /// Each actor's budget of recorded refusals (`audit.refusals_per_minute`).
    refusals: crate::audit::RefusalBudget,
}

impl Authority {
    /// An authority over `store`, deciding with `module` until a swap.
    pub fn new(store: Arc<dyn Store>, module: Arc<PolicyModule>, config: Config, clock: Arc<dyn Clock>) -> Authority {
        let policy = PolicySlot::new(module, GateOptions::of(&config.policy, clock.now()), config.policy.evaluators());
        let config_cache = config.cache.clone();
        let refusals_per_minute = config.audit.refusals_per_minute;
        Authority {
            store,
            policy,
            config,
            usage: Arc::new(UsageRecorder::default()),
            clock,
            shadow: None,
            recorder: None,
            caches: Arc::new(Caches::new(config_cache)),
            reads: single_flight::SingleFlight::default(),
            fleet_wake: Arc::new(tokio::sync::Notify::new()),
            host: rustix::system::uname().nodename().to_string_lossy().into_owned(),
            refusals: crate::audit::RefusalBudget::per_minute(refusals_per_minute),
        }
    }

    /// Names this host `id` in the audit events it writes (a fleet host's id;
    /// the machine's name by default).
    pub fn with_host_id(mut self, id: &str) -> Authority {
        id.clone_into(&mut self.host);
        self
    }

    /// What this host's audit events name it.
    pub fn host_id(&self) -> &str {
        &self.host
    }

    /// Runs `shadow` beside the active module on every verification.
    pub fn with_shadow(mut self, shadow: Shadow) -> Authority {
        self.shadow = Some(shadow);
        self
    }

    /// Records a sample of verifications (secrets excluded) with `recorder`.
    pub fn with_recorder(mut self, recorder: Recorder) -> Authority {
        self.recorder = Some(recorder);
        self
    }

    /// The active policy module; a later call may see another after a swap.
    pub fn module(&self) -> Arc<PolicyModule> {
        Arc::clone(self.policy.active().module())
    }

    /// The slot that holds the active module, for its history and swap counts.
    pub fn policy(&self) -> &PolicySlot {
        &self.policy
    }

    /// Makes the module in `bytes` (named `source` in reports) the active one if
    /// it passes the gate now; otherwise the active module stays. `event` (a
    /// `policy.load` by whoever asked) is written before the swap, which does
    /// not happen when it cannot be; a gate refusal is recorded too.
    pub fn load_policy(&self, bytes: &[u8], source: &str, event: &AuditEvent) -> SwapOutcome {
        self.policy.load_recorded(bytes, source, self.now(), &|change| self.record_swap(event, source, change))
    }

    /// Returns to the module that was active before the last swap, once
    /// `event` (a `policy.rollback`) is written.
    pub fn rollback_policy(&self, event: &AuditEvent) -> SwapOutcome {
        self.policy.rollback_recorded(&|change| self.record_swap(event, "rollback", change))
    }

    fn record_swap(&self, event: &AuditEvent, source: &str, change: SwapEvent<'_>) -> Result<(), String> {
        let module = |m: &ModuleSummary| serde_json::json!({"sha256": m.sha256, "name": m.name, "version": m.version, "signer": m.signature.label()});
        match change {
            SwapEvent::Swapping { from, to } => {
                let mut after = module(to);
                if let Some(after) = after.as_object_mut() {
                    after.insert("source".into(), source.into());
                }
                let event = event.clone().with_change(Some(module(from)), Some(after));
                self.store.append_audit(&event).map(drop).map_err(|e| format!("the audit trail did not take it: {e}"))
            }
            SwapEvent::Refused { report } => {
                let after = serde_json::json!({"sha256": report.sha256, "source": source, "reasons": report.reasons()});
                let code = report.signature_refusal.as_ref().map_or("gate-refused", |r| r.code.as_str());
                self.record_event(&event.clone().refused(code).with_change(None, Some(after)));
                Ok(())
            }
        }
    }

    /// The shadow module run beside the active one, if any.
    pub fn shadow(&self) -> Option<&Shadow> {
        self.shadow.as_ref()
    }

    /// The decision recorder, if any.
    pub fn recorder(&self) -> Option<&Recorder> {
        self.recorder.as_ref()
    }

    /// The config the authority was built with (read-only).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The time now, by the authority's clock.
    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// How many stored tokens, unknown secrets and owners' rights are cached now.
    pub fn cache_sizes(&self) -> (usize, usize, usize) {
        self.caches.sizes()
    }

    /// Has the store say when anyone may have written it, so that another
    /// process's writes reach the caches within milliseconds rather than at the
    /// next `cache.refresh`; notifications stop when the guard is dropped.
    pub fn watch_store(&self) -> Result<Option<Watch>, StoreError> {
        let caches = Arc::downgrade(&self.caches);
        let fleet_wake = Arc::clone(&self.fleet_wake);
        self.store.watch(Arc::new(move |signal| {
            let Some(caches) = caches.upgrade() else { return };
            match signal {
                StoreSignal::Changed { sent_ms } => {
                    let lag = sent_ms.map(|sent| crate::time::unix_ms().saturating_sub(sent));
                    caches.mark_dirty(lag);
                }
                StoreSignal::Deaf => caches.mark_deaf(),
                StoreSignal::Counter { counter, began } => caches.confirm(counter, began),
                StoreSignal::Fleet => fleet_wake.notify_one(),
            }
        }))
    }

    /// Whether the store's change notifications arrive now, and how late the
    /// last one was (ms).
    pub fn invalidation(&self) -> (bool, Option<u64>) {
        (self.caches.listening(), self.caches.notification_lag_ms())
    }

    /// Woken when the fleet's desired policy module may have changed.
    pub fn fleet_wake(&self) -> &Arc<tokio::sync::Notify> {
        &self.fleet_wake
    }

    /// The store (for the fleet's shared state).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The longest a write by another process on the store goes unseen.
    pub fn staleness_bound(&self) -> std::time::Duration {
        self.caches.staleness_bound()
    }

    /// Whether the store answers a read now (readiness).
    pub fn store_answers(&self) -> bool {
        self.store.change_counter().is_ok()
    }

    /// Writes counted usage now (clean shutdown, end of a CLI command).
    pub fn flush_usage(&self) -> Result<usize, StoreError> {
        self.usage.flush(self.store.as_ref())
    }

    /// Usage batches written, and batches that failed (kept for the next flush).
    pub fn usage_flushes(&self) -> (u64, u64) {
        self.usage.flush_counts()
    }

    /// Reads the store's change counter every half `cache.refresh` on the
    /// blocking pool, so the caches stay confirmed (`Caches::fresh`) without a
    /// serving thread ever reading the store; until the handle is aborted.
    pub fn spawn_counter_refresher(&self) -> tokio::task::JoinHandle<()> {
        let (caches, store) = (Arc::clone(&self.caches), Arc::clone(&self.store));
        let every = self.config.cache.refresh / 2;
        crate::periodic::spawn_periodic(
            "change counter read",
            every.max(std::time::Duration::from_millis(1)),
            move || {
                caches.usable(store.as_ref());
                Ok(())
            },
        )
    }

    /// Flushes counted usage every `usage.flush_interval` until the handle is aborted.
    pub fn spawn_usage_flusher(&self) -> tokio::task::JoinHandle<()> {
        self.usage.spawn_flusher(Arc::clone(&self.store), self.config.usage.flush_interval)
    }

    /// The expiry notifier over this authority's store, config and clock.
    pub fn expiry_notifier(&self) -> ExpiryNotifier {
        ExpiryNotifier::new(Arc::clone(&self.store), self.config.expiry_notifier.clone(), Arc::clone(&self.clock))
            .on_host(&self.host)
    }
}
