//! The check routes shared by the proxy tests (`tests/fixtures/check-routes.toml`),
//! and server configs built from them.

/// `[[check.routes]]` tables: a scan route, psm path-token and header-token downloads, a delete.
pub const ROUTES: &str = include_str!("../fixtures/check-routes.toml");

/// A config with the shared routes under a `[check]` table holding `check` (e.g. `convention = "nginx"`).
pub fn with_routes(check: &str) -> String {
    format!("[check]\n{check}\n{ROUTES}")
}
