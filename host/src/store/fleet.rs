//! What hosts sharing one store keep there for each other: published policy
//! modules by SHA-256, the fleet's desired module (a stack: publishing pushes,
//! rolling back pops) and each host's heartbeat.

use serde::Serialize;

use super::StoreResult;
use crate::audit::AuditEvent;
use crate::time::UnixTime;

/// The fleet's shared state, as a store shared by hosts keeps it.
pub trait Fleet: Send + Sync {
    /// Stores `bytes` by their SHA-256 `sha256` and makes them the fleet's
    /// desired module; unchanged when they are already.
    fn publish_module(
        &self,
        bytes: &[u8],
        sha256: &str,
        by: &str,
        now: UnixTime,
        audit: &AuditEvent,
    ) -> StoreResult<Published>;
    /// The module every host should run, if one was published.
    fn desired_module(&self) -> StoreResult<Option<Desired>>;
    /// The bytes published as `sha256`.
    fn module_bytes(&self, sha256: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Makes the module published before the desired one desired again (none:
    /// every host returns to its configured module).
    fn roll_back(&self, by: &str, now: UnixTime, audit: &AuditEvent) -> StoreResult<RolledBack>;
    /// Records this host's state now (by the database's clock), and forgets
    /// hosts silent for an hour.
    fn heartbeat(&self, beat: &HostBeat) -> StoreResult<()>;
    /// Forgets host `id` (it is shutting down cleanly).
    fn leave(&self, id: &str) -> StoreResult<()>;
    /// Every host that sent a heartbeat in the last `within_secs` seconds.
    fn hosts(&self, within_secs: u64) -> StoreResult<Vec<FleetHost>>;
}

/// The desired module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Desired {
    /// Its place in the rollout stack (grows with every publish).
    pub seq: u64,
    /// The hex SHA-256 of its bytes.
    pub sha256: String,
    /// Who published it (a principal, or `cli`).
    pub published_by: String,
    /// When.
    pub published_at: UnixTime,
}

/// What publishing did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Published {
    /// The module is now the desired one.
    Published(Desired),
    /// It was the desired one already.
    Unchanged(Desired),
}

/// What rolling back did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum RolledBack {
    /// `from` is no longer desired; `to` is (none: each host's configured module).
    RolledBack {
        /// The module rolled back from.
        from: Desired,
        /// The module desired now.
        to: Option<Desired>,
    },
    /// Nothing was published: there is nothing to roll back.
    NothingPublished,
}

/// What a host says of itself in a heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostBeat {
    /// Unique among live hosts (host name, process id, start time).
    pub id: String,
    /// The address it serves on.
    pub listen: String,
    /// The tokenscope version it runs.
    pub version: String,
    /// When it started.
    pub started_at: UnixTime,
    /// The hex SHA-256 of its active module.
    pub active_sha256: String,
    /// Who signed its active module: a trusted key's id, `embedded`, `not-checked` or `unsigned`.
    pub active_signer: String,
    /// Why its gate refused the desired module, when it did.
    pub refused: Option<String>,
    /// How long the last change notification took to arrive (ms), if one did.
    pub invalidation_lag_ms: Option<u64>,
    /// Whether its change notifications are arriving now.
    pub listening: bool,
}

/// A live host, as the fleet sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FleetHost {
    /// What it last said.
    #[serde(flatten)]
    pub beat: HostBeat,
    /// How long ago (by the database's clock) that was, in milliseconds.
    pub heartbeat_age_ms: u64,
}
