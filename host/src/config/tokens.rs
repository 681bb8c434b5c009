//! `[tokens]`: the rules tokens are issued under.

use std::time::Duration;

use serde::Deserialize;

use super::duration::{days, duration};

/// The rules tokens are issued under.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenConfig {
    /// The lifetime of a token created without an expiry (acs: one year).
    #[serde(deserialize_with = "duration")]
    pub default_ttl: Duration,
    /// The longest lifetime a token may be given.
    #[serde(deserialize_with = "duration")]
    pub max_ttl: Duration,
    /// Whether `--no-expiry` is allowed at all.
    pub allow_no_expiry: bool,
}

impl Default for TokenConfig {
    fn default() -> Self {
        TokenConfig { default_ttl: days(365), max_ttl: days(2 * 365), allow_no_expiry: false }
    }
}
