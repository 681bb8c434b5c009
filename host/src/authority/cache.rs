//! What the verify path keeps in memory so a check costs about one hash: stored
//! tokens by secret hash, a bounded set of well-formed secrets the store does not
//! know, and owners' current rights by principal. A write made through this
//! process's authority invalidates what it changes before it returns; a write by
//! another process on the same store (the CLI beside a server) is noticed by the
//! store's change counter, which empties all of it when it moved. The counter
//! is read off the serving threads (a refresher every `cache.refresh`, and a
//! fleet host's listening connection with every probe), so a check answered
//! from memory never waits for the store: `fresh` says whether it may be.
//! Expiry is never cached as "valid": the record holds the expiry time and
//! the policy decides it at each request. Every map is bounded: past its limit it
//! is emptied and refills on demand, so no flood of secrets grows memory.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use foldhash::{HashMap, HashMapExt, HashSet};

use crate::config::CacheConfig;
use crate::contract::Grants;
use crate::runtime::{KeyedGrants, KeyedRights};
use crate::secret::SecretHash;
use crate::store::{PrincipalId, Store, TokenId, TokenRecord};
use crate::time::{Moment, UnixTime};

/// What a verification needs of a stored token.
#[derive(Debug)]
pub struct CachedToken {
    /// Its id.
    pub id: TokenId,
    /// Its owner.
    pub owner: PrincipalId,
    /// Its owner's name (shared with every answer about it).
    pub owner_name: Arc<str>,
    /// Its name.
    pub name: Arc<str>,
    /// Its grants, as the policy takes them (keyed once, for the evaluator's caches).
    pub grants: KeyedGrants,
    /// When it expires (decided by the policy at each request).
    pub expires_at: Option<UnixTime>,
    /// Whether it is revoked.
    pub revoked: bool,
}

impl CachedToken {
    /// The verification's view of `record`, whose grants are `grants`.
    pub fn of(record: &TokenRecord, grants: Grants) -> CachedToken {
        CachedToken {
            id: record.id,
            owner: record.owner,
            owner_name: record.owner_name.as_str().into(),
            name: record.name.as_str().into(),
            grants: KeyedGrants::from(grants),
            expires_at: record.expires_at,
            revoked: record.revoked_at.is_some(),
        }
    }
}

/// A lookup by secret hash.
pub enum Found {
    /// A stored token.
    Token(Arc<CachedToken>),
    /// No stored token has this hash.
    Unknown,
}

#[derive(Default)]
struct Tokens {
    by_hash: HashMap<SecretHash, Arc<CachedToken>>,
    hash_of: HashMap<TokenId, SecretHash>,
    unknown: HashSet<SecretHash>,
}

/// The verify path's caches; see the module comment for what keeps them true.
pub struct Caches {
    config: CacheConfig,
    tokens: RwLock<Tokens>,
    owners: RwLock<HashMap<PrincipalId, KeyedRights>>,
    /// Bumped by every invalidation; a fill read from the store under an older
    /// generation is not kept (it may predate the write).
    generation: AtomicU64,
    /// The store's change counter when last read.
    counter: AtomicU64,
    /// When the counter was last read successfully (ms since `started`); 0: never.
    confirmed_ms: AtomicU64,
    /// Whether a request is reading the counter now.
    checking: AtomicBool,
    /// When the last change notification arrived (ms since `started`; 0: none).
    dirty_ms: AtomicU64,
    /// When the latest counter read taken in began (ms since `started`): the
    /// caches are clean once that is after the last notification.
    clean_ms: AtomicU64,
    /// Set while the store's notifications are known not to arrive: nothing
    /// cached can be invalidated, so nothing cached answers.
    deaf: AtomicBool,
    /// How late the last change notification arrived (ms); `u64::MAX`: none yet.
    lag_ms: AtomicU64,
    /// The monotonic clock when the caches were made; every `_ms` above counts from it.
    started: Moment,
    /// How far behind a reading of that (coarse) clock may be: added to an age
    /// before it is compared with a bound, so the bound holds.
    tick_ms: u64,
}

/// What a fill remembers: the generation it was read under.
#[derive(Clone, Copy)]
pub struct Ticket(u64);

impl Caches {
    /// Empty caches with `config`'s bounds and refresh interval.
    pub fn new(config: CacheConfig) -> Caches {
        Caches {
            config,
            tokens: RwLock::new(Tokens::default()),
            owners: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
            counter: AtomicU64::new(0),
            confirmed_ms: AtomicU64::new(0),
            checking: AtomicBool::new(false),
            dirty_ms: AtomicU64::new(0),
            clean_ms: AtomicU64::new(0),
            deaf: AtomicBool::new(false),
            lag_ms: AtomicU64::new(u64::MAX),
            started: Moment::now(),
            tick_ms: Moment::tick_ms(),
        }
    }

    fn elapsed_ms(&self) -> u64 {
        // +1 so that 0 stays "never confirmed".
        Moment::now().ms().saturating_sub(self.started.ms()).saturating_add(1)
    }

    /// Whether the caches may answer now without reading anything: enabled,
    /// notifications not lost, none since the counter was last read, and that
    /// read less than twice `refresh` ago (the documented bound on another
    /// process's unseen write). The serving threads ask this; when it says no,
    /// the check is handed to a thread that may wait for the store.
    pub fn fresh(&self) -> bool {
        if !self.config.enabled || self.deaf.load(Ordering::Acquire) || self.dirty() {
            return false;
        }
        let confirmed = self.confirmed_ms.load(Ordering::Acquire);
        let bound = u64::try_from(self.staleness_bound().as_millis()).unwrap_or(u64::MAX);
        confirmed != 0 && self.elapsed_ms().saturating_sub(confirmed).saturating_add(self.tick_ms) < bound
    }

    /// A notification came that no counter read begun after it has answered
    /// (a read begun in the same millisecond does not count).
    fn dirty(&self) -> bool {
        let dirty = self.dirty_ms.load(Ordering::Acquire);
        dirty != 0 && dirty >= self.clean_ms.load(Ordering::Acquire)
    }

    /// Whether the caches may answer now, reading the store's change counter
    /// first when it is due (`refresh` old, or a notification came since): off
    /// the serving threads, since that read may wait for the store. One caller
    /// reads at a time; while it does, the others trust what was confirmed for
    /// one more `refresh`. When the counter cannot be read the caches may not
    /// answer (the caller reads the store), unless a read that began later
    /// (the listening connection's) confirmed them meanwhile.
    pub fn usable(&self, store: &dyn Store) -> bool {
        if !self.config.enabled || self.deaf.load(Ordering::Acquire) {
            return false;
        }
        let refresh = u64::try_from(self.config.refresh.as_millis()).unwrap_or(u64::MAX);
        let started = self.elapsed_ms();
        let confirmed = self.confirmed_ms.load(Ordering::Acquire);
        let age = started.saturating_sub(confirmed);
        if confirmed != 0 && age < refresh && !self.dirty() {
            return true;
        }
        if self.checking.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_err() {
            // Another request is reading the counter: trust what it confirmed a little longer.
            return confirmed != 0 && age.saturating_add(self.tick_ms) < refresh.saturating_mul(2) && !self.dirty();
        }
        let usable = match store.change_counter() {
            Ok(counter) => {
                self.confirm_at(started, counter);
                true
            }
            Err(err) => {
                if self.confirmed_ms.load(Ordering::Acquire) >= started {
                    // The listening connection confirmed the caches while this read failed.
                    !self.dirty()
                } else {
                    // Once per outage, not once per request while it lasts.
                    if confirmed != 0 {
                        tracing::error!("the store's change counter cannot be read; reading through: {err}");
                    }
                    self.clear();
                    self.confirmed_ms.store(0, Ordering::Release);
                    false
                }
            }
        };
        self.checking.store(false, Ordering::Release);
        usable
    }

    /// Takes in the change counter as read by something other than a request
    /// (a fleet host's listening connection probes it), by a read that began
    /// at `began`: a moved counter empties the caches, and either way they are
    /// confirmed; notifications that arrived after `began` keep them dirty.
    pub fn confirm(&self, counter: u64, began: Moment) {
        let began_ms = began.ms().saturating_sub(self.started.ms());
        self.confirm_at(began_ms.saturating_add(1), counter);
    }

    /// `counter` was read by a read that began at `began_ms`.
    fn confirm_at(&self, began_ms: u64, counter: u64) {
        let before = self.counter.swap(counter, Ordering::AcqRel);
        if before != counter || self.confirmed_ms.load(Ordering::Acquire) == 0 {
            self.clear();
        }
        // Confirmed as of when the read began: what it saw is that old.
        self.clean_ms.fetch_max(began_ms, Ordering::AcqRel);
        self.confirmed_ms.fetch_max(began_ms, Ordering::AcqRel);
    }

    /// Call when the store may have been written by anyone: the caches answer
    /// again once a counter read that began after this was taken in. `lag_ms`
    /// is how long the news took to arrive, when known.
    pub fn mark_dirty(&self, lag_ms: Option<u64>) {
        self.dirty_ms.fetch_max(self.elapsed_ms(), Ordering::AcqRel);
        self.deaf.store(false, Ordering::Release);
        if let Some(lag) = lag_ms {
            self.lag_ms.store(lag, Ordering::Relaxed);
        }
    }

    /// Call when the store's notifications stopped: until the next
    /// `mark_dirty`, every request reads the store.
    pub fn mark_deaf(&self) {
        self.deaf.store(true, Ordering::Release);
    }

    /// Whether notifications are arriving (or were never lost).
    pub fn listening(&self) -> bool {
        !self.deaf.load(Ordering::Acquire)
    }

    /// How late the last change notification arrived, if one said when it was sent.
    pub fn notification_lag_ms(&self) -> Option<u64> {
        Some(self.lag_ms.load(Ordering::Relaxed)).filter(|lag| *lag != u64::MAX)
    }

    /// Bumped by every invalidation: what a read under another generation saw
    /// may predate a write.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A ticket for a fill about to read the store.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.generation.load(Ordering::Acquire))
    }

    /// The token or unknown mark cached for `hash`.
    pub fn token(&self, hash: &SecretHash) -> Option<Found> {
        let tokens = crate::locks::read(&self.tokens, "verify caches");
        if let Some(token) = tokens.by_hash.get(hash) {
            return Some(Found::Token(Arc::clone(token)));
        }
        tokens.unknown.contains(hash).then_some(Found::Unknown)
    }

    /// Keeps what the store said of `hash`, unless something was invalidated
    /// since `ticket` was taken.
    pub fn keep_token(&self, ticket: Ticket, hash: SecretHash, found: &Found) {
        let mut tokens = crate::locks::write(&self.tokens, "verify caches");
        if self.generation.load(Ordering::Acquire) != ticket.0 {
            return;
        }
        match found {
            Found::Token(token) => {
                if tokens.by_hash.len() >= self.config.tokens {
                    tokens.by_hash.clear();
                    tokens.hash_of.clear();
                }
                if let Some(old) = tokens.hash_of.insert(token.id, hash) {
                    tokens.by_hash.remove(&old);
                }
                tokens.by_hash.insert(hash, Arc::clone(token));
            }
            Found::Unknown => {
                if tokens.unknown.len() >= self.config.unknown {
                    tokens.unknown.clear();
                }
                tokens.unknown.insert(hash);
            }
        }
    }

    /// The rights cached for `owner`.
    pub fn owner(&self, owner: PrincipalId) -> Option<KeyedRights> {
        crate::locks::read(&self.owners, "verify caches").get(&owner).cloned()
    }

    /// Keeps `owner`'s rights, unless something was invalidated since `ticket`.
    pub fn keep_owner(&self, ticket: Ticket, owner: PrincipalId, rights: &KeyedRights) {
        let mut owners = crate::locks::write(&self.owners, "verify caches");
        if self.generation.load(Ordering::Acquire) != ticket.0 {
            return;
        }
        if owners.len() >= self.config.owners {
            owners.clear();
        }
        owners.insert(owner, KeyedRights::clone(rights));
    }

    /// Call after a token was stored, edited, reissued, revoked or deleted:
    /// forgets it, and `new_hash` (a new or reissued secret) as unknown.
    pub fn token_changed(&self, id: TokenId, new_hash: Option<&SecretHash>) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        let mut tokens = crate::locks::write(&self.tokens, "verify caches");
        if let Some(hash) = tokens.hash_of.remove(&id) {
            tokens.by_hash.remove(&hash);
        }
        if let Some(hash) = new_hash {
            tokens.unknown.remove(hash);
        }
    }

    /// Call after a principal's bindings changed, or it was removed (with its tokens).
    pub fn owner_changed(&self, owner: PrincipalId) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        crate::locks::write(&self.owners, "verify caches").remove(&owner);
        let mut tokens = crate::locks::write(&self.tokens, "verify caches");
        let Tokens { by_hash, hash_of, .. } = &mut *tokens;
        by_hash.retain(|_, token| token.owner != owner);
        hash_of.retain(|_, hash| by_hash.contains_key(hash));
    }

    /// Empties every cache.
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        *crate::locks::write(&self.tokens, "verify caches") = Tokens::default();
        crate::locks::write(&self.owners, "verify caches").clear();
    }

    /// How many tokens, unknown secrets and owners are held now.
    pub fn sizes(&self) -> (usize, usize, usize) {
        let tokens = crate::locks::read(&self.tokens, "verify caches");
        let owners = crate::locks::read(&self.owners, "verify caches").len();
        (tokens.by_hash.len(), tokens.unknown.len(), owners)
    }

    /// The longest another process's write can go unseen: `cache.refresh` twice.
    pub fn staleness_bound(&self) -> Duration {
        self.config.refresh.saturating_mul(2)
    }
}
