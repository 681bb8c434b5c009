//! `[server]`: the HTTP server's address, limits and public URL.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use super::duration::duration;

/// The HTTP server's address and limits.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// The address to listen on (loopback by default).
    pub listen: std::net::SocketAddr,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The most header bytes (names and values) a request may carry.
    pub max_header_bytes: usize,
    /// The longest a request may take.
    #[serde(deserialize_with = "duration")]
    pub request_timeout: Duration,
    /// How long shutdown waits for in-flight requests.
    #[serde(deserialize_with = "duration")]
    pub shutdown_grace: Duration,
    /// The longest a client may take to send a request's complete headers,
    /// counted from when its connection is ready for a request: slow headers and
    /// keep-alive connections idle for this long are closed.
    #[serde(deserialize_with = "duration")]
    pub header_read_timeout: Duration,
    /// Open client connections at most; more wait in the listen backlog.
    pub max_connections: usize,
    /// Threads that accept and serve connections, each with its own event loop
    /// (0: one per core).
    pub workers: usize,
    /// Checks that may wait for the store at once (a token, or its owner's
    /// rights, the caches cannot answer); they wait off the serving threads,
    /// and past this many a check is answered 503 `store-unavailable` at once.
    pub store_waits: usize,
    /// The URL people reach this server at (behind a proxy); when it is https,
    /// the token page's session cookie is `Secure`.
    pub public_url: Option<String>,
    /// The token page's sessions end after this long without a request.
    #[serde(deserialize_with = "duration")]
    pub session_idle: Duration,
    /// And this long after sign-in in any case.
    #[serde(deserialize_with = "duration")]
    pub session_max: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 64 << 10,
            max_header_bytes: 16 << 10,
            request_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            workers: 0,
            store_waits: 64,
            public_url: None,
            session_idle: Duration::from_secs(30 * 60),
            session_max: Duration::from_secs(8 * 3600),
        }
    }
}

/// The origin (scheme, host and port, as a browser's `Origin` header names
/// it) of `server.public_url`, which must be an http or https URL with a host;
/// `https` however it is spelled.
pub fn public_origin(public_url: &str) -> Result<url::Url> {
    let url = url::Url::parse(public_url).with_context(|| format!("server.public_url `{public_url}` is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        bail!("server.public_url `{public_url}` must be an http or https URL with a host");
    }
    Ok(url)
}
