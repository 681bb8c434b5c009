//! Decisions handed to observers after they were made: the decision log line
//! (`decision_log.rs`), the shadow policy (`shadow.rs`) and the request recorder
//! (`record.rs`). Observers run on their own threads behind bounded queues, so
//! they never change an answer and never hold one up; when a queue is full the
//! observation is dropped and counted.

pub mod decision_log;
mod record;
mod shadow;

pub use record::Recorder;
pub use shadow::Shadow;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread;

use anyhow::{Context, Result};

use crate::contract::TokenStatus;
use crate::ids::TokenId;
use crate::runtime::{KeyedGrants, KeyedRights, PolicyModule, Question};
use crate::time::UnixTime;
use crate::verdict::Verdict;

/// A decision as the verify path made it (borrowed; copied only when taken).
pub struct Tapped<'a> {
    /// The question the policy was asked.
    pub question: &'a Question<'a>,
    /// The action's name (the question holds the active module's id for it).
    pub action: &'a str,
    /// What the active module decided.
    pub verdict: &'a Verdict,
    /// The module that decided.
    pub policy: &'a PolicyModule,
}

/// An owned copy of a decision for an observer thread. No secret: the token is
/// named by its id, and its grants and state are what the policy saw.
#[derive(Clone, Debug)]
pub struct Observed {
    /// The token, by id.
    pub token: TokenId,
    /// Its grants, as the policy saw them (shared with the caches).
    pub grants: KeyedGrants,
    /// Its owner's rights then (shared with the caches).
    pub owner_rights: KeyedRights,
    /// Its expiry and revocation then.
    pub status: TokenStatus,
    /// The action asked for.
    pub action: String,
    /// The resource it was asked on.
    pub resource: String,
    /// When it was asked.
    pub now: UnixTime,
    /// What the active module decided.
    pub verdict: Verdict,
    /// The SHA-256 of the module that decided.
    pub policy: String,
}

impl Tapped<'_> {
    /// Copies what an observer thread needs.
    pub fn to_owned(&self) -> Observed {
        let q = self.question;
        Observed {
            token: q.token,
            grants: KeyedGrants::clone(q.grants),
            owner_rights: KeyedRights::clone(q.owner_rights),
            status: q.status,
            action: self.action.to_owned(),
            resource: q.resource.to_owned(),
            now: q.now,
            verdict: self.verdict.clone(),
            policy: self.policy.sha256().to_owned(),
        }
    }
}

/// The sending side of an observer: a bounded queue to its thread.
pub struct Queue {
    sender: SyncSender<Observed>,
    dropped: Arc<AtomicU64>,
}

impl Queue {
    /// Starts thread `name` running `work` on every observation queued, at most
    /// `capacity` waiting.
    pub fn spawn(name: &str, capacity: usize, work: impl FnMut(Observed) + Send + 'static) -> Result<Queue> {
        let (sender, receiver) = sync_channel(capacity);
        thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || drain(&receiver, work))
            .with_context(|| format!("failed to start the `{name}` thread"))?;
        Ok(Queue { sender, dropped: Arc::new(AtomicU64::new(0)) })
    }

    /// Queues `observed`; drops it (counted) when the observer is behind.
    pub fn offer(&self, observed: Observed) {
        match self.sender.try_send(observed) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Observations dropped because the observer was behind or gone.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

fn drain(receiver: &Receiver<Observed>, mut work: impl FnMut(Observed)) {
    while let Ok(observed) = receiver.recv() {
        work(observed);
    }
}
