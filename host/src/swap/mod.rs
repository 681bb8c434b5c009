//! Hot swapping of policy modules. The active policy sits behind an `ArcSwap`: a
//! request takes one snapshot and is decided wholly by that module, while a swap
//! replaces the pointer in one atomic store. A candidate goes live only after it
//! passed the gate; on any failure the active module stays. Previous modules are
//! kept for `rollback`.

mod active;

pub use active::ActivePolicy;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use serde::Serialize;

use crate::gate::{GateOptions, GateReport, admit};
use crate::runtime::{Limits, PolicyModule, Runtime};
use crate::signing::Signature;
use crate::time::UnixTime;

/// How many earlier modules `rollback` can return to.
const HISTORY: usize = 8;

/// A module as reports and the API show it.
#[derive(Clone, Debug, Serialize)]
pub struct ModuleSummary {
    /// The module's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The hex SHA-256 of its bytes.
    pub sha256: String,
    /// Where it came from.
    pub source: String,
    /// The contract version it speaks.
    pub contract: String,
    /// How many actions its catalog has.
    pub catalog_actions: usize,
    /// `cached` or `compiled`.
    pub machine_code: &'static str,
    /// Who signed it: `signature` (`embedded`, `verified`, `not-checked`,
    /// `unsigned`) and, when signed, `signers` (key ids).
    #[serde(flatten)]
    pub signature: Signature,
}

impl ModuleSummary {
    /// The summary of `module`.
    pub fn of(module: &PolicyModule) -> ModuleSummary {
        ModuleSummary {
            name: module.info().name.clone(),
            version: module.info().version.clone(),
            sha256: module.sha256().to_owned(),
            source: module.source().to_owned(),
            contract: module.contract().to_string(),
            catalog_actions: module.catalog().len(),
            machine_code: module.compiled().as_str(),
            signature: module.signature().clone(),
        }
    }
}

/// What a load or a rollback did.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum SwapOutcome {
    /// The candidate passed the gate and is now active.
    Swapped {
        /// The module before.
        from: ModuleSummary,
        /// The module now.
        to: ModuleSummary,
        /// What the gate found.
        report: Box<GateReport>,
        /// How long the load took, gate included.
        #[serde(rename = "elapsed_ms", serialize_with = "millis")]
        elapsed: Duration,
    },
    /// The candidate is the active module already.
    Unchanged {
        /// The module in force.
        active: ModuleSummary,
    },
    /// The candidate failed the gate; the active module stays.
    Refused {
        /// The module in force.
        active: ModuleSummary,
        /// What the gate found.
        report: Box<GateReport>,
    },
    /// The previous module is active again.
    RolledBack {
        /// The module before.
        from: ModuleSummary,
        /// The module now.
        to: ModuleSummary,
    },
    /// There is no earlier module to return to.
    NoPrevious {
        /// The module in force.
        active: ModuleSummary,
    },
    /// The audit trail could not record the change, so it was not made.
    Unrecorded {
        /// The module in force.
        active: ModuleSummary,
        /// Why the event was not written.
        reason: String,
    },
}

/// Records a change of the active module before it is made (`from`, `to`):
/// an error stops the change. A gate refusal is shown with `to` refused.
pub type SwapRecord<'a> = &'a dyn Fn(SwapEvent<'_>) -> Result<(), String>;

/// What a `SwapRecord` is told.
#[derive(Clone, Copy, Debug)]
pub enum SwapEvent<'a> {
    /// `to` is about to replace `from`.
    Swapping {
        /// The module in force.
        from: &'a ModuleSummary,
        /// The module about to be.
        to: &'a ModuleSummary,
    },
    /// The gate refused a module (nothing changes).
    Refused {
        /// What the gate found.
        report: &'a GateReport,
    },
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

impl SwapOutcome {
    /// `swapped`, `unchanged`, `refused`, `rolled-back` or `no-previous`.
    pub fn as_str(&self) -> &'static str {
        match self {
            SwapOutcome::Swapped { .. } => "swapped",
            SwapOutcome::Unchanged { .. } => "unchanged",
            SwapOutcome::Refused { .. } => "refused",
            SwapOutcome::RolledBack { .. } => "rolled-back",
            SwapOutcome::NoPrevious { .. } => "no-previous",
            SwapOutcome::Unrecorded { .. } => "unrecorded",
        }
    }
}

/// Counts of swap outcomes, for `/metrics`.
#[derive(Debug, Default)]
pub struct SwapCounts {
    /// Modules that went live.
    pub swapped: AtomicU64,
    /// Modules the gate refused.
    pub refused: AtomicU64,
    /// Rollbacks made.
    pub rolled_back: AtomicU64,
}

/// Where the active policy lives.
pub struct PolicySlot {
    active: ArcSwap<ActivePolicy>,
    /// Earlier modules, the most recent last.
    history: Mutex<Vec<Arc<PolicyModule>>>,
    /// One swap at a time, so history and the active module stay in step.
    swapping: Mutex<()>,
    runtime: Runtime,
    limits: Limits,
    gate: GateOptions,
    evaluators: usize,
    counts: SwapCounts,
}

impl PolicySlot {
    /// A slot whose first module is `module` (already trusted: embedded, or gated
    /// by the caller); new modules compile on `module`'s runtime.
    pub fn new(module: Arc<PolicyModule>, gate: GateOptions, evaluators: usize) -> PolicySlot {
        let runtime = module.runtime().clone();
        let limits = module.limits();
        PolicySlot {
            active: ArcSwap::from_pointee(ActivePolicy::new(module, evaluators)),
            history: Mutex::new(Vec::new()),
            swapping: Mutex::new(()),
            runtime,
            limits,
            gate,
            evaluators,
            counts: SwapCounts::default(),
        }
    }

    /// The policy in force now; hold it for the whole of one decision.
    pub fn active(&self) -> Arc<ActivePolicy> {
        self.active.load_full()
    }

    /// How many swaps, refusals and rollbacks there were.
    pub fn counts(&self) -> &SwapCounts {
        &self.counts
    }

    /// Earlier modules, the most recent first.
    pub fn history(&self) -> Vec<ModuleSummary> {
        let history = crate::locks::lock(&self.history, "policy slot");
        history.iter().rev().map(|m| ModuleSummary::of(m)).collect()
    }

    /// Gates the module in `bytes` and, when it passes, makes it active.
    pub fn load(&self, bytes: &[u8], source: &str, now: UnixTime) -> SwapOutcome {
        self.load_recorded(bytes, source, now, &|_| Ok(()))
    }

    /// `load`, telling `record` of the change before it is made (and of a
    /// gate refusal); when `record` fails, the active module stays.
    pub fn load_recorded(&self, bytes: &[u8], source: &str, now: UnixTime, record: SwapRecord<'_>) -> SwapOutcome {
        let started = Instant::now();
        let _one_at_a_time = crate::locks::lock(&self.swapping, "policy slot");
        let current = self.active();
        if crate::runtime::sha256_hex(bytes) == current.module().sha256() {
            return SwapOutcome::Unchanged { active: ModuleSummary::of(current.module()) };
        }
        let options = GateOptions { now, ..self.gate.clone() };
        let (module, report) = admit(&self.runtime, bytes, source, self.limits, &options, None);
        let Some(module) = module else {
            self.counts.refused.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(source, sha256 = %report.sha256, "policy refused by the gate: {}", report.reasons());
            // Nothing changes whether or not it is recorded (`record` logs its failure).
            let _ = record(SwapEvent::Refused { report: &report });
            return SwapOutcome::Refused { active: ModuleSummary::of(current.module()), report: Box::new(report) };
        };
        let to = ModuleSummary::of(&module);
        let active = ModuleSummary::of(current.module());
        if let Err(reason) = record(SwapEvent::Swapping { from: &active, to: &to }) {
            return SwapOutcome::Unrecorded { active, reason };
        }
        self.install(module, &current);
        let elapsed = started.elapsed();
        self.counts.swapped.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            from = %current.module().label(),
            to = %to.sha256,
            name = %to.name,
            version = %to.version,
            signer = %to.signature.label(),
            machine_code = to.machine_code,
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "policy swapped"
        );
        SwapOutcome::Swapped { from: ModuleSummary::of(current.module()), to, report: Box::new(report), elapsed }
    }

    /// Makes the module before the active one active again.
    pub fn rollback(&self) -> SwapOutcome {
        self.rollback_recorded(&|_| Ok(()))
    }

    /// `rollback`, telling `record` first; when it fails, nothing changes.
    pub fn rollback_recorded(&self, record: SwapRecord<'_>) -> SwapOutcome {
        let _one_at_a_time = crate::locks::lock(&self.swapping, "policy slot");
        let current = self.active();
        let mut history = crate::locks::lock(&self.history, "policy slot");
        let Some(previous) = history.last().cloned() else {
            return SwapOutcome::NoPrevious { active: ModuleSummary::of(current.module()) };
        };
        let to = ModuleSummary::of(&previous);
        let active = ModuleSummary::of(current.module());
        if let Err(reason) = record(SwapEvent::Swapping { from: &active, to: &to }) {
            return SwapOutcome::Unrecorded { active, reason };
        }
        history.pop();
        drop(history);
        // The module rolled back from is not kept: a second rollback goes further back.
        self.active.store(Arc::new(ActivePolicy::new(previous, self.evaluators)));
        self.counts.rolled_back.fetch_add(1, Ordering::Relaxed);
        tracing::info!(from = %current.module().label(), to = %to.sha256, name = %to.name, "policy rolled back");
        SwapOutcome::RolledBack { from: ModuleSummary::of(current.module()), to }
    }

    /// Makes `module`, which was active in this process before (so it passed
    /// the gate here), active again with no history before it: how a fleet
    /// host returns to its configured module when the fleet's last published
    /// one is rolled back.
    pub fn restore(&self, module: Arc<PolicyModule>) -> SwapOutcome {
        let _one_at_a_time = crate::locks::lock(&self.swapping, "policy slot");
        let current = self.active();
        if current.module().sha256() == module.sha256() {
            return SwapOutcome::Unchanged { active: ModuleSummary::of(current.module()) };
        }
        let to = ModuleSummary::of(&module);
        self.install(module, &current);
        // Back where it started: there is nothing before this to roll back to.
        crate::locks::lock(&self.history, "policy slot").clear();
        self.counts.rolled_back.fetch_add(1, Ordering::Relaxed);
        tracing::info!(from = %current.module().label(), to = %to.sha256, name = %to.name, "policy restored");
        SwapOutcome::RolledBack { from: ModuleSummary::of(current.module()), to }
    }

    fn install(&self, module: Arc<PolicyModule>, current: &Arc<ActivePolicy>) {
        let mut history = crate::locks::lock(&self.history, "policy slot");
        history.push(Arc::clone(current.module()));
        if history.len() > HISTORY {
            history.remove(0);
        }
        self.active.store(Arc::new(ActivePolicy::new(module, self.evaluators)));
    }
}
