//! The token authority: the store, the policy slot (the active module, hot
//! swappable) and the config together. Every front end (the CLI, the HTTP API)
//! issues, verifies and manages tokens through these calls, so the rules are the
//! same everywhere.

mod error;
mod lifecycle;
mod verify;

pub use error::LifecycleError;
pub use lifecycle::{Expiry, IssueRequest, Issued, TokenChange};
pub use verify::Verified;

use std::sync::Arc;

use anyhow::Result;

use crate::clock::Clock;
use crate::config::Config;
use crate::record::Recorder;
use crate::runtime::PolicyModule;
use crate::shadow::Shadow;
use crate::store::Store;
use crate::swap::PolicySlot;
use crate::usage::UsageRecorder;

pub struct Authority {
    store: Arc<dyn Store>,
    policy: PolicySlot,
    config: Config,
    usage: Arc<UsageRecorder>,
    clock: Arc<dyn Clock>,
    shadow: Option<Shadow>,
    recorder: Option<Recorder>,
}

impl Authority {
    pub fn new(store: Arc<dyn Store>, module: Arc<PolicyModule>, config: Config, clock: Arc<dyn Clock>) -> Authority {
        let policy = PolicySlot::new(module, config.policy.gate_options(clock.now()), config.policy.evaluators());
        Authority {
            store,
            policy,
            config,
            usage: Arc::new(UsageRecorder::default()),
            clock,
            shadow: None,
            recorder: None,
        }
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

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The active policy module; a later call may see another after a swap.
    pub fn module(&self) -> Arc<PolicyModule> {
        Arc::clone(self.policy.active().module())
    }

    /// The slot that holds the active module: load, roll back, history.
    pub fn policy(&self) -> &PolicySlot {
        &self.policy
    }

    pub fn shadow(&self) -> Option<&Shadow> {
        self.shadow.as_ref()
    }

    pub fn recorder(&self) -> Option<&Recorder> {
        self.recorder.as_ref()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn usage(&self) -> &Arc<UsageRecorder> {
        &self.usage
    }

    pub fn now(&self) -> u64 {
        self.clock.now()
    }

    /// Writes counted usage now (clean shutdown, end of a CLI command).
    pub fn flush_usage(&self) -> Result<usize> {
        self.usage.flush(self.store.as_ref())
    }
}
