//! Token data for a secret's hash: from the cache where the proxy reuses the
//! instance, else from `POST /v1/introspect` on `tokenscope serve` (only the
//! hash leaves the proxy). Before a cached answer is used the change feed is
//! read when due, so revocations and owner changes drop it within the
//! configured staleness bound. An unreachable or unreadable server is an
//! error: the caller denies with `store-unavailable`.

use std::sync::Arc;

use tokenscope_request::SecretHash;
use wasip2::http::types::Method;

use super::outbound::{Reply, call, options};
use crate::cache::{Cache, Lookup};
use crate::introspection_format::{FeedPage, INTROSPECT_PATH, Introspection, REVOCATIONS_PATH, TokenData, max_age_ms};
use crate::settings::GatewaySettings;

/// The most pages read from the feed in one go (1,000 changes each).
const MAX_PAGES: usize = 64;

/// Milliseconds on the monotonic clock.
pub fn monotonic_ms() -> u64 {
    wasip2::clocks::monotonic_clock::now() / 1_000_000
}

/// The stored token whose secret hashes to `hash`, if any.
pub fn token_data(
    settings: &GatewaySettings,
    cache: &mut Cache,
    reused: bool,
    hash: &SecretHash,
) -> Result<Option<Arc<TokenData>>, String> {
    if !reused {
        // An instance's first request: nothing cached, nothing worth caching yet.
        return introspect(settings, hash).map(|(answer, _)| answer);
    }
    let now = monotonic_ms();
    if cache.feed_due(now) {
        read_feed(settings, cache, now);
    }
    if let Lookup::Hit(answer) = cache.lookup(&hash.0, monotonic_ms()) {
        return Ok(answer);
    }
    let fetched = monotonic_ms();
    let (answer, max_age_ms) = introspect(settings, hash)?;
    cache.store(hash.0, answer.clone(), fetched, max_age_ms);
    Ok(answer)
}

fn authorization(settings: &GatewaySettings) -> (String, Vec<u8>) {
    ("authorization".to_owned(), format!("Bearer {}", settings.introspect_token).into_bytes())
}

/// Asks the server; the answer and how long it may be kept (ms).
fn introspect(settings: &GatewaySettings, hash: &SecretHash) -> Result<(Option<Arc<TokenData>>, u64), String> {
    let body = serde_json::json!({ "sha256": hash.to_hex() }).to_string();
    let headers = [authorization(settings), ("content-type".to_owned(), b"application/json".to_vec())];
    let timeouts = settings.timeouts;
    let reply = call(
        &settings.introspect,
        &Method::Post,
        INTROSPECT_PATH,
        &headers,
        body.as_bytes(),
        options(timeouts.connect_ms, timeouts.introspect_ms),
    )?;
    let answer: Introspection = parse(&reply, "introspection")?;
    let token = match (answer.found, answer.token) {
        (true, Some(token)) => Some(Arc::new(token)),
        (false, _) => None,
        (true, None) => return Err("the introspection answer has no token data".to_owned()),
    };
    Ok((token, reply.header("cache-control").map_or(0, max_age_ms)))
}

/// Reads the feed from the cache's cursor to its end (or the newest cursor
/// when there is none yet) and applies it; a failure leaves the cache to age out.
fn read_feed(settings: &GatewaySettings, cache: &mut Cache, started: u64) {
    for _ in 0..MAX_PAGES {
        let path = match cache.cursor() {
            Some(cursor) => format!("{REVOCATIONS_PATH}?since={cursor}"),
            None => REVOCATIONS_PATH.to_owned(),
        };
        let timeouts = settings.timeouts;
        let page = call(
            &settings.introspect,
            &Method::Get,
            &path,
            &[authorization(settings)],
            b"",
            options(timeouts.connect_ms, timeouts.introspect_ms),
        )
        .and_then(|reply| parse::<FeedPage>(&reply, "change feed"));
        match page {
            Ok(page) => {
                cache.apply_feed(started, &page);
                if !page.more {
                    return;
                }
            }
            Err(_) => break,
        }
    }
    cache.feed_failed(started);
}

fn parse<T: serde::de::DeserializeOwned>(reply: &Reply, what: &str) -> Result<T, String> {
    if reply.status != 200 {
        return Err(format!("the {what} answered {}", reply.status));
    }
    serde_json::from_slice(&reply.body).map_err(|e| format!("the {what} answer is unreadable: {e}"))
}
