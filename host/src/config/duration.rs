//! Go-style durations in the configuration (`1h`, `168h`, `30d`, `90m`).

use std::time::Duration;

use anyhow::{Context, Result};
use serde::{Deserialize, Deserializer};

pub(super) fn days(n: u64) -> Duration {
    Duration::from_secs(n * 24 * 3600)
}

/// Parses Go-style durations such as `1h`, `24h`, `168h`, `30d`, `90m`.
pub fn parse_duration(text: &str) -> Result<Duration> {
    humantime::parse_duration(text).with_context(|| format!("`{text}` is not a duration (e.g. `1h`, `168h`, `30d`)"))
}

pub(super) fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_duration(&text).map_err(|e| serde::de::Error::custom(format!("{e:#}")))
}
