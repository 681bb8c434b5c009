//! The policy module in force and the evaluators that decide with it: a small
//! pool of instances (one per core by default), each with its own caches of
//! compiled grants, so concurrent requests do not queue behind one instance. A
//! request takes one `ActivePolicy` and uses it to the end.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::contract::{Denial, Grants, Request, ResourceGrant, Token};
use crate::runtime::{Evaluator, PolicyFault, PolicyModule};
use crate::verdict::Verdict;

/// A module and its pool of evaluators; a request takes one and uses it to the end.
pub struct ActivePolicy {
    module: Arc<PolicyModule>,
    /// When it became the active module.
    since: crate::time::UnixTime,
    /// Waited for when every evaluator is busy.
    primary: Mutex<Evaluator>,
    others: Vec<Mutex<Evaluator>>,
    next: AtomicUsize,
}

impl ActivePolicy {
    /// `size` evaluators over `module` (at least one); instances start lazily.
    pub fn new(module: Arc<PolicyModule>, size: usize) -> ActivePolicy {
        let primary = Mutex::new(Evaluator::new(&module));
        let others = (1..size).map(|_| Mutex::new(Evaluator::new(&module))).collect();
        ActivePolicy { module, since: crate::time::UnixTime::now(), primary, others, next: AtomicUsize::new(0) }
    }

    /// When it became the active module (by the system clock).
    pub fn since(&self) -> crate::time::UnixTime {
        self.since
    }

    /// The module.
    pub fn module(&self) -> &Arc<PolicyModule> {
        &self.module
    }

    fn all(&self) -> impl Iterator<Item = &Mutex<Evaluator>> {
        std::iter::once(&self.primary).chain(&self.others)
    }

    /// A free evaluator if there is one (trying them in turn from a rotating
    /// start), else waits for the primary one. A poisoned lock is taken anyway:
    /// an evaluator's state is only caches, and its calls turn every failure into
    /// a deny.
    pub fn evaluator(&self) -> MutexGuard<'_, Evaluator> {
        let n = self.others.len() + 1;
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        for slot in self.all().chain(self.all()).skip(start).take(n) {
            if let Ok(guard) = slot.try_lock() {
                return guard;
            }
        }
        crate::locks::lock(&self.primary, "policy evaluator")
    }

    /// The policy's issuance check (`check-grants`) on a free evaluator.
    pub fn check_grants(
        &self,
        creator: &[ResourceGrant],
        requested: &Grants,
        caller: Option<&Grants>,
    ) -> Result<Result<Grants, Denial>, PolicyFault> {
        self.evaluator().instance().check_grants(creator, requested, caller)
    }

    /// A one-shot decision (`decide`, grants parsed on the call) on a free
    /// evaluator's warm instance; a fault is a deny.
    pub fn decide(&self, token: &Token, request: &Request) -> Verdict {
        self.evaluator().instance().decide(token, request)
    }

    /// Whether the policy reads `grants` as valid (`compile`, no escalation
    /// check), on a free evaluator; the compiled set is released at once.
    pub fn validate(&self, grants: &Grants) -> Result<Result<(), Denial>, PolicyFault> {
        let mut evaluator = self.evaluator();
        let instance = evaluator.instance();
        match instance.compile(grants)? {
            Ok(compiled) => instance.release(compiled).map(Ok),
            Err(denial) => Ok(Err(denial)),
        }
    }
}

impl fmt::Debug for ActivePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActivePolicy({}, {} evaluators)", self.module.label(), self.others.len() + 1)
    }
}
