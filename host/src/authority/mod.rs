//! The token authority: the store, the policy and the config together. Every
//! front end (the CLI now, the HTTP API next) issues, verifies and manages tokens
//! through these calls, so the rules are the same everywhere.

mod error;
mod lifecycle;
mod verify;

pub use error::LifecycleError;
pub use lifecycle::{Expiry, IssueRequest, Issued};
pub use verify::Verified;

use std::sync::{Arc, Mutex};

use anyhow::Result;

use crate::clock::Clock;
use crate::config::Config;
use crate::runtime::Evaluator;
use crate::runtime::PolicyModule;
use crate::store::Store;
use crate::usage::UsageRecorder;

pub struct Authority {
    store: Arc<dyn Store>,
    module: Arc<PolicyModule>,
    evaluator: Mutex<Evaluator>,
    config: Config,
    usage: Arc<UsageRecorder>,
    clock: Arc<dyn Clock>,
}

impl Authority {
    pub fn new(store: Arc<dyn Store>, module: Arc<PolicyModule>, config: Config, clock: Arc<dyn Clock>) -> Authority {
        let evaluator = Mutex::new(Evaluator::new(&module));
        Authority { store, module, evaluator, config, usage: Arc::new(UsageRecorder::default()), clock }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn module(&self) -> &Arc<PolicyModule> {
        &self.module
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// For front ends that override a setting from their own flags before serving.
    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.config
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
