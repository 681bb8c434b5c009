//! The store contract, run against both backends in every test run: the
//! embedded SQLite file and a database on a real PostgreSQL. The same steps,
//! the same assertions: lookups by hash, edits and their conflicts, cascades,
//! the change counter and feed, exact usage under concurrent writers (several
//! handles, as several hosts), one expiry-warning claim among many, one use of
//! a sign-in link, change notifications, and whole-store copies between the
//! two, by the library and by `tokenscope store copy`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use tokenscope::secret::Secret;
use tokenscope::store::{
    Binding, Edited, Guarded, NewToken, Principal, PrincipalId, PrincipalsGuard, Store, StoreError, StoreLocation,
    StoreSignal, StoredGrants, TokenEdit, UsageDelta, unguarded,
};
use tokenscope::time::UnixTime;
use tokenscope_tests::binary::tokenscope;
use tokenscope_tests::postgres::Postgres;
use tokenscope_tests::wait;

fn at(seconds: u64) -> UnixTime {
    UnixTime::from_secs(seconds)
}

/// Both backends, each a fresh store: (name, where, a temp dir holding the file).
fn backends() -> Vec<(&'static str, StoreLocation, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let file = StoreLocation::Sqlite(dir.path().join("t.db"));
    let url = StoreLocation::Postgres(Postgres::shared().unwrap().database().unwrap());
    vec![("sqlite", file, dir), ("postgres", url, tempfile::tempdir().unwrap())]
}

/// A guard that refuses every change.
fn refuse_all() -> PrincipalsGuard {
    Arc::new(|_: &[Principal], _: &[Principal]| false)
}

fn new_token(owner: PrincipalId, secret: &Secret, expires: u64) -> NewToken {
    NewToken {
        owner,
        name: "ci".into(),
        description: String::new(),
        hash: secret.hash(),
        hint: secret.hint(),
        grants: StoredGrants::Scopes(vec!["artifact".into()]),
        created_at: at(10),
        expires_at: Some(at(expires)),
        origin: None,
    }
}

#[test]
fn both_backends_keep_the_same_contract() {
    for (name, location, _dir) in backends() {
        let store = tokenscope::store::open(&location).unwrap();
        let alice = store.add_principal("alice", at(1), &[], &audit()).unwrap();
        assert!(
            matches!(store.add_principal("alice", at(2), &[], &audit()), Err(StoreError::PrincipalExists(_))),
            "{name}"
        );
        store.bind(alice.id, std::slice::from_ref(&Binding::Grant("channel/main=read".into())), &audit()).unwrap();
        store.bind(alice.id, std::slice::from_ref(&Binding::Grant("channel/main=read".into())), &audit()).unwrap();
        let role = Binding::Role { role: "continuous-integration".into(), at: "channel/ci".into() };
        store.bind(alice.id, std::slice::from_ref(&role), &audit()).unwrap();
        assert_eq!(store.principal("alice").unwrap().unwrap().bindings.len(), 2, "{name}");
        assert_eq!(store.principals().unwrap().len(), 1, "{name}");

        let counter = store.change_counter().unwrap();
        let head = store.change_head().unwrap();
        let old = Secret::generate().unwrap();
        let id = store.insert_token(&new_token(alice.id, &old, 100), &audit()).unwrap();
        assert!(store.change_counter().unwrap() > counter, "{name}: a new token bumps the counter");
        let found = store.token_by_hash(&old.hash()).unwrap().unwrap();
        assert_eq!((found.id, found.owner_name.as_str(), found.expires_at), (id, "alice", Some(at(100))), "{name}");
        assert!(store.token_by_hash(&Secret::generate().unwrap().hash()).unwrap().is_none(), "{name}");

        // Usage and warnings change nothing a verification reads.
        let counter = store.change_counter().unwrap();
        store.add_usage(&[UsageDelta { token: id, uses: 3, last_used_at: at(50) }]).unwrap();
        store.add_usage(&[UsageDelta { token: id, uses: 2, last_used_at: at(40) }]).unwrap();
        assert!(store.claim_warning(id, at(60), at(0), &audit()).unwrap(), "{name}");
        assert!(!store.claim_warning(id, at(61), at(0), &audit()).unwrap(), "{name}: warned since");
        assert_eq!(store.change_counter().unwrap(), counter, "{name}");
        let t = store.token(id).unwrap().unwrap();
        assert_eq!((t.use_count, t.last_used_at, t.last_warned_at), (5, Some(at(50)), Some(at(60))), "{name}");

        // A reissue kills the old secret; a stale revision conflicts.
        let new = Secret::generate().unwrap();
        let reissue = TokenEdit { secret: Some((new.hash(), new.hint())), revision: Some(0), ..TokenEdit::default() };
        assert_eq!(store.edit_token(id, &reissue, &audit()).unwrap(), Edited::Done, "{name}");
        assert_eq!(store.edit_token(id, &reissue, &audit()).unwrap(), Edited::Conflict, "{name}");
        assert!(store.token_by_hash(&old.hash()).unwrap().is_none(), "{name}");
        assert!(store.revoke_token(id, at(70), &audit()).unwrap(), "{name}");
        assert!(store.revoke_token(id, at(80), &audit()).unwrap(), "{name}");
        assert_eq!(store.token(id).unwrap().unwrap().revoked_at, Some(at(70)), "{name}: the first time stays");
        assert!(store.expiring(at(0), at(1000)).unwrap().is_empty(), "{name}: a revoked token is not expiring");

        // The feed names the old hash (reissue, revoke) and the principal.
        let changes = store.changes_since(head, 100).unwrap();
        assert!(changes.tokens.contains(&old.hash()) && changes.tokens.contains(&new.hash()), "{name}");
        assert!(!changes.more && !changes.reset, "{name}");
        let role = std::slice::from_ref(&role);
        assert_eq!(store.unbind(alice.id, role, &refuse_all(), &audit()).unwrap(), Guarded::Refused, "{name}");
        assert_eq!(
            store.principal("alice").unwrap().unwrap().bindings.len(),
            2,
            "{name}: a refused unbind changes nothing"
        );
        let missing = [role[0].clone(), Binding::Grant("channel/none=read".into())];
        assert_eq!(store.unbind(alice.id, &missing, &unguarded(), &audit()).unwrap(), Guarded::Missing, "{name}");
        assert_eq!(store.principal("alice").unwrap().unwrap().bindings.len(), 2, "{name}: all or nothing");
        assert_eq!(store.change_head().unwrap(), changes.cursor, "{name}: nothing reached the feed");
        assert_eq!(store.unbind(alice.id, role, &unguarded(), &audit()).unwrap(), Guarded::Done, "{name}");
        let later = store.changes_since(changes.cursor, 100).unwrap();
        assert_eq!(later.principals, ["alice"], "{name}");
        assert_eq!(store.change_head().unwrap(), later.cursor, "{name}");

        assert_eq!(store.remove_principal("alice", &refuse_all(), &audit()).unwrap(), Guarded::Refused, "{name}");
        assert!(store.token(id).unwrap().is_some(), "{name}: a refused removal changes nothing");
        assert_eq!(store.remove_principal("alice", &unguarded(), &audit()).unwrap(), Guarded::Done, "{name}");
        assert_eq!(store.remove_principal("alice", &unguarded(), &audit()).unwrap(), Guarded::Missing, "{name}");
        assert!(store.token(id).unwrap().is_none(), "{name}: tokens go with their owner");
        assert!(!store.delete_token(id, &audit()).unwrap(), "{name}");
    }
}

#[test]
fn two_removals_of_the_last_two_administrators_at_once_never_both_pass() {
    let root = Binding::Grant("/=manage".into());
    let administers =
        move |ps: &[Principal]| ps.iter().any(|p| p.bindings.contains(&Binding::Grant("/=manage".into())));
    let guard: PrincipalsGuard = Arc::new(move |before, after| !administers(before) || administers(after));
    for (name, location, _dir) in backends() {
        for round in 0..10 {
            let first = tokenscope::store::open(&location).unwrap();
            let (a, b) = (format!("a{round}"), format!("b{round}"));
            for admin in [&a, &b] {
                let p = first.add_principal(admin, at(1), &[], &audit()).unwrap();
                first.bind(p.id, std::slice::from_ref(&root), &audit()).unwrap();
            }
            // Two handles, as two hosts: each removes one administrator at the same moment.
            let handles: Vec<Arc<dyn Store>> = (0..2).map(|_| tokenscope::store::open(&location).unwrap()).collect();
            let barrier = Arc::new(Barrier::new(2));
            let outcomes: Vec<Guarded> = std::thread::scope(|scope| {
                let runs: Vec<_> = handles
                    .iter()
                    .zip([&a, &b])
                    .map(|(store, admin)| {
                        let (barrier, guard) = (Arc::clone(&barrier), Arc::clone(&guard));
                        scope.spawn(move || {
                            barrier.wait();
                            store.remove_principal(admin, &guard, &audit()).unwrap()
                        })
                    })
                    .collect();
                runs.into_iter().map(|r| r.join().unwrap()).collect()
            });
            let done = outcomes.iter().filter(|o| **o == Guarded::Done).count();
            assert_eq!(done, 1, "{name}, round {round}: {outcomes:?}");
            assert!(outcomes.contains(&Guarded::Refused), "{name}: {outcomes:?}");
            let left = first.principals().unwrap();
            assert!(left.iter().any(|p| p.bindings.contains(&root)), "{name}: an administrator is left");
            // Clear the round's survivor for the next round (nothing guards it now).
            for p in left {
                first.remove_principal(&p.name, &unguarded(), &audit()).unwrap();
            }
        }
    }
}

#[test]
fn concurrent_writers_add_usage_exactly_claim_one_warning_and_use_a_link_once() {
    for (name, location, _dir) in backends() {
        let first = tokenscope::store::open(&location).unwrap();
        let bob = first.add_principal("bob", at(1), &[], &audit()).unwrap();
        let id = first.insert_token(&new_token(bob.id, &Secret::generate().unwrap(), 500), &audit()).unwrap();
        let link = Secret::generate().unwrap();
        first.add_sign_in_link(&link.hash(), bob.id, at(10), at(1000), &audit()).unwrap();
        // Four handles: four processes' worth of connections.
        let handles: Vec<Arc<dyn Store>> = (0..4).map(|_| tokenscope::store::open(&location).unwrap()).collect();
        let barrier = Arc::new(Barrier::new(handles.len()));
        let (claims, uses) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        std::thread::scope(|scope| {
            for (i, store) in handles.iter().enumerate() {
                let (barrier, claims, uses, link) =
                    (Arc::clone(&barrier), Arc::clone(&claims), Arc::clone(&uses), &link);
                scope.spawn(move || {
                    barrier.wait();
                    for round in 0..50u64 {
                        let last = at(100 + round * 4 + i as u64);
                        store.add_usage(&[UsageDelta { token: id, uses: 7, last_used_at: last }]).unwrap();
                    }
                    if store.claim_warning(id, at(20), at(0), &audit()).unwrap() {
                        claims.fetch_add(1, Ordering::Relaxed);
                    }
                    if store.use_sign_in_link(&link.hash(), at(20), &audit()).unwrap().is_some() {
                        uses.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        let t = first.token(id).unwrap().unwrap();
        assert_eq!(t.use_count, 4 * 50 * 7, "{name}: no increment lost");
        assert_eq!(t.last_used_at, Some(at(100 + 49 * 4 + 3)), "{name}: the latest of all writers");
        assert_eq!(claims.load(Ordering::Relaxed), 1, "{name}: one warning among four claimers");
        assert_eq!(uses.load(Ordering::Relaxed), 1, "{name}: a link signs in once");
    }
}

#[test]
fn another_handles_write_is_signalled() {
    for (name, location, _dir) in backends() {
        let store = tokenscope::store::open(&location).unwrap();
        let signals = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = Arc::clone(&signals);
        let _watch = store.watch(Arc::new(move |s| seen.lock().unwrap().push(s))).unwrap().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        signals.lock().unwrap().clear();
        let other = tokenscope::store::open(&location).unwrap();
        let carol = other.add_principal("carol", at(1), &[], &audit()).unwrap();
        other.bind(carol.id, std::slice::from_ref(&Binding::Grant("channel/main=read".into())), &audit()).unwrap();
        let lag = wait::until(&format!("{name}: a change signalled"), Duration::from_millis(5), || {
            signals.lock().unwrap().iter().any(|s| matches!(s, StoreSignal::Changed { .. }))
        });
        wait::report_lag(&format!("store.{name}.signal"), lag);
    }
}

#[test]
fn a_whole_store_copies_between_backends_and_a_full_target_is_refused_unless_replaced() {
    let backends = backends();
    let (sqlite, postgres) = (&backends[0].1, &backends[1].1);
    let source = tokenscope::store::open(sqlite).unwrap();
    let dave = source.add_principal("dave", at(1), &[], &audit()).unwrap();
    source.bind(dave.id, std::slice::from_ref(&Binding::Grant("channel/main=manage".into())), &audit()).unwrap();
    let eve = source.add_principal("eve", at(2), &[], &audit()).unwrap();
    let secret = Secret::generate().unwrap();
    let id = source.insert_token(&new_token(eve.id, &secret, 900), &audit()).unwrap();
    source.insert_token(&new_token(dave.id, &Secret::generate().unwrap(), 901), &audit()).unwrap();
    source.add_usage(&[UsageDelta { token: id, uses: 41, last_used_at: at(77) }]).unwrap();
    source.claim_warning(id, at(78), at(0), &audit()).unwrap();
    source.revoke_token(id, at(79), &audit()).unwrap();
    source.add_sign_in_link(&Secret::generate().unwrap().hash(), dave.id, at(5), at(50), &audit()).unwrap();
    let snapshot = source.export().unwrap();
    assert_eq!(snapshot.counts(), (2, 2, 1));

    let target = tokenscope::store::open(postgres).unwrap();
    target.import(&snapshot, false, &audit()).unwrap();
    let mut copied = target.export().unwrap();
    // The trail came along as it was, and the copy appended its own event to it.
    let event = copied.audit.pop().unwrap();
    assert_eq!(event.prev, snapshot.audit_head.1, "the copy's event follows the copied chain");
    assert_eq!(copied.audit_head, (event.seq, event.hash));
    copied.audit_head = snapshot.audit_head;
    assert_eq!(copied, snapshot, "the copy holds exactly what the source did");
    assert!(tokenscope::authority::verify_trail(target.as_ref(), None, None).is_ok());
    assert!(matches!(target.import(&snapshot, false, &audit()), Err(StoreError::NotEmpty)));
    let copied = target.token_by_hash(&secret.hash()).unwrap().unwrap();
    assert_eq!((copied.id, copied.use_count, copied.revoked_at), (id, 41, Some(at(79))));
    // Ids continue after the copied ones.
    let next = target.insert_token(&new_token(dave.id, &Secret::generate().unwrap(), 902), &audit()).unwrap();
    assert!(next.get() > id.get());

    // And with the command line, back into a new file; a full target needs --replace.
    let dir = tempfile::tempdir().unwrap();
    let back = dir.path().join("back.db");
    let copy = |from: &str, to: &str, replace: bool| {
        let mut cmd = tokenscope().unwrap();
        cmd.args(["store", "copy", "--from", from, "--to", to]).env_remove("TOKENSCOPE_STORE");
        if replace {
            cmd.arg("--replace");
        }
        cmd.output().unwrap()
    };
    let url = match postgres {
        StoreLocation::Postgres(url) => url.clone(),
        StoreLocation::Sqlite(_) => unreachable!(),
    };
    let back_text = back.display().to_string();
    let out = copy(&url, &back_text, false);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("copied 2 principals, 3 tokens and 1 sign-in links"));
    let again = copy(&url, &back_text, false);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"), "{}", String::from_utf8_lossy(&again.stderr));
    let replaced = copy(&url, &back_text, true);
    assert!(replaced.status.success(), "{}", String::from_utf8_lossy(&replaced.stderr));
    let file = tokenscope::store::open_existing(&StoreLocation::Sqlite(back)).unwrap();
    let (mut landed, source) = (file.export().unwrap(), target.export().unwrap());
    let event = landed.audit.pop().unwrap().record().unwrap();
    assert_eq!(event.event.action, "store.copy");
    let replaced = event.event.after.unwrap()["replaced_trail"].as_str().unwrap().to_owned();
    assert!(replaced.starts_with(&format!("{}:", source.audit_head.0 + 1)), "the trail it replaced: {replaced}");
    landed.audit_head = source.audit_head;
    assert_eq!(landed, source);
    assert!(tokenscope::authority::verify_trail(file.as_ref(), None, None).is_ok());
    // A password in a URL never reaches the output.
    let secret_url = url.replace("postgres@", "postgres:hunter2@").replace("/t", "/missing_t");
    let failed = copy(&secret_url, &back_text, true);
    let said = format!("{}{}", String::from_utf8_lossy(&failed.stdout), String::from_utf8_lossy(&failed.stderr));
    assert!(!failed.status.success() && !said.contains("hunter2"), "{said}");
    assert!(said.contains("does not exist"), "the database's own reason is given: {said}");
}

/// The event these tests' direct store writes record.
fn audit() -> tokenscope::audit::AuditEvent {
    tokenscope::audit::AuditEvent::by_operator("test", "")
}
