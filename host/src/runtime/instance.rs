//! One policy instance with its own store, reused across calls. Every call runs
//! under the module's time budget and memory cap; a call that traps, times out or
//! fails in any way becomes a `PolicyFault` and the instance is thrown away (the
//! next call gets a fresh one), so a fault never leaves a half-broken instance.

use std::sync::Arc;

use thiserror::Error;
use wasmtime::{Store, StoreLimitsBuilder, Trap};

use super::input_limits;
use super::prepared::{HostState, Prepared};
use crate::contract::{
    ActionId, CatalogEntry, Decision, Denial, Evaluator, Grants, ModuleInfo, Policy, Request, ResourceGrant,
    ResourceKind, Ruling, Token, TokenStatus, oversized_reason,
};
use crate::verdict::{Code, Verdict};

/// A denial whose reason is longer than the contract's `MAX_REASON` is a fault:
/// a policy that answers megabytes is misbehaving, and its text goes nowhere.
fn bounded(denial: Denial) -> Result<Denial, PolicyFault> {
    match oversized_reason(&denial) {
        Some(message) => Err(PolicyFault { message }),
        None => Ok(denial),
    }
}

/// A call into the policy did not return normally.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("policy fault: {message}")]
pub struct PolicyFault {
    /// A short reason, fit for a client (the full error went to the log).
    pub message: String,
}

impl From<PolicyFault> for Verdict {
    fn from(fault: PolicyFault) -> Verdict {
        Verdict::deny(Code::PolicyFault, fault.message)
    }
}

/// A token's or owner's grants compiled inside one instance (its `grant-set-id`).
#[derive(Debug)]
pub struct CompiledGrants {
    id: u32,
    generation: u64,
}

impl CompiledGrants {
    /// Its `grant-set-id` in the instance that compiled it (ids are reused
    /// once released, so a cache keyed by them must forget them then).
    pub fn id(&self) -> u32 {
        self.id
    }
}

/// One hot-path request against sets compiled in this instance.
#[derive(Clone, Copy)]
pub struct HotCall<'a> {
    /// The token's compiled grants.
    pub token: &'a CompiledGrants,
    /// Its owner's compiled rights.
    pub owner: &'a CompiledGrants,
    /// Its expiry and revocation.
    pub status: TokenStatus,
    /// The action, as the module numbers it.
    pub action: ActionId,
    /// The resource path acted on.
    pub resource: &'a str,
    /// The current time in unix seconds.
    pub now: u64,
}

struct Live {
    store: Store<HostState>,
    policy: Policy,
}

/// One instance of a module with its own wasmtime store, replaced after any fault.
pub struct PolicyInstance {
    prepared: Arc<Prepared>,
    live: Option<Live>,
    /// Bumped whenever the instance is replaced, so stale handles are refused.
    generation: u64,
}

impl PolicyInstance {
    pub(crate) fn new(prepared: Arc<Prepared>) -> PolicyInstance {
        PolicyInstance { prepared, live: None, generation: 0 }
    }

    fn live(&mut self) -> Result<&mut Live, PolicyFault> {
        if self.live.is_none() {
            let limits = self.prepared.limits;
            let state = HostState {
                limits: StoreLimitsBuilder::new()
                    .memory_size(limits.memory_bytes)
                    .instances(4)
                    .memories(4)
                    .tables(8)
                    .trap_on_grow_failure(true)
                    .build(),
            };
            let mut store = Store::new(self.prepared.runtime.engine(), state);
            store.limiter(|s| &mut s.limits);
            store.epoch_deadline_trap();
            store.set_epoch_deadline(limits.deadline_ticks());
            let policy = self.prepared.pre.instantiate(&mut store).map_err(|e| self.fault(&e))?;
            self.live = Some(Live { store, policy });
        }
        self.live.as_mut().ok_or_else(|| PolicyFault { message: "instance unavailable".into() })
    }

    /// Runs `f` under the deadline; on any error the instance is discarded.
    fn call<R>(
        &mut self,
        f: impl FnOnce(&mut Store<HostState>, &Evaluator) -> wasmtime::Result<R>,
    ) -> Result<R, PolicyFault> {
        let ticks = self.prepared.limits.deadline_ticks();
        let live = self.live()?;
        live.store.set_epoch_deadline(ticks);
        let result = f(&mut live.store, live.policy.tokenscope_policy_evaluator());
        result.map_err(|e| {
            let fault = self.fault(&e);
            self.live = None;
            self.generation += 1;
            fault
        })
    }

    /// A short reason for a client; the whole error (with the wasm backtrace) is
    /// logged here and goes nowhere else.
    fn fault(&self, error: &wasmtime::Error) -> PolicyFault {
        tracing::warn!("policy call failed: {error:?}");
        let message = match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => {
                format!("the policy exceeded its time budget of {} ms", self.prepared.limits.call_timeout.as_millis())
            }
            Some(Trap::UnreachableCodeReached) => "the policy trapped (it panicked or reached unreachable code)".into(),
            Some(trap) => {
                // A trap's Display is one line naming the trap, never the backtrace.
                let text = trap.to_string();
                format!("the policy trapped: {}", text.lines().next().unwrap_or("trap"))
            }
            None if error.chain().any(|e| e.to_string().contains("memory")) => {
                "the policy exceeded its memory limit".into()
            }
            None => "the policy call failed".into(),
        };
        PolicyFault { message }
    }

    /// The module's name, version and description.
    pub fn info(&mut self) -> Result<ModuleInfo, PolicyFault> {
        self.call(|store, e| e.call_info(store))
    }

    /// Every action the module knows; an action's id is its index.
    pub fn catalog(&mut self) -> Result<Vec<CatalogEntry>, PolicyFault> {
        self.call(|store, e| e.call_catalog(store))
    }

    /// The resource kinds and their nesting.
    pub fn resource_kinds(&mut self) -> Result<Vec<ResourceKind>, PolicyFault> {
        self.call(|store, e| e.call_resource_kinds(store))
    }

    /// May a creator holding `creator` issue `requested`, asked by a token holding
    /// `caller` (none: an operator at the CLI)? `Ok(Err(_))` is the policy's refusal.
    pub fn check_grants(
        &mut self,
        creator: &[ResourceGrant],
        requested: &Grants,
        caller: Option<&Grants>,
    ) -> Result<Result<Grants, Denial>, PolicyFault> {
        if let Err(denial) = input_limits::check_rights("creator rights", creator)
            .and(input_limits::check_grants(requested))
            .and(caller.map_or(Ok(()), input_limits::check_grants))
        {
            return Ok(Err(denial));
        }
        match self.call(|store, e| e.call_check_grants(store, creator, requested, caller))? {
            Ok(grants) => Ok(Ok(grants)),
            Err(denial) => bounded(denial).map(Err),
        }
    }

    /// Decides a request for a token given in full. Never fails: a fault is a deny.
    pub fn decide(&mut self, token: &Token, request: &Request) -> Verdict {
        if let Err(denial) = input_limits::check_grants(&token.grants)
            .and(input_limits::check_rights("owner rights", &token.owner_rights))
        {
            return Verdict::from(Decision::Deny(denial));
        }
        match self.call(|store, e| e.call_decide(store, token, request)) {
            Ok(decision) => Verdict::from(decision),
            Err(fault) => Verdict::from(fault),
        }
    }

    /// Compiles grants inside the instance; the host keeps the id.
    pub fn compile(&mut self, grants: &Grants) -> Result<Result<CompiledGrants, Denial>, PolicyFault> {
        if let Err(denial) = input_limits::check_grants(grants) {
            return Ok(Err(denial));
        }
        let generation = self.generation;
        let compiled = match self.call(|store, e| e.call_compile(store, grants))? {
            Ok(id) => Ok(id),
            Err(denial) => Err(bounded(denial)?),
        };
        Ok(compiled.map(|id| CompiledGrants { id, generation }))
    }

    /// The normalised grants of a compiled set.
    pub fn normalized(&mut self, grants: &CompiledGrants) -> Result<Grants, PolicyFault> {
        self.check_generation(grants)?;
        self.call(|store, e| e.call_normalized(store, grants.id))
    }

    /// The hot path: the ruling alone (a deny's reason comes from `explain`).
    /// Never fails: a fault or a stale set is a deny.
    pub fn decide_compiled(&mut self, q: &HotCall<'_>) -> Verdict {
        let ruled = self.call_hot(q, |store, e| {
            e.call_decide_compiled(store, q.token.id, q.owner.id, q.status, q.action.wire(), q.resource, q.now)
        });
        match ruled {
            Ok(Ruling::Allow(grant)) => Verdict::Allow { grant },
            // The reason is `explain`'s to give; the empty one is shared, not allocated.
            Ok(Ruling::Deny(code)) => Verdict::Deny { code: Code::Policy(code), message: Verdict::no_reason() },
            Err(fault) => Verdict::from(fault),
        }
    }

    /// The reason for `ruling`, a deny that `decide_compiled` gave for the same
    /// query. The module must say the same thing again: an explanation that
    /// allows, or denies with another code, is a fault (and never an allow).
    pub fn explain(&mut self, ruling: &Verdict, q: &HotCall<'_>) -> Verdict {
        let Verdict::Deny { code: Code::Policy(ruled), .. } = ruling else {
            return ruling.clone();
        };
        let explained = self.call_hot(q, |store, e| {
            e.call_explain(store, q.token.id, q.owner.id, q.status, q.action.wire(), q.resource, q.now)
        });
        match explained {
            Ok(Decision::Deny(denial)) if denial.code == *ruled => Verdict::from(Decision::Deny(denial)),
            Ok(other) => Verdict::from(PolicyFault {
                message: format!(
                    "the policy's explanation ({}) disagrees with its decision ({})",
                    Verdict::from(other).code_str(),
                    crate::contract::deny_code_name(*ruled)
                ),
            }),
            Err(fault) => Verdict::from(fault),
        }
    }

    /// A hot-path call with `q`'s compiled sets, refused when they belong to a
    /// replaced instance.
    fn call_hot<R>(
        &mut self,
        q: &HotCall<'_>,
        f: impl FnOnce(&mut Store<HostState>, &Evaluator) -> wasmtime::Result<R>,
    ) -> Result<R, PolicyFault> {
        self.check_generation(q.token)?;
        self.check_generation(q.owner)?;
        self.call(f)
    }

    /// Frees a compiled set inside the instance.
    pub fn release(&mut self, grants: CompiledGrants) -> Result<(), PolicyFault> {
        if grants.generation != self.generation || self.live.is_none() {
            return Ok(()); // its instance is gone, and the set with it
        }
        self.call(|store, e| e.call_release(store, grants.id))
    }

    /// A call that does nothing inside the module (the release of an id never
    /// handed out): what crossing the boundary alone costs, for benchmarks.
    #[doc(hidden)]
    pub fn call_floor(&mut self) {
        let _ = self.call(|store, e| e.call_release(store, u32::MAX));
    }

    /// Changes whenever the instance was replaced after a fault; handles from an
    /// older generation are dead.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    fn check_generation(&self, grants: &CompiledGrants) -> Result<(), PolicyFault> {
        if grants.generation == self.generation && self.live.is_some() {
            Ok(())
        } else {
            Err(PolicyFault { message: "compiled grants belong to an instance that was replaced".into() })
        }
    }
}
