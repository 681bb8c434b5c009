//! `[record]`: recording a sample of live decisions for `tokenscope policy diff`.

use std::path::PathBuf;

use serde::Deserialize;

/// Recording a sample of live decisions for `tokenscope policy diff`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordConfig {
    /// The JSON-lines file decisions are appended to; none records nothing.
    pub file: Option<PathBuf>,
    /// Record every n-th decision.
    pub every: u64,
}

impl Default for RecordConfig {
    fn default() -> Self {
        RecordConfig { file: None, every: 1 }
    }
}
