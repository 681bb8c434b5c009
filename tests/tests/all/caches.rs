//! The verify path's caches never outlive what they hold: every write through
//! the authority (revoke, reissue, delete, expiry edit, owner demoted or removed,
//! a role unbound) takes effect on the very next verification; a write by another
//! connection or process on the same store (the CLI beside a server) is seen
//! (the lags are printed; `host/benches/lags.sh` holds them to the documented
//! bound, twice `cache.refresh`);
//! the caches stay within their limits under a flood of secrets; usage counts stay
//! exact under concurrency.

use std::sync::Arc;
use std::time::Duration;

use tokenscope::authority::{Actor, Expiry, TokenChange};
use tokenscope::config::Config;
use tokenscope::secret::Secret;
use tokenscope::store::{Binding, NewToken, StoredGrants};
use tokenscope::time::UnixTime;
use tokenscope_tests::authority::{T0, TestAuthority, test_config};
use tokenscope_tests::http::{agent, send_with};
use tokenscope_tests::server::Server;
use tokenscope_tests::wait;

use super::lifecycle::{grant, principal, request};
use tokenscope_tests::tokens::scopes;

const ACTION: &str = "artifact:create";
const RESOURCE: &str = "channel/main/artifact/x.conda";

/// What verifying `secret` for an upload on `channel/main` decides now.
fn decided(t: &TestAuthority, secret: &str) -> &'static str {
    t.authority.verify(Some(secret), ACTION, RESOURCE).verdict.code_str()
}

/// A token of `owner` (holding manage on `channel/main`) that may upload; its secret, verified once (cached).
fn uploader(t: &TestAuthority, owner: &str) -> (tokenscope::store::TokenId, String) {
    principal(t, owner, &[grant("channel/main=manage")]);
    let issued = t.authority.create_token(Actor::Operator, &request(owner, scopes(&[ACTION]))).unwrap();
    let secret = issued.secret.expose().to_owned();
    assert_eq!(decided(t, &secret), "allow");
    assert_eq!(decided(t, &secret), "allow", "answered from the cache");
    (issued.record.id, secret)
}

/// Polls `decide` until it gives `want`; how long that took.
fn until(want: &str, mut decide: impl FnMut() -> String) -> Duration {
    wait::until(want, Duration::from_millis(5), || decide() == want)
}

#[test]
fn writes_through_the_authority_take_effect_on_the_next_verification() {
    let t = TestAuthority::new().unwrap();
    let a = &t.authority;

    let (id, secret) = uploader(&t, "rev");
    a.revoke_token(Actor::Operator, id, None).unwrap();
    assert_eq!(decided(&t, &secret), "revoked");

    let (id, old) = uploader(&t, "reis");
    let new = a.reissue_token(Actor::Operator, id).unwrap().secret.expose().to_owned();
    assert_eq!(decided(&t, &old), "unknown-token");
    assert_eq!(decided(&t, &new), "allow");

    let (id, secret) = uploader(&t, "del");
    a.delete_token(Actor::Operator, id, None).unwrap();
    assert_eq!(decided(&t, &secret), "unknown-token");

    let (id, secret) = uploader(&t, "exp");
    let soon = UnixTime::from_secs(T0 + 60);
    a.change_token(Actor::Operator, id, None, TokenChange { expiry: Some(Expiry::At(soon)), ..TokenChange::default() })
        .unwrap();
    assert_eq!(decided(&t, &secret), "allow");
    t.clock.advance(61);
    assert_eq!(decided(&t, &secret), "expired", "expiry is decided at request time, never cached as valid");

    let (_, secret) = uploader(&t, "demoted");
    a.unbind(Actor::Operator, "demoted", &[grant("channel/main=manage")]).unwrap();
    assert_eq!(decided(&t, &secret), "owner-lacks-right");
    a.bind(Actor::Operator, "demoted", &[grant("channel/main=write")]).unwrap();
    assert_eq!(decided(&t, &secret), "allow", "a binding added back counts at once too");

    let (_, secret) = uploader(&t, "gone");
    a.remove_principal(Actor::Operator, "gone").unwrap();
    assert_eq!(decided(&t, &secret), "unknown-token", "an owner's removal takes its tokens");
}

#[test]
fn an_unbound_role_takes_its_rights_at_once() {
    let t = TestAuthority::new().unwrap();
    let ci = Binding::Role { role: "continuous-integration".into(), at: "channel/main".into() };
    principal(&t, "robot", std::slice::from_ref(&ci));
    let issued = t.authority.create_token(Actor::Operator, &request("robot", scopes(&[ACTION]))).unwrap();
    let secret = issued.secret.expose().to_owned();
    assert_eq!(decided(&t, &secret), "allow");
    t.authority.unbind(Actor::Operator, "robot", &[ci]).unwrap();
    assert_eq!(decided(&t, &secret), "owner-lacks-right");
}

#[test]
fn another_connections_writes_are_seen() {
    let t = TestAuthority::new().unwrap();
    let bound = t.authority.staleness_bound();
    assert!(bound <= Duration::from_secs(1), "the documented bound is at most 1 s: {bound:?}");
    // Another process's view of the same file: its own connections, outside the authority.
    let other = tokenscope::store::open_existing(&t.authority.config().store.location()).unwrap();

    let (id, secret) = uploader(&t, "x1");
    other.revoke_token(id, UnixTime::from_secs(T0), &audit()).unwrap();
    wait::report_lag("cache.another-connection.revocation", until("revoked", || decided(&t, &secret).to_owned()));

    let (_, secret) = uploader(&t, "x2");
    let owner = other.principal("x2").unwrap().unwrap();
    other.unbind(owner.id, &[grant("channel/main=manage")], &tokenscope::store::unguarded(), &audit()).unwrap();
    let lag = until("owner-lacks-right", || decided(&t, &secret).to_owned());
    wait::report_lag("cache.another-connection.demotion", lag);

    // A secret first refused as unknown (and remembered so), then stored by the other process.
    let owner = other.principal("x1").unwrap().unwrap();
    let fresh = Secret::generate().unwrap();
    assert_eq!(decided(&t, fresh.expose()), "unknown-token");
    other
        .insert_token(
            &NewToken {
                owner: owner.id,
                name: "late".into(),
                description: String::new(),
                hash: fresh.hash(),
                hint: fresh.hint(),
                grants: StoredGrants::Scopes(vec!["artifact:view".into()]),
                created_at: UnixTime::from_secs(T0),
                expires_at: None,
                origin: None,
            },
            &audit(),
        )
        .unwrap();
    let lag = until("allow", || {
        t.authority.verify(Some(fresh.expose()), "artifact:view", RESOURCE).verdict.code_str().to_owned()
    });
    wait::report_lag("cache.another-connection.new-token", lag);
}

#[test]
fn a_flood_of_secrets_keeps_the_caches_within_their_limits() {
    let dir = tempfile::tempdir().unwrap();
    let mut config: Config = test_config(dir.path().join("tokens.db"));
    config.cache.unknown = 64;
    config.cache.tokens = 8;
    let t = TestAuthority::open(dir, config).unwrap();
    for _ in 0..1000 {
        let secret = Secret::generate().unwrap();
        assert_eq!(decided(&t, secret.expose()), "unknown-token");
    }
    principal(&t, "many", &[grant("channel/main=manage")]);
    let secrets: Vec<String> = (0..40)
        .map(|_| {
            t.authority
                .create_token(Actor::Operator, &request("many", scopes(&[ACTION])))
                .unwrap()
                .secret
                .expose()
                .to_owned()
        })
        .collect();
    for secret in secrets.iter().chain(&secrets) {
        assert_eq!(decided(&t, secret), "allow");
    }
    let (tokens, unknown, owners) = t.authority.cache_sizes();
    assert!(tokens <= 8 && unknown <= 64 && owners <= 65_536, "{tokens} tokens, {unknown} unknown, {owners} owners");
}

#[test]
fn without_the_cache_every_verification_reads_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut config: Config = test_config(dir.path().join("tokens.db"));
    config.cache.enabled = false;
    let t = TestAuthority::open(dir, config).unwrap();
    let other = tokenscope::store::open_existing(&t.authority.config().store.location()).unwrap();
    let (id, secret) = uploader(&t, "plain");
    other.revoke_token(id, UnixTime::from_secs(T0), &audit()).unwrap();
    assert_eq!(decided(&t, &secret), "revoked", "no cache: the next verification sees it");
    assert_eq!(t.authority.cache_sizes(), (0, 0, 0));
}

#[test]
fn usage_counts_stay_exact_under_concurrency() {
    let t = Arc::new(TestAuthority::new().unwrap());
    let (id, secret) = uploader(&t, "busy");
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (t, secret) = (Arc::clone(&t), secret.clone());
            std::thread::spawn(move || {
                for _ in 0..500 {
                    assert_eq!(decided(&t, &secret), "allow");
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    t.authority.flush_usage().unwrap();
    // 2 verifications by `uploader`, then 8 × 500.
    assert_eq!(t.authority.token(id).unwrap().use_count, 4002);
}

#[test]
fn a_revocation_by_the_cli_reaches_a_running_server() {
    let routes = "[[check.routes]]\nmethod = \"GET\"\npath = \"/api/repo/{channel}/{file}\"\naction = \
                  \"artifact:download\"\nresource = \"channel/{channel}/artifact/{file}\"\n";
    let server = Server::start(routes).unwrap();
    let agent = agent();
    for round in 0..5 {
        let owner = format!("cli{round}");
        let secret = server.issue(&owner, "channel/main=read", &["--scope", "artifact:download"]).unwrap();
        let check = || {
            let headers = [
                ("x-original-uri", "/api/repo/main/pkg-1.0.conda"),
                ("x-original-method", "GET"),
                ("x-access-token", secret.as_str()),
            ];
            let reply = send_with(&agent, "GET", &server.url("/v1/check"), &headers, Vec::new()).unwrap();
            reply.header("x-tokenscope-deny-code").unwrap_or("allow").to_owned()
        };
        assert_eq!(check(), "allow");
        assert_eq!(check(), "allow");
        let list = server.cli().args(["token", "list", "--owner", &owner, "--json"]).output().unwrap();
        let listed: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
        let id = listed[0]["id"].as_i64().unwrap().to_string();
        assert!(server.cli().args(["token", "revoke", &id]).status().unwrap().success());
        wait::report_lag("cache.cli-revocation", until("revoked", check));
    }
}

/// The event these tests' direct store writes record.
fn audit() -> tokenscope::audit::AuditEvent {
    tokenscope::audit::AuditEvent::by_operator("test", "")
}
