//! A candidate policy run beside the active one on live traffic (`policy.shadow`):
//! every verification is decided again by the candidate on its own thread, and
//! disagreements are logged with both reasons and counted. The candidate never
//! affects an answer; its faults are counted as disagreements.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Result;

use super::{Observed, Queue, Tapped};
use crate::contract::DenyCode;
use crate::runtime::{Evaluator, PolicyModule, Question};
use crate::verdict::{Code, Verdict};

/// How many decisions may wait for the shadow thread.
const QUEUE: usize = 4096;

/// Counts of what the shadow found.
#[derive(Debug, Default)]
pub struct ShadowStats {
    /// Decisions the shadow made the same way.
    pub agreed: AtomicU64,
    /// Decisions the shadow made another way (or faulted on).
    pub disagreed: AtomicU64,
}

/// A candidate module deciding live traffic again on its own thread.
pub struct Shadow {
    module: Arc<PolicyModule>,
    queue: Queue,
    stats: Arc<ShadowStats>,
}

impl Shadow {
    /// Starts deciding beside the active module with `module`.
    pub fn start(module: Arc<PolicyModule>) -> Result<Shadow> {
        let stats = Arc::new(ShadowStats::default());
        let mut evaluator = Evaluator::new(&module);
        let (candidate, counts) = (Arc::clone(&module), Arc::clone(&stats));
        let queue = Queue::spawn("tokenscope-shadow", QUEUE, move |observed| {
            let verdict = decide(&candidate, &mut evaluator, &observed);
            compare(&candidate, &observed, &verdict, &counts);
        })?;
        tracing::info!(shadow = %module.label(), "shadow policy running beside the active one");
        Ok(Shadow { module, queue, stats })
    }

    /// The candidate module.
    pub fn module(&self) -> &Arc<PolicyModule> {
        &self.module
    }

    /// What the shadow found so far.
    pub fn stats(&self) -> &ShadowStats {
        &self.stats
    }

    /// Decisions not shadowed because the shadow thread was behind.
    pub fn dropped(&self) -> u64 {
        self.queue.dropped()
    }

    /// Queues `tapped` to be decided again by the candidate.
    pub fn offer(&self, tapped: &Tapped<'_>) {
        self.queue.offer(tapped.to_owned());
    }
}

fn decide(module: &PolicyModule, evaluator: &mut Evaluator, o: &Observed) -> Verdict {
    let Some(action) = module.action_id(&o.action) else {
        return Verdict::deny(Code::Policy(DenyCode::UnknownAction), "not in the shadow module's catalog");
    };
    evaluator.decide(&Question {
        token: o.token,
        grants: &o.grants,
        owner_rights: &o.owner_rights,
        status: o.status,
        action,
        resource: &o.resource,
        now: o.now,
    })
}

fn compare(module: &PolicyModule, o: &Observed, shadow: &Verdict, stats: &ShadowStats) {
    let same = match (&o.verdict, shadow) {
        (Verdict::Allow { .. }, Verdict::Allow { .. }) => true,
        (Verdict::Deny { code: a, .. }, Verdict::Deny { code: b, .. }) => a == b,
        _ => false,
    };
    if same {
        stats.agreed.fetch_add(1, Ordering::Relaxed);
        return;
    }
    stats.disagreed.fetch_add(1, Ordering::Relaxed);
    tracing::warn!(
        token = o.token.get(),
        action = %o.action,
        resource = %o.resource,
        active = o.verdict.code_str(),
        active_reason = reason(&o.verdict),
        shadow = shadow.code_str(),
        shadow_reason = reason(shadow),
        shadow_sha256 = module.sha256(),
        "shadow policy disagrees"
    );
}

fn reason(verdict: &Verdict) -> &str {
    match verdict {
        Verdict::Allow { .. } => "",
        Verdict::Deny { message, .. } => message,
    }
}
