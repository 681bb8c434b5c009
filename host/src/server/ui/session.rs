//! The token page's sessions, kept in the server's memory: a random cookie
//! value (only its SHA-256 is the key), the signing-in token's secret (needed to
//! decide each action exactly as the API does; never logged, never shown) or
//! none for a session opened with a one-time link, a CSRF token, idle and
//! absolute lifetimes, and a secret waiting to be shown once. A restart signs
//! everyone out.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The most sessions kept; beyond it the least recently used goes.
const MAX_SESSIONS: usize = 10_000;

/// A secret held for a session: its `Debug` never shows it.
#[derive(Clone)]
pub struct Held(String);

impl Held {
    /// The secret, to present to the authority.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Held(<redacted>)")
    }
}

/// What a request learns of its session.
#[derive(Clone, Debug)]
pub struct Session {
    /// The signing-in token's secret; none when a one-time link opened the session.
    pub secret: Option<Held>,
    /// Its owner.
    pub owner: String,
    /// The CSRF token every state-changing form carries.
    pub csrf: String,
}

#[derive(Debug)]
struct Entry {
    session: Session,
    created: Instant,
    seen: Instant,
    /// A new secret to show once: (token id, secret).
    shown_once: Option<(i64, Held)>,
}

/// The sessions of one server.
pub struct Sessions {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
    idle: Duration,
    max: Duration,
}

fn key(cookie: &str) -> [u8; 32] {
    Sha256::digest(cookie.as_bytes()).into()
}

fn random_hex() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(hex::encode(bytes))
}

impl Sessions {
    /// Sessions that end after `idle` without a request or `max` after sign-in.
    pub fn new(idle: Duration, max: Duration) -> Sessions {
        Sessions { entries: Mutex::new(HashMap::new()), idle, max }
    }

    /// The absolute lifetime (the cookie's `Max-Age`).
    pub fn max_age(&self) -> Duration {
        self.max
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts a session for `owner` signed in with `secret` (none: with a
    /// one-time link); the cookie value, or none when no random value could be made.
    pub fn start(&self, owner: &str, secret: Option<&str>) -> Option<String> {
        let cookie = random_hex()?;
        let csrf = random_hex()?;
        let now = Instant::now();
        let mut entries = self.lock();
        entries.retain(|_, e| self.alive(e, now));
        if entries.len() >= MAX_SESSIONS
            && let Some(oldest) = entries.iter().min_by_key(|(_, e)| e.seen).map(|(k, _)| *k)
        {
            entries.remove(&oldest);
        }
        let session = Session { secret: secret.map(|s| Held(s.to_owned())), owner: owner.to_owned(), csrf };
        entries.insert(key(&cookie), Entry { session, created: now, seen: now, shown_once: None });
        Some(cookie)
    }

    fn alive(&self, entry: &Entry, now: Instant) -> bool {
        now.duration_since(entry.seen) < self.idle && now.duration_since(entry.created) < self.max
    }

    /// The live session of `cookie`, counting this request as activity.
    pub fn get(&self, cookie: &str) -> Option<Session> {
        let now = Instant::now();
        let mut entries = self.lock();
        let k = key(cookie);
        let alive = entries.get(&k).is_some_and(|e| self.alive(e, now));
        if !alive {
            entries.remove(&k);
            return None;
        }
        let entry = entries.get_mut(&k)?;
        entry.seen = now;
        Some(entry.session.clone())
    }

    /// Ends the session of `cookie`.
    pub fn end(&self, cookie: &str) {
        self.lock().remove(&key(cookie));
    }

    /// Keeps a new secret for the session to show once.
    pub fn keep_once(&self, cookie: &str, token: i64, secret: &str) {
        if let Some(entry) = self.lock().get_mut(&key(cookie)) {
            entry.shown_once = Some((token, Held(secret.to_owned())));
        }
    }

    /// The secret kept for `token`, taken: a second call finds nothing.
    pub fn take_once(&self, cookie: &str, token: i64) -> Option<Held> {
        let mut entries = self.lock();
        let entry = entries.get_mut(&key(cookie))?;
        match entry.shown_once.take() {
            Some((id, secret)) if id == token => Some(secret),
            other => {
                entry.shown_once = other;
                None
            }
        }
    }
}

/// Whether a form's CSRF token is the session's (in constant time).
pub fn csrf_matches(session: &Session, sent: Option<&str>) -> bool {
    sent.is_some_and(|sent| {
        sent.len() == session.csrf.len() && bool::from(sent.as_bytes().ct_eq(session.csrf.as_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lives_until_idle_or_ended_and_its_secret_never_shows() {
        let sessions = Sessions::new(Duration::from_secs(60), Duration::from_secs(3600));
        let cookie = sessions.start("alice", Some("tks_secret")).unwrap();
        let session = sessions.get(&cookie).unwrap();
        assert_eq!(session.owner, "alice");
        assert!(!format!("{session:?}").contains("tks_secret"));
        assert!(csrf_matches(&session, Some(&session.csrf)));
        assert!(!csrf_matches(&session, Some("0")) && !csrf_matches(&session, None));
        assert!(sessions.get("forged").is_none());
        sessions.end(&cookie);
        assert!(sessions.get(&cookie).is_none());

        let idle = Sessions::new(Duration::ZERO, Duration::from_secs(3600));
        let cookie = idle.start("bob", Some("tks_x")).unwrap();
        assert!(idle.get(&cookie).is_none(), "past its idle time");
    }

    #[test]
    fn a_new_secret_is_shown_once() {
        let sessions = Sessions::new(Duration::from_secs(60), Duration::from_secs(3600));
        let cookie = sessions.start("alice", None).unwrap();
        sessions.keep_once(&cookie, 7, "tks_new");
        assert!(sessions.take_once(&cookie, 8).is_none());
        assert_eq!(sessions.take_once(&cookie, 7).map(|s| s.expose().to_owned()), Some("tks_new".into()));
        assert!(sessions.take_once(&cookie, 7).is_none());
    }
}
