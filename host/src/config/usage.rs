//! `[usage]`: how usage is counted and flushed.

use std::time::Duration;

use serde::Deserialize;

use super::duration::duration;

/// How usage is counted.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UsageConfig {
    /// How often counted uses are written to the store; a crash loses at most this much.
    #[serde(deserialize_with = "duration")]
    pub flush_interval: Duration,
}

impl Default for UsageConfig {
    fn default() -> Self {
        UsageConfig { flush_interval: Duration::from_secs(1) }
    }
}
