//! `[check]`: the check endpoint as configured, and its reading rules (public
//! prefixes, the route map) built once when the config is read.

use std::sync::Arc;

use anyhow::Result;
use serde::Deserialize;

pub use tokenscope_request::CheckConfig;

/// The check endpoint as configured (`[check]`), and its reading rules (the
/// canonical public prefixes and the route map) built from it once, when the
/// config is read: a config with a bad route is refused there, and nothing
/// builds the route map again.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "CheckConfig")]
pub struct Check {
    written: CheckConfig,
    settings: Arc<tokenscope_request::Settings>,
}

impl Check {
    /// The `[check]` table as written.
    pub fn written(&self) -> &CheckConfig {
        &self.written
    }

    /// The reading rules: convention, prefix, public prefixes and routes.
    pub fn settings(&self) -> &Arc<tokenscope_request::Settings> {
        &self.settings
    }
}

impl TryFrom<CheckConfig> for Check {
    type Error = tokenscope_request::SettingsError;

    fn try_from(written: CheckConfig) -> Result<Check, Self::Error> {
        let settings = written.settings(written.convention)?;
        Ok(Check { written, settings: Arc::new(settings) })
    }
}

impl Default for Check {
    fn default() -> Self {
        let written = CheckConfig::default();
        let settings = tokenscope_request::Settings::empty(written.convention, &written.prefix);
        Check { written, settings: Arc::new(settings) }
    }
}
