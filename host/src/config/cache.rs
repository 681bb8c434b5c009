//! `[cache]`: what the verify path keeps in memory, and how soon it sees
//! another process's writes.

use std::time::Duration;

use serde::Deserialize;

use super::duration::duration;

/// What the verify path keeps in memory. Writes through this process take effect
/// on the next request; another process's writes (the CLI beside a server) are
/// seen within twice `refresh`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Keep stored tokens, owners' rights and unknown secrets in memory.
    pub enabled: bool,
    /// The most stored tokens held; past it the cache is emptied and refills on demand.
    pub tokens: usize,
    /// The most unknown (well-formed, never issued) secrets remembered.
    pub unknown: usize,
    /// The most owners' rights held.
    pub owners: usize,
    /// How often the store's change counter is read (1 ms to 500 ms).
    #[serde(deserialize_with = "duration")]
    pub refresh: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: true,
            tokens: 262_144,
            unknown: 65_536,
            owners: 65_536,
            refresh: Duration::from_millis(250),
        }
    }
}
