//! What the wasm gateway reads from the server (introspection answers, change
//! feed pages, `Cache-Control`) and keeps: parsing never panics, and under any
//! sequence of feed reads, stores and lookups a cached answer is used only while
//! the feed is live, and never after the feed named its token or owner or reset,
//! until it is stored again.
#![no_main]

use std::collections::HashSet;
use std::sync::Arc;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tokenscope_request::SecretHash;
use tokenscope_wasm_gateway::{
    Cache, CacheSettings, FeedPage, Introspection, Lookup, TokenData, WireGrants, max_age_ms,
};

#[derive(Arbitrary, Debug)]
enum Op {
    Feed { after: u16, tokens: Vec<u8>, owners: Vec<u8>, more: bool, reset: bool, epoch: bool },
    Failed { after: u16 },
    Store { after: u16, key: u8, owner: Option<u8>, max_age: u16 },
    Lookup { after: u16, key: u8 },
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    answer: &'a [u8],
    cache_control: &'a str,
    ops: Vec<Op>,
}

fn hash(key: u8) -> [u8; 32] {
    [key; 32]
}

fn owner(n: u8) -> String {
    format!("p{}", n % 8)
}

fuzz_target!(|input: Input<'_>| {
    let _ = serde_json::from_slice::<Introspection>(input.answer);
    let _ = serde_json::from_slice::<FeedPage>(input.answer);
    let _ = max_age_ms(input.cache_control);

    let settings = CacheSettings { max_entries: 16, ..CacheSettings::default() };
    let mut cache = Cache::new(settings);
    let (mut now, mut cursor) = (0u64, 0u64);
    // Keys whose answer was dropped since it was last stored, and each key's owner.
    let mut dropped: HashSet<u8> = HashSet::new();
    let mut owners: Vec<Option<String>> = vec![None; 256];
    let mut feed_ok_at: Option<u64> = None;
    let mut last_epoch: Option<String> = None;
    for op in input.ops {
        match op {
            Op::Feed { after, tokens, owners: named, more, reset, epoch } => {
                now += u64::from(after);
                cursor += 1;
                let page = FeedPage {
                    cursor,
                    tokens: tokens.iter().map(|k| SecretHash(hash(*k)).to_hex()).collect(),
                    principals: named.iter().map(|n| owner(*n)).collect(),
                    more,
                    reset,
                    rights_epoch: if epoch { "b".into() } else { "a".into() },
                };
                let first = cache.cursor().is_none();
                let roles_changed = last_epoch.as_ref().is_some_and(|e| *e != page.rights_epoch);
                last_epoch = Some(page.rights_epoch.clone());
                cache.apply_feed(now, &page);
                for key in 0..=255u8 {
                    let named_owner = owners[usize::from(key)].as_ref().is_some_and(|o| page.principals.contains(o));
                    if reset || first || roles_changed || tokens.contains(&key) || named_owner {
                        dropped.insert(key);
                    }
                }
                if !more {
                    feed_ok_at = Some(now);
                }
            }
            Op::Failed { after } => {
                now += u64::from(after);
                cache.feed_failed(now);
            }
            Op::Store { after, key, owner: who, max_age } => {
                now += u64::from(after);
                let answer = who.map(|n| {
                    Arc::new(TokenData {
                        id: 1,
                        name: "t".into(),
                        owner: owner(n),
                        grants: WireGrants::Scopes(vec![]),
                        owner_rights: vec![],
                        expires_at: None,
                        revoked: false,
                    })
                });
                cache.store(hash(key), answer, now, u64::from(max_age));
                // Stored (a zero max-age keeps whatever was there).
                if max_age > 0 && cache.lookup(&hash(key), now) != Lookup::Miss {
                    dropped.remove(&key);
                    owners[usize::from(key)] = who.map(owner);
                }
            }
            Op::Lookup { after, key } => {
                now += u64::from(after);
                if let Lookup::Hit(_) = cache.lookup(&hash(key), now) {
                    let live = feed_ok_at.is_some_and(|at| now - at <= settings.max_staleness_ms);
                    assert!(live, "a hit while the feed is stale");
                    assert!(!dropped.contains(&key), "a hit for an answer the feed dropped");
                }
            }
        }
    }
});
