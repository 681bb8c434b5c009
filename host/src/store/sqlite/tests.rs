//! The SQLite store against a real file: tokens by hash across a reopen, the
//! change feed, lookups while another process holds the write lock, file modes,
//! reissue, revoke, usage and delete, bindings and expiry warnings.

use rusqlite::Connection;

use super::SqliteStore;
use crate::secret::Secret;
use crate::secret::SecretHash;
use crate::store::Store;
use crate::store::StoreError;
use crate::store::StoredGrants;
use crate::store::types::{Binding, Edited, Guarded, NewToken, PrincipalId, TokenEdit, UsageDelta};
use crate::time::UnixTime;

fn at(seconds: u64) -> UnixTime {
    UnixTime::from_secs(seconds)
}

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    (dir, store)
}

#[test]
fn the_change_feed_names_old_hashes_and_principals_and_starts_over_when_it_lost_changes() {
    let (dir, store) = store();
    let alice = store.add_principal("alice", at(1), &[], &audit()).unwrap();
    let first = Secret::generate().unwrap();
    let id = store.insert_token(&new_token(alice.id, &first), &audit()).unwrap();
    let start = store.changes_since(0, 100).unwrap();
    assert_eq!(
        (start.tokens.len(), start.principals.len(), start.reset),
        (0, 0, false),
        "a new token changes nothing cached"
    );
    store.revoke_token(id, at(20), &audit()).unwrap();
    store.bind(alice.id, std::slice::from_ref(&Binding::Grant("channel/main=read".into())), &audit()).unwrap();
    let later = Secret::generate().unwrap();
    let other = store.insert_token(&new_token(alice.id, &later), &audit()).unwrap();
    store.delete_token(other, &audit()).unwrap();
    let changes = store.changes_since(start.cursor, 100).unwrap();
    assert_eq!(changes.tokens, vec![first.hash(), later.hash()]);
    assert_eq!(changes.principals, vec!["alice".to_owned()]);
    assert!(!changes.more && !changes.reset);
    assert_eq!(store.changes_since(changes.cursor, 100).unwrap().tokens, Vec::<SecretHash>::new());
    // Two at a time: the first page says more follow, the second ends.
    let page = store.changes_since(start.cursor, 2).unwrap();
    assert_eq!((page.tokens.len() + page.principals.len(), page.more), (2, true));
    let rest = store.changes_since(page.cursor, 2).unwrap();
    assert_eq!((rest.tokens.len() + rest.principals.len(), rest.more), (1, false));
    // Past 65,536 changes the oldest are dropped, and a reader that missed them starts over.
    let conn = Connection::open(dir.path().join("t.db")).unwrap();
    conn.execute_batch(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 65540) \
         INSERT INTO change_log (principal) SELECT 'bulk' FROM n;",
    )
    .unwrap();
    assert!(store.changes_since(changes.cursor, 10).unwrap().reset);
    let now = store.changes_since(changes.cursor + 65_540, 10).unwrap();
    assert!(!now.reset && now.tokens.is_empty());
    let last = store.changes_since(i64::MAX as u64, 10).unwrap();
    assert!(!last.reset && last.tokens.is_empty() && last.cursor == i64::MAX as u64);
}

fn new_token(owner: PrincipalId, secret: &Secret) -> NewToken {
    NewToken {
        owner,
        name: "ci".into(),
        description: String::new(),
        hash: secret.hash(),
        hint: secret.hint(),
        grants: StoredGrants::Scopes(vec!["artifact".into()]),
        created_at: at(10),
        expires_at: Some(at(100)),
        origin: None,
    }
}

#[test]
fn tokens_are_found_by_hash_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let secret = Secret::generate().unwrap();
    let id = {
        let store = SqliteStore::open(&path).unwrap();
        let alice = store.add_principal("alice", at(1), &[], &audit()).unwrap();
        store.insert_token(&new_token(alice.id, &secret), &audit()).unwrap()
    };
    let store = SqliteStore::open_existing(&path).unwrap();
    let found = store.token_by_hash(&secret.hash()).unwrap().unwrap();
    assert_eq!((found.id, found.owner_name.as_str(), found.expires_at), (id, "alice", Some(at(100))));
    assert!(store.token_by_hash(&Secret::generate().unwrap().hash()).unwrap().is_none());
}

#[test]
fn lookups_do_not_wait_for_a_writer_stuck_behind_another_process() {
    let (dir, store) = store();
    let store = std::sync::Arc::new(store);
    let alice = store.add_principal("alice", at(1), &[], &audit()).unwrap();
    let secret = Secret::generate().unwrap();
    let id = store.insert_token(&new_token(alice.id, &secret), &audit()).unwrap();
    // Another process (connection) takes the write lock and keeps it.
    let outside = Connection::open(dir.path().join("t.db")).unwrap();
    outside.execute_batch("BEGIN IMMEDIATE; UPDATE tokens SET name = 'locked';").unwrap();
    // A usage flush now waits for that lock (busy timeout) holding our writer.
    let flusher = std::sync::Arc::clone(&store);
    let flush =
        std::thread::spawn(move || flusher.add_usage(&[UsageDelta { token: id, uses: 1, last_used_at: at(2) }]));
    std::thread::sleep(std::time::Duration::from_millis(200));
    // Checks still read: the lookup answers while the flush is still blocked.
    assert_eq!(store.token_by_hash(&secret.hash()).unwrap().map(|t| t.id), Some(id));
    assert!(store.principal_by_id(alice.id).unwrap().is_some());
    assert!(!flush.is_finished(), "the flush was expected to wait for the outside writer");
    outside.execute_batch("ROLLBACK;").unwrap();
    flush.join().unwrap().unwrap();
    assert_eq!(store.token(id).unwrap().unwrap().use_count, 1);
}

#[test]
fn the_store_and_its_wal_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, store) = store();
    store.add_principal("alice", at(1), &[], &audit()).unwrap();
    for name in ["t.db", "t.db-wal", "t.db-shm"] {
        let mode = std::fs::metadata(dir.path().join(name)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{name}: {mode:o}");
    }
}

#[test]
fn reissue_revoke_usage_and_delete() {
    let (_dir, store) = store();
    let alice = store.add_principal("alice", at(1), &[], &audit()).unwrap();
    let old = Secret::generate().unwrap();
    let id = store.insert_token(&new_token(alice.id, &old), &audit()).unwrap();
    let new = Secret::generate().unwrap();
    let reissue = TokenEdit { secret: Some((new.hash(), new.hint())), revision: Some(0), ..TokenEdit::default() };
    assert_eq!(store.edit_token(id, &reissue, &audit()).unwrap(), Edited::Done);
    assert_eq!(store.edit_token(id, &reissue, &audit()).unwrap(), Edited::Conflict, "revision 0 is gone");
    assert!(store.token_by_hash(&old.hash()).unwrap().is_none());
    assert_eq!(store.token_by_hash(&new.hash()).unwrap().map(|t| t.id), Some(id));
    store.add_usage(&[UsageDelta { token: id, uses: 3, last_used_at: at(50) }]).unwrap();
    store.add_usage(&[UsageDelta { token: id, uses: 2, last_used_at: at(40) }]).unwrap();
    let t = store.token(id).unwrap().unwrap();
    assert_eq!((t.use_count, t.last_used_at), (5, Some(at(50))));
    assert!(store.revoke_token(id, at(60), &audit()).unwrap());
    assert_eq!(store.token(id).unwrap().unwrap().revoked_at, Some(at(60)));
    assert!(store.delete_token(id, &audit()).unwrap());
    assert!(store.token(id).unwrap().is_none());
    assert!(!store.delete_token(id, &audit()).unwrap());
}

#[test]
fn bindings_and_expiring() {
    let (_dir, store) = store();
    let bob = store.add_principal("bob", at(1), &[], &audit()).unwrap();
    let ci = Binding::Role { role: "continuous-integration".into(), at: "channel/ci".into() };
    store.bind(bob.id, std::slice::from_ref(&ci), &audit()).unwrap();
    store.bind(bob.id, std::slice::from_ref(&Binding::Grant("channel/main=read".into())), &audit()).unwrap();
    assert_eq!(store.principal("bob").unwrap().unwrap().bindings.len(), 2);
    assert_eq!(
        store.unbind(bob.id, std::slice::from_ref(&ci), &crate::store::unguarded(), &audit()).unwrap(),
        Guarded::Done
    );
    assert_eq!(store.principal("bob").unwrap().unwrap().bindings, [Binding::Grant("channel/main=read".into())]);
    let id = store.insert_token(&new_token(bob.id, &Secret::generate().unwrap()), &audit()).unwrap();
    assert_eq!(store.expiring(at(0), at(100)).unwrap().len(), 1);
    assert_eq!(store.expiring(at(0), at(99)).unwrap().len(), 0);
    store.revoke_token(id, at(5), &audit()).unwrap();
    assert_eq!(store.expiring(at(0), at(100)).unwrap().len(), 0);
    assert!(matches!(store.add_principal("bob", at(2), &[], &audit()), Err(StoreError::PrincipalExists(_))));
    assert_eq!(store.remove_principal("bob", &crate::store::unguarded(), &audit()).unwrap(), Guarded::Done);
    assert!(store.token(id).unwrap().is_none(), "tokens go with their owner");
}

#[test]
fn a_leak_report_is_taken_once_within_its_window() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    let digest = [7u8; 32];
    assert!(store.claim_leak_report(&digest, at(100), at(160)).unwrap());
    assert!(!store.claim_leak_report(&digest, at(159), at(219)).unwrap(), "a replay within the window");
    assert!(store.claim_leak_report(&[8u8; 32], at(159), at(219)).unwrap(), "another body");
    assert!(store.claim_leak_report(&digest, at(160), at(220)).unwrap(), "the window ended");
}

/// The event these tests' writes record.
fn audit() -> crate::audit::AuditEvent {
    crate::audit::AuditEvent::by_operator("test", "")
}

/// The seqs of owner `owner`'s events, as the owner's query reads them.
fn owners_seqs(store: &SqliteStore, owner: PrincipalId) -> Vec<u64> {
    let query = crate::audit::AuditQuery { owner: Some(owner), limit: 10_000, ..Default::default() };
    store.audit_events(&query).unwrap().iter().map(|row| row.seq).collect()
}

#[test]
fn an_owners_events_are_found_indexed_or_not_after_a_prune_and_in_a_copy() {
    let (dir, store) = store();
    let (a, b) = (PrincipalId::new(1), PrincipalId::new(2));
    // 150 events: two index batches and a tail of 22 not indexed yet; every third is b's.
    let mut expected = (Vec::new(), Vec::new());
    for i in 1..=150u64 {
        let mut event = audit().with_target(format!("token:{i}"));
        event.owner = Some(if i % 3 == 0 { b } else { a });
        event.at = at(i);
        let seq = store.append_audit(&event).unwrap();
        if i % 3 == 0 { &mut expected.1 } else { &mut expected.0 }.push(seq);
    }
    assert_eq!((owners_seqs(&store, a), owners_seqs(&store, b)), expected.clone());
    let indexed: i64 = store.conn().unwrap().query_row("SELECT count(*) FROM audit_owners", [], |r| r.get(0)).unwrap();
    assert_eq!(indexed, 128, "two batches indexed, the tail not");
    // Newest first with a limit, and the other filters beside the owner's.
    let query = crate::audit::AuditQuery { owner: Some(b), limit: 3, ..Default::default() };
    let newest: Vec<u64> = store.audit_events(&query).unwrap().iter().map(|row| row.seq).collect();
    assert_eq!(newest, expected.1[expected.1.len() - 3..]);
    let query =
        crate::audit::AuditQuery { owner: Some(a), target: Some("token:4".into()), limit: 9, ..Default::default() };
    assert_eq!(store.audit_events(&query).unwrap().len(), 1);

    // A prune drops what it removed from the index too (the prune event has no owner).
    store.prune_audit(at(100), &crate::audit::AuditEvent::by_operator(crate::audit::PRUNE_ACTION, "audit")).unwrap();
    let kept = |seqs: &Vec<u64>| seqs.iter().copied().filter(|seq| *seq >= 100).collect::<Vec<_>>();
    assert_eq!((owners_seqs(&store, a), owners_seqs(&store, b)), (kept(&expected.0), kept(&expected.1)));

    // A copy into a new store indexes what it brought.
    let copy = SqliteStore::open(&dir.path().join("copy.db")).unwrap();
    copy.import(&store.export().unwrap(), false, &audit()).unwrap();
    assert_eq!((owners_seqs(&copy, a), owners_seqs(&copy, b)), (kept(&expected.0), kept(&expected.1)));
}

#[test]
fn token_ids_are_never_handed_out_again() {
    let (_dir, store) = store();
    let owner = store.add_principal("ci", at(1), &[], &audit()).unwrap();
    let new = || new_token(owner.id, &Secret::generate().unwrap());
    let first = store.insert_token(&new(), &audit()).unwrap();
    let second = store.insert_token(&new(), &audit()).unwrap();
    assert!(store.delete_token(second, &audit()).unwrap());
    let third = store.insert_token(&new(), &audit()).unwrap();
    assert!(first < second && second < third, "{first} {second} {third}");
}

#[test]
fn a_store_from_before_the_token_counter_keeps_its_tokens_and_never_reuses_an_id() {
    // A store as schema 11 left it: token 3 was the newest and was deleted.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = Connection::open(&path).unwrap();
        for sql in &crate::store::migrations::MIGRATIONS[..11] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 11).unwrap();
        conn.execute("INSERT INTO principals (id, name, created_at) VALUES (1, 'ci', 0)", []).unwrap();
        for id in 1..=3u8 {
            conn.execute(
                "INSERT INTO tokens (owner_id, name, secret_sha256, hint, grants, created_at) \
                 VALUES (1, 'ci', ?1, 'tks_...', '{\"kind\":\"scopes\",\"items\":[\"artifact\"]}', 0)",
                [vec![id; 32]],
            )
            .unwrap();
        }
        conn.execute("DELETE FROM tokens WHERE id = 3", []).unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let kept = store.token_by_hash(&SecretHash([2; 32])).unwrap().unwrap();
    assert_eq!(kept.id, crate::ids::TokenId::new(2));
    let next = store.insert_token(&new_token(PrincipalId::new(1), &Secret::generate().unwrap()), &audit()).unwrap();
    assert_eq!(next, crate::ids::TokenId::new(4), "id 3 is never handed out again");
    // The triggers came back with the table: a change moves the counter and the feed.
    let before = store.changes_since(0, 10).unwrap().cursor;
    assert!(store.delete_token(next, &audit()).unwrap());
    assert!(store.changes_since(0, 10).unwrap().cursor > before);
}
