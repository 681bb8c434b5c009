//! The catalog actions the host itself asks the policy about, and the nodes it
//! asks them on: managing a principal's tokens (`user.token:*` on
//! `user/<name>`), principals and the policy (on the root).

/// Seeing a principal's tokens.
pub const TOKEN_VIEW: &str = "user.token:view";
/// Creating, changing, revoking and deleting a principal's tokens.
pub const TOKEN_EDIT: &str = "user.token:edit";
/// Listing principals.
pub const PRINCIPALS_VIEW: &str = "system.principals:view";
/// Adding, binding, unbinding and removing principals.
pub const PRINCIPALS_EDIT: &str = "system.principals:edit";

/// `user/<name>`: where the `user.token:*` actions on `name`'s tokens are decided.
pub fn user_node(name: &str) -> String {
    format!("user/{name}")
}

/// The root, where the `system.*` actions are decided.
pub const ROOT: &str = "";
