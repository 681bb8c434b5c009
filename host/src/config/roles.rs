//! `[roles.NAME]`: named grant sets that principals are bound to.

use serde::Deserialize;

/// A named grant set: a level or a list of actions, bound at a node per principal.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoleConfig {
    /// What the role is for.
    pub description: String,
    /// `read`, `write` or `manage`, or a comma-separated list of actions.
    pub access: String,
}
