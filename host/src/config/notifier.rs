//! `[expiry_notifier]`: acs's expiry warnings.

use std::time::Duration;

use serde::Deserialize;

use super::duration::duration;

/// acs's expiry warnings.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifierConfig {
    /// How often to look for expiring tokens (`TOKENSCOPE_TOKEN_EXPIRATION_NOTIFIER_INTERVAL`).
    #[serde(deserialize_with = "duration")]
    pub interval: Duration,
    /// The least time between two warnings for one token (`..._BACKOFF_INTERVAL`).
    #[serde(deserialize_with = "duration")]
    pub backoff: Duration,
    /// How long before expiry warnings start (`TOKENSCOPE_TOKEN_EXPIRATION_DETECTION_WINDOW`).
    #[serde(deserialize_with = "duration")]
    pub window: Duration,
}

impl Default for NotifierConfig {
    fn default() -> Self {
        NotifierConfig {
            interval: Duration::from_secs(3600),
            backoff: Duration::from_secs(24 * 3600),
            window: Duration::from_secs(168 * 3600),
        }
    }
}
