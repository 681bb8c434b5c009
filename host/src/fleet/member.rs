//! One host in the fleet: following the desired module, publishing, rolling
//! back and the heartbeat. Store calls block, so the loop runs them on
//! blocking threads; a store outage is logged once, then retried each beat.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::authority::{Acted, Authority};
use crate::runtime::{PolicyModule, sha256_hex};
use crate::store::{Desired, Fleet, FleetHost, HostBeat, Published, RolledBack, StoreError};
use crate::swap::SwapOutcome;
use crate::time::UnixTime;

/// This host, as a member of the fleet its store is shared by.
pub struct Member {
    authority: Arc<Authority>,
    id: String,
    listen: String,
    started_at: UnixTime,
    /// The module this host was started with: what it returns to when nothing is desired.
    baseline: Arc<PolicyModule>,
    state: Mutex<Following>,
    /// Whether the last beat failed (so an outage is logged once).
    failing: AtomicBool,
    /// Held while a heartbeat is written and while the host leaves; true once
    /// it has left, so a beat already on its way cannot put it back on the list.
    left: Mutex<bool>,
}

/// What following the desired module has come to.
#[derive(Default)]
struct Following {
    /// The desired module this host last followed (none: its own).
    following: Option<u64>,
    /// The desired module the gate refused here, and why.
    refused: Option<(u64, String)>,
}

/// The fleet as `GET /api/system/fleet` and `tokenscope fleet status` show it.
#[derive(Debug, Serialize)]
pub struct Status {
    /// The module every host should run (none: each its configured one).
    pub desired: Option<Desired>,
    /// Live hosts, by id.
    pub hosts: Vec<HostStatus>,
}

/// One live host.
#[derive(Debug, Serialize)]
pub struct HostStatus {
    /// What it reported.
    #[serde(flatten)]
    pub host: FleetHost,
    /// Whether it runs the desired module (with none desired: true).
    pub matches_desired: bool,
}

impl Status {
    /// The fleet as the store records it; hosts silent for `live_within` are left out.
    pub fn read(fleet: &dyn Fleet, live_within: std::time::Duration) -> Result<Status, StoreError> {
        let desired = fleet.desired_module()?;
        let hosts = fleet
            .hosts(live_within.as_secs().max(1))?
            .into_iter()
            .map(|host| HostStatus {
                matches_desired: desired.as_ref().is_none_or(|d| d.sha256 == host.beat.active_sha256),
                host,
            })
            .collect();
        Ok(Status { desired, hosts })
    }
}

/// Why the fleet's state cannot be reached.
fn not_shared() -> StoreError {
    StoreError::backend("reach the fleet's state", "the store is not shared by a fleet (use a PostgreSQL store)")
}

impl Member {
    /// The member for `authority` serving on `listen`, if its store is shared.
    pub fn join(authority: &Arc<Authority>, listen: std::net::SocketAddr) -> Option<Arc<Member>> {
        authority.store().fleet()?;
        let started_at = authority.now();
        Some(Arc::new(Member {
            authority: Arc::clone(authority),
            id: super::host_id(authority.config().fleet.host_id.as_deref(), started_at),
            listen: listen.to_string(),
            started_at,
            baseline: authority.module(),
            state: Mutex::new(Following::default()),
            failing: AtomicBool::new(false),
            left: Mutex::new(false),
        }))
    }

    fn fleet(&self) -> Result<&dyn Fleet, StoreError> {
        self.authority.store().fleet().ok_or_else(not_shared)
    }

    /// This host's id in the fleet.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Makes this host run the desired module (or, once none is desired, its
    /// own): what changed, if anything.
    pub fn follow(&self) -> Result<Option<SwapOutcome>, StoreError> {
        let mut state = crate::locks::lock(&self.state, "fleet state");
        self.follow_locked(&mut state)
    }

    fn follow_locked(&self, state: &mut Following) -> Result<Option<SwapOutcome>, StoreError> {
        let fleet = self.fleet()?;
        let Some(desired) = fleet.desired_module()? else {
            state.refused = None;
            // Back to this host's own module once the fleet's last one is rolled back.
            return Ok(state.following.take().map(|_| {
                let outcome = self.authority.policy().restore(Arc::clone(&self.baseline));
                if let SwapOutcome::RolledBack { from, to } = &outcome {
                    // Nothing of the store changed here: the event follows the change.
                    let change =
                        |m: &crate::swap::ModuleSummary| serde_json::json!({"sha256": m.sha256, "name": m.name});
                    let event = self.authority.system_event("fleet", "policy.restore", "policy".into());
                    self.authority.record_event(&event.with_change(Some(change(from)), Some(change(to))));
                }
                outcome
            }));
        };
        state.following = Some(desired.seq);
        if self.authority.module().sha256() == desired.sha256 {
            state.refused = None;
            return Ok(None);
        }
        if state.refused.as_ref().is_some_and(|(seq, _)| *seq == desired.seq) {
            return Ok(None);
        }
        let bytes = fleet.module_bytes(&desired.sha256)?.ok_or_else(|| StoreError::Unreadable {
            what: "published policy module",
            detail: format!("sha256:{} is desired but not stored", desired.sha256),
        })?;
        if sha256_hex(&bytes) != desired.sha256 {
            state.refused = Some((desired.seq, "the stored bytes do not match their digest".to_owned()));
            return Ok(None);
        }
        let source = format!("fleet sha256:{} (published by {})", desired.sha256, desired.published_by);
        let event = self.authority.system_event("fleet", "policy.load", "policy".into());
        let outcome = self.authority.load_policy(&bytes, &source, &event);
        state.refused = match &outcome {
            SwapOutcome::Refused { report, .. } => Some((desired.seq, report.reasons())),
            _ => None,
        };
        Ok(Some(outcome))
    }

    /// Gates `bytes` here and, when they pass, publishes them as the fleet's
    /// desired module: the local outcome, and what the store recorded.
    /// `acted` is who asked, as the audit trail records the load here and the publish.
    pub fn publish(
        &self,
        bytes: &[u8],
        by: &str,
        acted: &Acted,
    ) -> Result<(SwapOutcome, Option<Published>), StoreError> {
        let mut state = crate::locks::lock(&self.state, "fleet state");
        let load = self.authority.event_by(acted, "policy.load", "policy");
        let outcome = self.authority.load_policy(bytes, &format!("upload by {by}"), &load);
        if matches!(outcome, SwapOutcome::Refused { .. } | SwapOutcome::Unrecorded { .. }) {
            return Ok((outcome, None));
        }
        let sha256 = sha256_hex(bytes);
        let event = self
            .authority
            .event_by(acted, "policy.publish", "policy")
            .with_change(None, Some(serde_json::json!({"sha256": sha256})));
        let published = self.fleet().and_then(|f| f.publish_module(bytes, &sha256, by, self.authority.now(), &event));
        match published {
            Ok(published) => {
                let (Published::Published(desired) | Published::Unchanged(desired)) = &published;
                state.following = Some(desired.seq);
                state.refused = None;
                Ok((outcome, Some(published)))
            }
            Err(err) => {
                // Not published: this host goes back to what the fleet runs.
                if matches!(outcome, SwapOutcome::Swapped { .. }) {
                    let undo = self.authority.system_event("fleet", "policy.rollback", "policy".into());
                    self.authority.rollback_policy(&undo);
                }
                Err(err)
            }
        }
    }

    /// Rolls the fleet back one publish and follows: what the store did, and
    /// what changed here. With nothing published, this host alone returns to
    /// the module before its last local swap (a SIGHUP or file reload), as a
    /// host of its own would.
    pub fn roll_back(&self, by: &str, acted: &Acted) -> Result<(RolledBack, SwapOutcome), StoreError> {
        let mut state = crate::locks::lock(&self.state, "fleet state");
        let event = self.authority.event_by(acted, "policy.fleet-rollback", "policy");
        let rolled = self.fleet()?.roll_back(by, self.authority.now(), &event)?;
        if rolled == RolledBack::NothingPublished {
            let event = self.authority.event_by(acted, "policy.rollback", "policy");
            return Ok((rolled, self.authority.rollback_policy(&event)));
        }
        let outcome = match self.follow_locked(&mut state)? {
            Some(SwapOutcome::Swapped { from, to, .. }) => SwapOutcome::RolledBack { from, to },
            Some(SwapOutcome::Unchanged { .. }) | None => {
                SwapOutcome::Unchanged { active: crate::swap::ModuleSummary::of(&self.authority.module()) }
            }
            Some(other) => other,
        };
        Ok((rolled, outcome))
    }

    /// Writes this host's heartbeat.
    pub fn beat(&self) -> Result<(), StoreError> {
        let left = crate::locks::lock(&self.left, "fleet membership");
        if *left {
            return Ok(());
        }
        let refused = crate::locks::lock(&self.state, "fleet state").refused.as_ref().map(|(_, why)| why.clone());
        let (listening, lag) = self.authority.invalidation();
        self.fleet()?.heartbeat(&HostBeat {
            id: self.id.clone(),
            listen: self.listen.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: self.started_at,
            active_sha256: self.authority.module().sha256().to_owned(),
            active_signer: self.authority.module().signature().label().to_owned(),
            refused,
            invalidation_lag_ms: lag,
            listening,
        })
    }

    /// Takes this host off the fleet's list (a clean shutdown).
    pub fn leave(&self) -> Result<(), StoreError> {
        let mut left = crate::locks::lock(&self.left, "fleet membership");
        *left = true;
        self.fleet()?.leave(&self.id)
    }

    /// The fleet now.
    pub fn status(&self) -> Result<Status, StoreError> {
        Status::read(self.fleet()?, self.authority.config().fleet.live_within)
    }

    fn tick(&self) {
        let result = self.follow().and_then(|_| self.beat());
        match result {
            Ok(()) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!(host = %self.id, "the fleet's state is reachable again");
                }
            }
            Err(err) => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(host = %self.id, "cannot follow the fleet or send a heartbeat: {err}");
                }
            }
        }
    }

    /// Follows and beats every `fleet.heartbeat`, and at once when the store
    /// says the desired module changed, until the task is aborted.
    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let member = Arc::clone(self);
        let every = self.authority.config().fleet.heartbeat;
        let wake = Arc::clone(self.authority.fleet_wake());
        tokio::spawn(async move {
            loop {
                let ticking = Arc::clone(&member);
                if tokio::task::spawn_blocking(move || ticking.tick()).await.is_err() {
                    tracing::error!("a fleet heartbeat failed to run");
                }
                tokio::select! {
                    () = wake.notified() => {}
                    () = tokio::time::sleep(every) => {}
                }
            }
        })
    }
}
