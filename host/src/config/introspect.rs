//! `[introspect]`: what `POST /v1/introspect` tells gateways about caching its answers.

use std::time::Duration;

use serde::Deserialize;

use super::duration::duration;

/// How long gateways may keep introspection answers (`Cache-Control: max-age`).
/// A gateway also polls the change feed, so revocations reach it sooner.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntrospectConfig {
    /// For a stored token.
    #[serde(deserialize_with = "duration")]
    pub max_age: Duration,
    /// For a hash that matches no stored token.
    #[serde(deserialize_with = "duration")]
    pub unknown_max_age: Duration,
}

impl Default for IntrospectConfig {
    fn default() -> Self {
        IntrospectConfig { max_age: Duration::from_secs(60), unknown_max_age: Duration::from_secs(5) }
    }
}
