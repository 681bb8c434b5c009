//! The `[check]` table as written: the check endpoint's prefix, the proxy
//! convention, the public prefixes and the route map. The host reads it from
//! `tokenscope.toml`; `tokenscope gateway build` carries it into the gateway.

use serde::{Deserialize, Serialize};

use crate::decode::{Settings, SettingsError};
use crate::original::Convention;
use crate::route_map::RouteConfig;

/// The `[check]` table as written.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckConfig {
    /// Where the check endpoint lives; Envoy appends the original path to it.
    pub prefix: String,
    /// Which proxy convention supplies the original request: `nginx`
    /// (`X-Original-*`), `forwarded` (Traefik/Caddy `X-Forwarded-*`), `envoy` (the
    /// path under `prefix`), or `auto` (whichever one a request carries; a request
    /// with the headers of more than one is refused). Set it to the proxy in front.
    pub convention: Convention,
    /// Path prefixes whose unmapped routes are allowed without a token (public
    /// paths), matched segment by segment on the canonical path; every other
    /// unmapped route is denied.
    pub public_prefixes: Vec<String>,
    /// The route map: (method, path pattern) -> (action, resource template).
    pub routes: Vec<RouteConfig>,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            prefix: "/v1/check".to_owned(),
            convention: Convention::Auto,
            public_prefixes: Vec::new(),
            routes: Vec::new(),
        }
    }
}

impl CheckConfig {
    /// The reading rules built from the table, read by `convention` (the
    /// table's own, or `Direct` for a gateway that sits in the request's path).
    pub fn settings(&self, convention: Convention) -> Result<Settings, SettingsError> {
        Settings::new(convention, &self.prefix, &self.public_prefixes, &self.routes)
    }
}
