//! The audit trail's untrusted inputs: a filter's query string (the API's and
//! the activity page's) is a query or a short refusal, never a panic, and an
//! accepted one keeps its bounds; and rows of any text, chained as a store
//! would chain them, either verify (then each is an event in canonical form at
//! its own place) or name an event of the chain.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenscope::audit::{AuditEvent, AuditFilter, AuditRow, GENESIS, MAX_LIMIT, Walk, link};
use tokenscope::time::UnixTime;

fuzz_target!(|data: &[u8]| {
    let (query, rows) = match data.iter().position(|b| *b == 0) {
        Some(cut) => data.split_at(cut),
        None => (data, &[][..]),
    };
    if let Ok(query) = std::str::from_utf8(query) {
        match AuditFilter::from_query(query).and_then(|filter| filter.query()) {
            Ok(q) => {
                assert!((1..=MAX_LIMIT).contains(&q.limit));
                for text in [&q.actor, &q.target, &q.action].into_iter().flatten() {
                    assert!(!text.chars().any(char::is_control) && text.chars().count() <= 256);
                }
            }
            Err(why) => assert!(why.len() < 200, "a refusal is short: {why}"),
        }
    }
    let Ok(text) = std::str::from_utf8(rows.get(1..).unwrap_or_default()) else { return };
    let mut prev = GENESIS;
    let mut chain = Vec::new();
    for (i, body) in text.split('\n').enumerate() {
        let seq = i as u64 + 1;
        let event: Option<AuditEvent> = serde_json::from_str(body).ok();
        let hash = link(&prev, body);
        chain.push(AuditRow {
            seq,
            at: event.as_ref().map_or(UnixTime::from_secs(0), |e| e.at),
            actor: event.as_ref().map(|e| e.actor.label()).unwrap_or_default(),
            actor_name: event.as_ref().and_then(|e| e.actor.principal_name().map(str::to_owned)),
            action: event.as_ref().map(|e| e.action.clone()).unwrap_or_default(),
            target: event.as_ref().map(|e| e.target.clone()).unwrap_or_default(),
            owner: event.as_ref().and_then(|e| e.owner),
            body: body.to_owned(),
            prev,
            hash,
        });
        prev = hash;
    }
    let mut walk = Walk::new(None, None);
    let stepped = chain.iter().try_for_each(|row| walk.step(row));
    let head = chain.last().map_or((0, GENESIS), |r| (r.seq, r.hash));
    if stepped.is_ok() && walk.finish(head).is_ok() {
        for row in &chain {
            assert!(row.record().is_ok_and(|record| record.seq == row.seq), "a verified row is an event at its place");
        }
    }
});
