//! What a gateway is built with (`tokenscope gateway build` writes it as JSON
//! into a settings component; the gateway reads it once per instance): its mode,
//! the `[check]` table, where to introspect, the upstream, and its cache bounds.

use serde::{Deserialize, Serialize};
use tokenscope_request::CheckConfig;

/// What the gateway does with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Answers like `/v1/check`: 200 with identity headers, or the deny.
    Check,
    /// Forwards allowed requests to the upstream with identity headers.
    Filter,
}

impl Mode {
    /// `check` or `filter`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Check => "check",
            Mode::Filter => "filter",
        }
    }
}

/// `http` or `https`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

/// Where outgoing requests go: scheme, `host:port`, and a path that prefixes
/// every request path (no trailing `/`; empty for none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Origin {
    /// The scheme.
    pub scheme: Scheme,
    /// `host[:port]`.
    pub authority: String,
    /// Put before every path, e.g. `/tokenscope`; empty for none.
    pub base_path: String,
}

/// The policy composed in, for the `x-tokenscope-policy` header and logs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyLabel {
    /// The module's name.
    pub name: String,
    /// The module's version.
    pub version: String,
    /// The SHA-256 of the policy component's bytes, hex.
    pub sha256: String,
}

/// How long introspection answers are kept where the proxy reuses instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// The most a stored token's answer is kept (the server's `max-age` may say less).
    pub ttl_ms: u64,
    /// The most an unknown hash's answer is kept.
    pub negative_ttl_ms: u64,
    /// How often the change feed is read.
    pub feed_interval_ms: u64,
    /// Cached answers are not used once the feed has not been read for this
    /// long: the bound on how late a revocation takes effect.
    pub max_staleness_ms: u64,
    /// The most answers kept; beyond it the oldest go.
    pub max_entries: usize,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            ttl_ms: 60_000,
            negative_ttl_ms: 5_000,
            feed_interval_ms: 1_000,
            max_staleness_ms: 5_000,
            max_entries: 10_000,
        }
    }
}

/// Timeouts of outgoing requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeouts {
    /// To connect.
    pub connect_ms: u64,
    /// From the request sent to the response's first byte (introspection).
    pub introspect_ms: u64,
    /// From the request sent to the response's first byte (the upstream).
    pub upstream_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { connect_ms: 2_000, introspect_ms: 2_000, upstream_ms: 30_000 }
    }
}

/// Everything a gateway is built with. Its `Debug` never shows the token.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySettings {
    /// Check or filter.
    pub mode: Mode,
    /// The `[check]` table: prefix, convention (check mode), public prefixes, routes.
    pub check: CheckConfig,
    /// The `tokenscope serve` that answers `/v1/introspect` and `/v1/revocations`.
    pub introspect: Origin,
    /// The token the gateway introspects with (it holds `system.tokens:introspect`).
    pub introspect_token: String,
    /// Where allowed requests go (filter mode).
    pub upstream: Option<Origin>,
    /// The cache's bounds.
    pub cache: CacheSettings,
    /// Outgoing requests' timeouts.
    pub timeouts: Timeouts,
    /// The policy composed in.
    pub policy: PolicyLabel,
}

impl std::fmt::Debug for GatewaySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewaySettings")
            .field("mode", &self.mode)
            .field("check", &self.check)
            .field("introspect", &self.introspect)
            .field("introspect_token", &"<redacted>")
            .field("upstream", &self.upstream)
            .field("cache", &self.cache)
            .field("timeouts", &self.timeouts)
            .field("policy", &self.policy)
            .finish()
    }
}
