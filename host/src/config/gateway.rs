//! The `[gateway]` table: what a built gateway does (check or filter), where it
//! introspects and forwards, and its cache bounds. Turned into the
//! `GatewaySettings` the gateway reads, with the `[check]` table beside it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use axum::http::Uri;
use serde::Deserialize;
use tokenscope_wasm_gateway::{CacheSettings, Mode, Origin, Scheme, Timeouts};

use super::duration::duration;

/// `[gateway]` as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// `check` (answer like `/v1/check`) or `filter` (forward allowed requests).
    pub mode: Mode,
    /// The `tokenscope serve` base URL for `/v1/introspect` and `/v1/revocations`.
    pub introspect_url: Option<String>,
    /// A file holding the gateway's token (one that holds `system.tokens:introspect`);
    /// `TOKENSCOPE_GATEWAY_TOKEN` is read when unset.
    pub introspect_token_file: Option<PathBuf>,
    /// Where filter mode forwards allowed requests.
    pub upstream: Option<String>,
    /// The most a stored token's answer is kept (the server's `max-age` may say less).
    #[serde(deserialize_with = "duration")]
    pub cache_ttl: Duration,
    /// The most an unknown secret's answer is kept.
    #[serde(deserialize_with = "duration")]
    pub negative_ttl: Duration,
    /// How often the change feed is read.
    #[serde(deserialize_with = "duration")]
    pub feed_interval: Duration,
    /// How late a revocation may take effect: cached answers are not used once
    /// the feed has not been read for this long.
    #[serde(deserialize_with = "duration")]
    pub max_staleness: Duration,
    /// The most answers kept per instance.
    pub max_entries: usize,
    /// Connecting to the server or the upstream.
    #[serde(deserialize_with = "duration")]
    pub connect_timeout: Duration,
    /// Waiting for the server's answer.
    #[serde(deserialize_with = "duration")]
    pub introspect_timeout: Duration,
    /// Waiting for the upstream's answer.
    #[serde(deserialize_with = "duration")]
    pub upstream_timeout: Duration,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        let cache = CacheSettings::default();
        let timeouts = Timeouts::default();
        GatewayConfig {
            mode: Mode::Check,
            introspect_url: None,
            introspect_token_file: None,
            upstream: None,
            cache_ttl: Duration::from_millis(cache.ttl_ms),
            negative_ttl: Duration::from_millis(cache.negative_ttl_ms),
            feed_interval: Duration::from_millis(cache.feed_interval_ms),
            max_staleness: Duration::from_millis(cache.max_staleness_ms),
            max_entries: cache.max_entries,
            connect_timeout: Duration::from_millis(timeouts.connect_ms),
            introspect_timeout: Duration::from_millis(timeouts.introspect_ms),
            upstream_timeout: Duration::from_millis(timeouts.upstream_ms),
        }
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl GatewayConfig {
    /// The cache bounds; the feed must be read more often than answers go stale.
    pub fn cache(&self) -> Result<CacheSettings> {
        if self.feed_interval.is_zero() || self.feed_interval > self.max_staleness {
            bail!("gateway.feed_interval must be above zero and at most gateway.max_staleness");
        }
        Ok(CacheSettings {
            ttl_ms: ms(self.cache_ttl),
            negative_ttl_ms: ms(self.negative_ttl),
            feed_interval_ms: ms(self.feed_interval),
            max_staleness_ms: ms(self.max_staleness),
            max_entries: self.max_entries,
        })
    }

    /// The outgoing requests' timeouts.
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            connect_ms: ms(self.connect_timeout),
            introspect_ms: ms(self.introspect_timeout),
            upstream_ms: ms(self.upstream_timeout),
        }
    }

    /// The gateway's token: from `introspect_token_file`, else `TOKENSCOPE_GATEWAY_TOKEN`.
    pub fn token(&self, env: impl Fn(&str) -> Option<String>) -> Result<String> {
        let token = match &self.introspect_token_file {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("failed to read gateway.introspect_token_file `{}`", path.display()))?,
            None => env("TOKENSCOPE_GATEWAY_TOKEN").context(
                "the gateway needs a token that holds system.tokens:introspect: set gateway.introspect_token_file \
                 or TOKENSCOPE_GATEWAY_TOKEN",
            )?,
        };
        let token = token.trim().to_owned();
        tokenscope_request::check_shape(&token)
            .map_err(|e| anyhow::anyhow!("the gateway's token is not a tokenscope secret: {e}"))?;
        Ok(token)
    }
}

/// `http[s]://host[:port][/base]` as an origin; no query, user info or fragment.
pub fn origin(what: &str, url: &str) -> Result<Origin> {
    let uri: Uri = url.parse().with_context(|| format!("{what} `{url}` is not a URL"))?;
    let scheme = match uri.scheme_str() {
        Some("http") => Scheme::Http,
        Some("https") => Scheme::Https,
        _ => bail!("{what} `{url}` must start with http:// or https://"),
    };
    let authority = uri.authority().with_context(|| format!("{what} `{url}` names no host"))?;
    if authority.as_str().contains('@') || uri.query().is_some() || url.contains('#') {
        bail!("{what} `{url}` must not carry user info, a query or a fragment");
    }
    let base_path = uri.path().trim_end_matches('/').to_owned();
    Ok(Origin { scheme, authority: authority.as_str().to_owned(), base_path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_authority_and_base_path() {
        let o = origin("x", "http://127.0.0.1:8080").unwrap();
        assert_eq!((o.scheme, o.authority.as_str(), o.base_path.as_str()), (Scheme::Http, "127.0.0.1:8080", ""));
        let o = origin("x", "https://auth.example/tokenscope/").unwrap();
        assert_eq!((o.scheme, o.base_path.as_str()), (Scheme::Https, "/tokenscope"));
        for bad in ["ftp://a", "127.0.0.1:80", "http://u:p@a/", "http://a/?q=1", "http://a/#f", "not a url"] {
            assert!(origin("x", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_feed_must_be_read_within_the_staleness_bound() {
        let config = GatewayConfig { feed_interval: Duration::from_secs(10), ..GatewayConfig::default() };
        assert!(config.cache().is_err());
        assert_eq!(GatewayConfig::default().cache().unwrap().max_staleness_ms, 5_000);
    }
}
