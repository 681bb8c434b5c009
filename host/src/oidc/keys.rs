//! An issuer's signing keys (its JWKS), from a URL or a file, cached. The set
//! is read when first needed, again when it is an hour old, and again when a
//! token names a key it lacks: at most once a minute from a URL (so a flood of
//! made-up key ids cannot make us hammer the issuer), at each such token from a
//! file. A key that left the set is refused once the set was read again.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
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
}

impl Keys {
    /// Keys from `source`, read when first needed.
    pub fn new(source: KeySource) -> Keys {
        Keys { source, state: Mutex::new(State::default()) }
    }

    /// The key named `kid`.
    pub fn key(&self, kid: &str) -> Result<Jwk, OidcError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let stale = state.read_at.is_none_or(|at| at.elapsed() >= MAX_AGE);
        if stale {
            self.read(&mut state)?;
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
        Err(OidcError::UnknownKey(kid.chars().take(64).collect()))
    }

    fn read(&self, state: &mut State) -> Result<(), OidcError> {
        let text = match &self.source {
            KeySource::File(path) => std::fs::read_to_string(path)
                .map_err(|e| OidcError::Keys(format!("cannot read `{}`: {e}", path.display())))?,
            KeySource::Url(url) => fetch(url)?,
        };
        let set: JwkSet = serde_json::from_str(&text).map_err(|e| OidcError::Keys(format!("not a JWKS: {e}")))?;
        state.set = Some(set);
        state.read_at = Some(Instant::now());
        Ok(())
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
