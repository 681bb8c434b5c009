//! The token page's sessions, kept in the server's memory: a random cookie
//! value (only its SHA-256 is the key), the principal it belongs to (by id, so
//! a removed principal's session never acts for a new one of the same name),
//! the signing-in token's secret (needed to decide each action exactly as the
//! API does; never logged, never shown) or none for a session opened with a
//! one-time link, a CSRF token, idle and absolute lifetimes, and a secret
//! waiting to be shown once. Each principal keeps at most `PER_PRINCIPAL`
//! sessions (a new one ends its own oldest); past `MAX_SESSIONS` in all, new
//! sign-ins are refused, never someone else's session ended. A restart signs
//! everyone out.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::store::PrincipalId;

/// The most sessions kept in all; past it a new sign-in is refused.
pub const MAX_SESSIONS: usize = 10_000;
/// The most sessions one principal keeps; a new one ends its own least recently used.
pub const PER_PRINCIPAL: usize = 16;

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
    /// The signed-in principal.
    pub principal: PrincipalId,
    /// Its name when it signed in (what pages show; decisions go by `principal`).
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

/// Why no session was started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartError {
    /// The OS gave no random bytes for the cookie.
    Random,
    /// `MAX_SESSIONS` sessions are live: the sign-in is refused rather than
    /// ending another person's session.
    Full,
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
        crate::locks::lock(&self.entries, "page sessions")
    }

    /// Starts a session for principal `principal` (named `owner`) signed in
    /// with `secret` (none: with a one-time link): the cookie value. The
    /// principal's own least recently used session ends when it has
    /// `PER_PRINCIPAL`; with `MAX_SESSIONS` live in all, the sign-in is refused.
    pub fn start(&self, principal: PrincipalId, owner: &str, secret: Option<&str>) -> Result<String, StartError> {
        let cookie = random_hex().ok_or(StartError::Random)?;
        let csrf = random_hex().ok_or(StartError::Random)?;
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.len() >= MAX_SESSIONS {
            entries.retain(|_, e| self.alive(e, now));
        }
        let mine: Vec<([u8; 32], Instant)> =
            entries.iter().filter(|(_, e)| e.session.principal == principal).map(|(k, e)| (*k, e.seen)).collect();
        if mine.len() >= PER_PRINCIPAL {
            let mut mine = mine;
            mine.sort_by_key(|(_, seen)| *seen);
            for (k, _) in mine.iter().take(mine.len() + 1 - PER_PRINCIPAL) {
                entries.remove(k);
            }
        }
        if entries.len() >= MAX_SESSIONS {
            return Err(StartError::Full);
        }
        let session = Session { secret: secret.map(|s| Held(s.to_owned())), principal, owner: owner.to_owned(), csrf };
        entries.insert(key(&cookie), Entry { session, created: now, seen: now, shown_once: None });
        Ok(cookie)
    }

    /// Ends every session of `principal` (it was removed).
    pub fn end_principal(&self, principal: PrincipalId) {
        self.lock().retain(|_, e| e.session.principal != principal);
    }

    /// How many sessions are kept now (live or not yet pruned).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().len()
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
        let cookie = sessions.start(PrincipalId::new(1), "alice", Some("tks_secret")).unwrap();
        let session = sessions.get(&cookie).unwrap();
        assert_eq!(session.owner, "alice");
        assert!(!format!("{session:?}").contains("tks_secret"));
        assert!(csrf_matches(&session, Some(&session.csrf)));
        assert!(!csrf_matches(&session, Some("0")) && !csrf_matches(&session, None));
        assert!(sessions.get("forged").is_none());
        sessions.end(&cookie);
        assert!(sessions.get(&cookie).is_none());

        let idle = Sessions::new(Duration::ZERO, Duration::from_secs(3600));
        let cookie = idle.start(PrincipalId::new(2), "bob", Some("tks_x")).unwrap();
        assert!(idle.get(&cookie).is_none(), "past its idle time");
    }

    #[test]
    fn a_new_secret_is_shown_once() {
        let sessions = Sessions::new(Duration::from_secs(60), Duration::from_secs(3600));
        let cookie = sessions.start(PrincipalId::new(1), "alice", None).unwrap();
        sessions.keep_once(&cookie, 7, "tks_new");
        assert!(sessions.take_once(&cookie, 8).is_none());
        assert_eq!(sessions.take_once(&cookie, 7).map(|s| s.expose().to_owned()), Some("tks_new".into()));
        assert!(sessions.take_once(&cookie, 7).is_none());
    }

    #[test]
    fn a_flood_of_sign_ins_ends_only_the_flooders_own_sessions() {
        let sessions = Sessions::new(Duration::from_secs(60), Duration::from_secs(3600));
        let victim = sessions.start(PrincipalId::new(1), "alice", None).unwrap();
        let flooder = PrincipalId::new(2);
        let first = sessions.start(flooder, "mallory", None).unwrap();
        for _ in 0..(MAX_SESSIONS + 1) {
            sessions.start(flooder, "mallory", None).unwrap();
        }
        assert!(sessions.get(&victim).is_some(), "another principal's session was ended");
        assert!(sessions.get(&first).is_none(), "the flooder's oldest session should have gone");
        assert_eq!(sessions.len(), 1 + PER_PRINCIPAL);
        sessions.end_principal(flooder);
        assert_eq!(sessions.len(), 1);
    }

    #[test]
    fn past_the_ceiling_new_sign_ins_are_refused_and_nobody_is_signed_out() {
        let sessions = Sessions::new(Duration::from_secs(60), Duration::from_secs(3600));
        let cookies: Vec<String> = (0..MAX_SESSIONS)
            .map(|i| sessions.start(PrincipalId::new(i64::try_from(i).unwrap()), "p", None).unwrap())
            .collect();
        assert_eq!(sessions.start(PrincipalId::new(-1), "late", None), Err(StartError::Full));
        assert!(cookies.iter().all(|c| sessions.get(c).is_some()));
    }
}
