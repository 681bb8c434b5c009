//! An issuer's signing keys (its JWKS), from a URL or a file, cached. The set
//! is read when first needed, again when it is an hour old, and again when a
//! token names a key it lacks: at most once a minute from a URL (so a flood of
//! made-up key ids cannot make us hammer the issuer), at each such token from a
//! file. A key that left the set is refused once the set was read again. After
//! a failed read none is tried for 5 s; an old set stays in use meanwhile.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};

use super::error::OidcError;

/// How old a key set may get before it is read again.
const MAX_AGE: Duration = Duration::from_secs(3600);
/// The least time between two reads of a URL forced by an unknown key.
const FORCED_EVERY: Duration = Duration::from_secs(60);
/// The largest key set read.
const MAX_JWKS_BYTES: u64 = 1 << 20;

/// Where an issuer's keys are.
#[derive(Clone, Debug)]
pub enum KeySource {
    /// Fetched with GET.
    Url(String),
    /// Read from disk.
    File(PathBuf),
}

/// One issuer's keys, as last read.
pub struct Keys {
    source: KeySource,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    set: Option<JwkSet>,
    read_at: Option<Instant>,
    forced_at: Option<Instant>,
    /// When a read last failed: none is tried again for `RETRY_AFTER`.
    failed_at: Option<Instant>,
}

/// The least time between reads after one failed (an issuer that is down is not hammered).
const RETRY_AFTER: Duration = Duration::from_secs(5);

impl Keys {
    /// Keys from `source`, read when first needed.
    pub fn new(source: KeySource) -> Keys {
        Keys { source, state: Mutex::new(State::default()) }
    }

    /// The key named `kid`.
    pub fn key(&self, kid: &str) -> Result<Jwk, OidcError> {
        let mut state = crate::locks::lock(&self.state, "issuer keys");
        let stale = state.read_at.is_none_or(|at| at.elapsed() >= MAX_AGE);
        let resting = state.failed_at.is_some_and(|at| at.elapsed() < RETRY_AFTER);
        if stale && !(resting && state.set.is_some()) {
            match self.read(&mut state) {
                Ok(()) => {}
                // An hour-old set stays in use while the issuer cannot be reached.
                Err(err) if state.set.is_some() => {
                    tracing::warn!("keeping the key set read before: {err}");
                }
                Err(err) => return Err(err),
            }
        }
        if let Some(key) = find(&state, kid) {
            return Ok(key);
        }
        let may_force = match self.source {
            KeySource::File(_) => true,
            KeySource::Url(_) => state.forced_at.is_none_or(|at| at.elapsed() >= FORCED_EVERY),
        };
        if !stale && may_force {
            state.forced_at = Some(Instant::now());
            self.read(&mut state)?;
            if let Some(key) = find(&state, kid) {
                return Ok(key);
            }
        }
        Err(OidcError::UnknownKey(super::error::shown(kid, 64)))
    }

    fn read(&self, state: &mut State) -> Result<(), OidcError> {
        if state.failed_at.is_some_and(|at| at.elapsed() < RETRY_AFTER) {
            return Err(OidcError::Keys(format!("the last read failed less than {} s ago", RETRY_AFTER.as_secs())));
        }
        let read = self.read_now();
        state.failed_at = read.is_err().then(Instant::now);
        let set = read?;
        state.set = Some(set);
        state.read_at = Some(Instant::now());
        Ok(())
    }

    fn read_now(&self) -> Result<JwkSet, OidcError> {
        let text = match &self.source {
            KeySource::File(path) => std::fs::read_to_string(path)
                .map_err(|e| OidcError::Keys(format!("cannot read `{}`: {e}", path.display())))?,
            KeySource::Url(url) => fetch(url)?,
        };
        serde_json::from_str(&text).map_err(|e| OidcError::Keys(format!("not a JWKS: {e}")))
    }
}

fn find(state: &State, kid: &str) -> Option<Jwk> {
    state.set.as_ref()?.keys.iter().find(|key| key.common.key_id.as_deref() == Some(kid)).cloned()
}

fn fetch(url: &str) -> Result<String, OidcError> {
    let agent: ureq::Agent =
        ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(5))).max_redirects(0).build().into();
    let mut response = agent.get(url).call().map_err(|e| OidcError::Keys(format!("GET {url}: {e}")))?;
    response
        .body_mut()
        .with_config()
        .limit(MAX_JWKS_BYTES)
        .read_to_string()
        .map_err(|e| OidcError::Keys(format!("GET {url}: {e}")))
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn an_issuer_that_fails_is_not_asked_again_for_a_while() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        let asked = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&asked);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                counted.fetch_add(1, Ordering::Relaxed);
                drop(stream); // no answer: the read fails
            }
        });
        let keys = Keys::new(KeySource::Url(url));
        assert!(matches!(keys.key("a"), Err(OidcError::Keys(_))));
        for _ in 0..20 {
            assert!(matches!(keys.key("b"), Err(OidcError::Keys(_))));
        }
        assert_eq!(asked.load(Ordering::Relaxed), 1, "one attempt within the rest period");
    }

    #[test]
    fn a_file_is_read_again_for_an_unknown_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jwks.json");
        let set = |kid: &str| {
            format!(
                r#"{{"keys":[{{"kty":"EC","crv":"P-256","kid":"{kid}","x":"MIOG3TjZF-E2UIvdbYCzwSbx7Dd2BG9yT1J1KD8C8j4","y":"QXdv8PrloNMR02dXCaj59Gffy8nEJBIQUxI9zZdTq7o"}}]}}"#
            )
        };
        std::fs::write(&file, set("one")).unwrap();
        let keys = Keys::new(KeySource::File(file.clone()));
        assert!(keys.key("one").is_ok());
        std::fs::write(&file, set("two")).unwrap();
        assert!(keys.key("two").is_ok(), "the new key is found");
        assert!(matches!(keys.key("one"), Err(OidcError::UnknownKey(_))), "the old one left");
    }
}
