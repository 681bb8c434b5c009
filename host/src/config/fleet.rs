//! The `[fleet]` table: how hosts sharing a PostgreSQL store tell each other
//! they are alive, and what they call themselves. Unused on a SQLite store.

use std::time::Duration;

use anyhow::{Result, bail};
use serde::Deserialize;

use super::duration::duration;

/// `[fleet]` as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FleetConfig {
    /// How often a host writes its heartbeat and rereads the desired module
    /// (a published module also arrives at once by notification).
    #[serde(deserialize_with = "duration")]
    pub heartbeat: Duration,
    /// A host silent for this long is no longer listed as live.
    #[serde(deserialize_with = "duration")]
    pub live_within: Duration,
    /// This host's name in the fleet (default: host name, process id, start time).
    pub host_id: Option<String>,
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig { heartbeat: Duration::from_secs(1), live_within: Duration::from_secs(10), host_id: None }
    }
}

impl FleetConfig {
    /// Refuses intervals that would flood the database or never report.
    pub fn validate(&self) -> Result<()> {
        if self.heartbeat < Duration::from_millis(100) || self.heartbeat > Duration::from_secs(60) {
            bail!("fleet.heartbeat must be between 100ms and 60s");
        }
        if self.live_within < self.heartbeat.saturating_mul(2) {
            bail!("fleet.live_within must be at least twice fleet.heartbeat");
        }
        Ok(())
    }
}
