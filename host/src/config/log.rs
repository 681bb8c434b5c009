//! `[log]`: which decisions get a log line, and in which format.

use serde::Deserialize;

/// Which decisions get a log line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionLog {
    /// Every decision.
    #[default]
    All,
    /// Denies only.
    Denies,
    /// None (errors and warnings are still logged).
    None,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `key=value` text, one line per event.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `message` and the event's fields.
    Json,
}

/// Decision logs (`tokenscope serve` writes them off the request path).
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `all`, `denies` or `none`.
    pub decisions: DecisionLog,
    /// `text` or `json`.
    pub format: LogFormat,
}
