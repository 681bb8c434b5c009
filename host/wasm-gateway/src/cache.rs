//! The introspection answers a gateway keeps while its proxy reuses the
//! instance: positive and negative entries with TTLs, dropped by the change
//! feed. An entry is used only while the feed has been read within
//! `max_staleness`, so a revocation takes effect within that bound even with a
//! long TTL; the first request of an instance caches nothing (a proxy that makes
//! an instance per request then costs one introspection and no feed read).
//! Times are the monotonic clock in milliseconds, passed in.

use std::collections::HashMap;
use std::sync::Arc;

use crate::introspection_format::{FeedPage, TokenData};
use crate::settings::CacheSettings;

/// What the cache knows of a hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// A fresh answer: the token, or none stored.
    Hit(Option<Arc<TokenData>>),
    /// Nothing usable: introspect.
    Miss,
}

#[derive(Debug)]
struct Entry {
    answer: Option<Arc<TokenData>>,
    stored_at: u64,
    ttl: u64,
}

/// The answers and the feed's position.
#[derive(Debug)]
pub struct Cache {
    settings: CacheSettings,
    entries: HashMap<[u8; 32], Entry>,
    requests: u64,
    cursor: Option<u64>,
    rights_epoch: Option<String>,
    /// When the last read that reached the feed's end started.
    feed_ok_at: Option<u64>,
    feed_tried_at: Option<u64>,
}

impl Cache {
    /// An empty cache with these bounds.
    pub fn new(settings: CacheSettings) -> Cache {
        Cache {
            settings,
            entries: HashMap::new(),
            requests: 0,
            cursor: None,
            rights_epoch: None,
            feed_ok_at: None,
            feed_tried_at: None,
        }
    }

    /// Counts a request; true when the instance was reused (this is not its first).
    pub fn begin_request(&mut self) -> bool {
        self.requests = self.requests.saturating_add(1);
        self.requests > 1
    }

    /// The cursor to read the feed from (none: ask for the newest, to start).
    pub fn cursor(&self) -> Option<u64> {
        self.cursor
    }

    /// Whether the feed should be read now.
    pub fn feed_due(&self, now: u64) -> bool {
        self.feed_tried_at.is_none_or(|at| now.saturating_sub(at) >= self.settings.feed_interval_ms)
    }

    /// Notes a failed read of the feed at `now`: cached answers age out by `max_staleness`.
    pub fn feed_failed(&mut self, now: u64) {
        self.feed_tried_at = Some(now);
    }

    /// Applies one page of the feed read from `started` on: drops the named
    /// tokens and every answer of the named principals (all of them on a reset
    /// or when the server's role definitions changed). The feed counts as read
    /// when the page is its last.
    pub fn apply_feed(&mut self, started: u64, page: &FeedPage) {
        self.feed_tried_at = Some(started);
        let roles_changed = self.rights_epoch.as_ref().is_some_and(|epoch| *epoch != page.rights_epoch);
        self.rights_epoch = Some(page.rights_epoch.clone());
        if page.reset || roles_changed || self.cursor.is_none() {
            self.entries.clear();
        } else {
            for hex in &page.tokens {
                if let Some(hash) = tokenscope_request::SecretHash::from_hex(hex) {
                    self.entries.remove(&hash.0);
                }
            }
            if !page.principals.is_empty() {
                self.entries.retain(|_, entry| {
                    entry.answer.as_ref().is_none_or(|token| !page.principals.iter().any(|p| *p == token.owner))
                });
            }
        }
        self.cursor = Some(page.cursor);
        if !page.more {
            self.feed_ok_at = Some(started);
        }
    }

    /// Whether answers may be used and stored at `now`: the feed was read to its
    /// end within `max_staleness`.
    pub fn live(&self, now: u64) -> bool {
        self.feed_ok_at.is_some_and(|at| now.saturating_sub(at) <= self.settings.max_staleness_ms)
    }

    /// The answer for `hash` at `now`, if one is fresh and the feed is live.
    pub fn lookup(&self, hash: &[u8; 32], now: u64) -> Lookup {
        if !self.live(now) {
            return Lookup::Miss;
        }
        match self.entries.get(hash) {
            Some(entry) if now.saturating_sub(entry.stored_at) < entry.ttl => Lookup::Hit(entry.answer.clone()),
            _ => Lookup::Miss,
        }
    }

    /// Keeps an answer introspected from `fetched` on, for at most `max_age_ms`
    /// (the server's) and the configured TTL. Only while the feed is live, and
    /// only an answer fetched after the feed's last read started, so no change
    /// between the two can be missed.
    pub fn store(&mut self, hash: [u8; 32], answer: Option<Arc<TokenData>>, fetched: u64, max_age_ms: u64) {
        let Some(feed_at) = self.feed_ok_at else { return };
        if fetched < feed_at || !self.live(fetched) {
            return;
        }
        let cap = if answer.is_some() { self.settings.ttl_ms } else { self.settings.negative_ttl_ms };
        let ttl = cap.min(max_age_ms);
        if ttl == 0 || self.settings.max_entries == 0 {
            return;
        }
        if self.entries.len() >= self.settings.max_entries && !self.entries.contains_key(&hash) {
            let oldest = self.entries.iter().min_by_key(|(_, e)| e.stored_at).map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(hash, Entry { answer, stored_at: fetched, ttl });
    }

    /// How many answers are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no answer is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::introspection_format::WireGrants;

    fn token(owner: &str) -> Arc<TokenData> {
        Arc::new(TokenData {
            id: 1,
            name: "t".into(),
            owner: owner.into(),
            grants: WireGrants::Scopes(vec!["artifact:download".into()]),
            owner_rights: vec![],
            expires_at: None,
            revoked: false,
        })
    }

    fn page(cursor: u64, tokens: &[[u8; 32]], principals: &[&str]) -> FeedPage {
        FeedPage {
            cursor,
            tokens: tokens.iter().map(|h| tokenscope_request::SecretHash(*h).to_hex()).collect(),
            principals: principals.iter().map(|p| (*p).to_owned()).collect(),
            more: false,
            reset: false,
            rights_epoch: "roles-1".into(),
        }
    }

    fn live_cache() -> Cache {
        let mut cache = Cache::new(CacheSettings::default());
        cache.apply_feed(0, &page(10, &[], &[]));
        cache
    }

    #[test]
    fn nothing_is_kept_before_the_feed_is_read() {
        let mut cache = Cache::new(CacheSettings::default());
        cache.store([1; 32], Some(token("a")), 0, 60_000);
        assert_eq!(cache.lookup(&[1; 32], 1), Lookup::Miss);
        assert!(cache.is_empty());
    }

    #[test]
    fn answers_live_for_the_smaller_ttl_and_only_while_the_feed_is_read() {
        let mut cache = live_cache();
        cache.store([1; 32], Some(token("a")), 100, 30_000);
        cache.store([2; 32], None, 100, 60_000);
        assert_eq!(cache.lookup(&[1; 32], 200), Lookup::Hit(Some(token("a"))));
        assert_eq!(cache.lookup(&[2; 32], 200), Lookup::Hit(None));
        // Negative answers keep 5 s at most.
        assert_eq!(cache.lookup(&[2; 32], 5_100), Lookup::Miss);
        // The feed was last read at 0: past max_staleness nothing is used.
        assert_eq!(cache.lookup(&[1; 32], 5_001), Lookup::Miss);
        cache.apply_feed(5_000, &page(11, &[], &[]));
        assert_eq!(cache.lookup(&[1; 32], 6_000), Lookup::Hit(Some(token("a"))));
        assert_eq!(cache.lookup(&[1; 32], 30_100), Lookup::Miss, "the server's max-age bounds it");
    }

    #[test]
    fn the_feed_drops_named_tokens_and_principals_and_everything_on_reset() {
        let mut cache = live_cache();
        cache.store([1; 32], Some(token("alice")), 10, 60_000);
        cache.store([2; 32], Some(token("bob")), 10, 60_000);
        cache.store([3; 32], Some(token("carol")), 10, 60_000);
        cache.apply_feed(20, &page(12, &[[1; 32]], &["bob"]));
        assert_eq!(cache.lookup(&[1; 32], 30), Lookup::Miss);
        assert_eq!(cache.lookup(&[2; 32], 30), Lookup::Miss);
        assert_eq!(cache.lookup(&[3; 32], 30), Lookup::Hit(Some(token("carol"))));
        cache.apply_feed(40, &FeedPage { cursor: 13, reset: true, ..FeedPage::default() });
        assert!(cache.is_empty());
    }

    #[test]
    fn changed_role_definitions_drop_every_answer() {
        let mut cache = live_cache();
        cache.store([1; 32], Some(token("alice")), 10, 60_000);
        cache.apply_feed(20, &page(11, &[], &[]));
        assert_eq!(cache.lookup(&[1; 32], 30), Lookup::Hit(Some(token("alice"))));
        cache.apply_feed(40, &FeedPage { rights_epoch: "roles-2".into(), ..page(12, &[], &[]) });
        assert!(cache.is_empty());
    }

    #[test]
    fn an_answer_fetched_before_the_last_feed_read_is_not_kept() {
        let mut cache = live_cache();
        cache.apply_feed(500, &page(11, &[], &[]));
        cache.store([1; 32], Some(token("a")), 400, 60_000);
        assert!(cache.is_empty());
    }

    #[test]
    fn a_partial_page_does_not_make_the_feed_live() {
        let mut cache = Cache::new(CacheSettings::default());
        cache.apply_feed(0, &FeedPage { cursor: 5, more: true, ..FeedPage::default() });
        assert!(!cache.live(1));
    }

    #[test]
    fn the_oldest_answer_goes_when_full() {
        let mut cache = Cache::new(CacheSettings { max_entries: 2, ..CacheSettings::default() });
        cache.apply_feed(0, &page(1, &[], &[]));
        cache.store([1; 32], None, 1, 60_000);
        cache.store([2; 32], None, 2, 60_000);
        cache.store([3; 32], None, 3, 60_000);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.lookup(&[1; 32], 4), Lookup::Miss);
    }

    #[test]
    fn the_first_request_of_an_instance_is_not_reused() {
        let mut cache = Cache::new(CacheSettings::default());
        assert!(!cache.begin_request());
        assert!(cache.begin_request());
    }
}
