//! `[audit]`: how long the audit trail keeps its events. Older ones are pruned
//! (each prune leaves an event recording where the removed prefix ended, so
//! the rest still verifies); the trail itself cannot be turned off.

use std::num::NonZeroU32;
use std::time::Duration;

use anyhow::{Result, bail};
use serde::Deserialize;

use super::duration::duration;

/// `[audit]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// How long events are kept (default one year).
    #[serde(deserialize_with = "duration")]
    pub retain: Duration,
    /// How often a serving host prunes (default hourly).
    #[serde(deserialize_with = "duration")]
    pub prune_every: Duration,
    /// How many refused attempts one actor may have recorded a minute (default
    /// 60); past it they are counted, and its next recorded refusal says how many.
    pub refusals_per_minute: NonZeroU32,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            retain: Duration::from_secs(365 * 86_400),
            prune_every: Duration::from_secs(3600),
            refusals_per_minute: NonZeroU32::new(60).unwrap_or(NonZeroU32::MIN),
        }
    }
}

impl AuditConfig {
    /// Both are longer than zero; events are kept at least a day.
    pub fn validate(&self) -> Result<()> {
        if self.retain < Duration::from_secs(86_400) {
            bail!("audit.retain must be at least one day");
        }
        if self.prune_every.is_zero() {
            bail!("audit.prune_every must be longer than zero");
        }
        Ok(())
    }
}
