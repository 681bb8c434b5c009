//! The audit trail, on both backends in every run (the embedded SQLite file
//! and a real PostgreSQL): every change through the API and the command line
//! is recorded with its actor, client and what changed, never a secret; an
//! owner reads only their own events; rows edited, removed or swapped in the
//! database are named by `verify`; a change whose event cannot be written
//! does not happen; pruning, a fleet's concurrent appends, `tail -f`, export
//! and store copies keep the chain whole.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::Arc;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokenscope::audit::{AuditActor, AuditEvent, Broken};
use tokenscope::authority::{AuditCheckError, verify_trail};
use tokenscope::store::{Store, StoreLocation};
use tokenscope::swap::SwapOutcome;
use tokenscope::time::UnixTime;
use tokenscope_tests::binary::tokenscope;
use tokenscope_tests::postgres::Postgres;
use tokenscope_tests::server::Server;
use tokenscope_tests::wait;

/// One backend with a fresh store, and raw SQL on it.
struct Backend {
    name: &'static str,
    location: StoreLocation,
    _dir: tempfile::TempDir,
}

impl Backend {
    fn both() -> Vec<Backend> {
        let dir = tempfile::tempdir().unwrap();
        let file = StoreLocation::Sqlite(dir.path().join("t.db"));
        let url = StoreLocation::Postgres(Postgres::shared().unwrap().database().unwrap());
        vec![
            Backend { name: "sqlite", location: file, _dir: dir },
            Backend { name: "postgres", location: url, _dir: tempfile::tempdir().unwrap() },
        ]
    }

    fn open(&self) -> Arc<dyn Store> {
        tokenscope::store::open(&self.location).unwrap()
    }

    /// Runs `sql` on the database, behind the store's back.
    fn sql(&self, sql: &str) {
        match &self.location {
            StoreLocation::Sqlite(path) => rusqlite::Connection::open(path).unwrap().execute_batch(sql).unwrap(),
            StoreLocation::Postgres(url) => {
                let db = url.rsplit('/').next().unwrap().split('?').next().unwrap();
                Postgres::shared().unwrap().sql(db, sql).unwrap();
            }
        }
    }

    /// A trigger that makes every audit insert fail (and the SQL that drops it).
    fn refuse_audit(&self) -> &'static str {
        if matches!(self.location, StoreLocation::Sqlite(_)) {
            self.sql(
                "CREATE TRIGGER no_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit refused'); END;",
            );
            "DROP TRIGGER no_audit;"
        } else {
            self.sql(
                "CREATE FUNCTION no_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$;
                 CREATE TRIGGER no_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION no_audit();",
            );
            "DROP TRIGGER no_audit ON audit_events; DROP FUNCTION no_audit();"
        }
    }
}

/// `n` events appended to `store`, targets `token/1` to `token/n`.
fn fill(store: &dyn Store, n: u64) {
    for i in 1..=n {
        store.append_audit(&AuditEvent::by_operator("token.create", format!("token/{i}"))).unwrap();
    }
}

fn broken(store: &dyn Store) -> Broken {
    match verify_trail(store, None, None) {
        Err(AuditCheckError::Broken(broken)) => broken,
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[test]
fn rows_edited_removed_or_swapped_in_the_database_are_named_exactly() {
    let cases: [(&str, Broken); 6] = [
        ("UPDATE audit_events SET body = replace(body, 'token/3', 'token/9') WHERE seq = 3", Broken::Edited { seq: 3 }),
        (
            "UPDATE audit_events SET actor = 'operator:mallory' WHERE seq = 4",
            Broken::ColumnEdited { seq: 4, column: "actor" },
        ),
        ("DELETE FROM audit_events WHERE seq = 3", Broken::Removed { seq: 3 }),
        (
            "UPDATE audit_events SET seq = -2 WHERE seq = 2; UPDATE audit_events SET seq = 2 WHERE seq = 5;
             UPDATE audit_events SET seq = 5 WHERE seq = -2;",
            Broken::Reordered { seq: 2, holds: 5 },
        ),
        ("DELETE FROM audit_events WHERE seq = 6", Broken::TailRemoved { head: 6, last: 5 }),
        ("DELETE FROM audit_events WHERE seq <= 2", Broken::PrefixRemoved { first: 3 }),
    ];
    for (sql, expected) in cases {
        for backend in Backend::both() {
            let store = backend.open();
            fill(store.as_ref(), 6);
            assert_eq!(verify_trail(store.as_ref(), None, None).unwrap().events, 6, "{}", backend.name);
            backend.sql(sql);
            assert_eq!(broken(store.as_ref()), expected, "{}: {sql}", backend.name);
            // The command line says the same and exits 1.
            let out = tokenscope()
                .unwrap()
                .args(["--store", &backend.location.to_string(), "audit", "verify"])
                .env_remove("TOKENSCOPE_CONFIG")
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(1), "{}: {sql}", backend.name);
            let said = String::from_utf8_lossy(&out.stderr);
            assert!(said.contains(&expected.to_string()), "{}: {said}", backend.name);
        }
    }
}

#[test]
fn an_anchor_kept_elsewhere_proves_nothing_before_it_changed() {
    for backend in Backend::both() {
        let store = backend.open();
        fill(store.as_ref(), 4);
        let cli = |args: &[&str]| {
            tokenscope()
                .unwrap()
                .args(["--store", &backend.location.to_string(), "audit"])
                .args(args)
                .env_remove("TOKENSCOPE_CONFIG")
                .output()
                .unwrap()
        };
        let anchor = String::from_utf8(cli(&["anchor"]).stdout).unwrap().trim().to_owned();
        assert!(anchor.starts_with("4:"), "{anchor}");
        fill(store.as_ref(), 2);
        assert_eq!(cli(&["verify", "--anchor", &anchor]).status.code(), Some(0), "{}", backend.name);
        // The anchored event rewritten (with its hash made to match, as a
        // forger rebuilding the chain would): the anchor no longer holds.
        let forged = format!("{}:{}", 4, "ab".repeat(32));
        let out = cli(&["verify", "--anchor", &forged, "--json"]);
        assert_eq!(out.status.code(), Some(1), "{}", backend.name);
        let said: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(said["broken"], json!({"kind": "anchor-mismatch", "seq": 4}), "{}", backend.name);
        assert_eq!(cli(&["verify", "--from", "5"]).status.code(), Some(0), "{}", backend.name);
    }
}

#[test]
fn a_change_whose_event_cannot_be_written_does_not_happen() {
    for backend in Backend::both() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = tokenscope_tests::authority::test_config(dir.path().join("t.db"));
        config.store.url = match &backend.location {
            StoreLocation::Postgres(url) => Some(url.clone()),
            StoreLocation::Sqlite(path) => {
                config.store.path.clone_from(path);
                None
            }
        };
        let t = tokenscope_tests::authority::TestAuthority::open(dir, config).unwrap();
        let a = &t.authority;
        let admin = tokenscope::authority::Actor::Operator;
        a.add_principal(admin, "alice", &[tokenscope::store::Binding::Grant("channel/main=write".into())]).unwrap();
        let undo = backend.refuse_audit();
        let request = tokenscope::authority::IssueRequest {
            owner: "alice".into(),
            name: "ci".into(),
            description: String::new(),
            expiry: tokenscope::authority::Expiry::Default,
            grants: tokenscope_tests::tokens::scopes(&["artifact:download"]),
            exchange: None,
        };
        let refused = a.create_token(admin, &request);
        assert!(
            matches!(refused, Err(tokenscope::authority::LifecycleError::Store(_))),
            "{}: {:?}",
            backend.name,
            refused.as_ref().err()
        );
        assert!(t.store.tokens(None).unwrap().is_empty(), "{}: no token without its event", backend.name);
        assert!(a.bind(admin, "alice", &[tokenscope::store::Binding::Grant("channel/x=read".into())]).is_err());
        assert_eq!(a.principal("alice").unwrap().bindings.len(), 2, "{}: no binding without its event", backend.name);
        // A policy swap is written before it is made: the active module stays.
        let before = a.module().sha256().to_owned();
        let bytes = tokenscope_tests::modules::bytes(tokenscope_tests::modules::VARIANT);
        let event = a.system_event("test", "policy.load", "policy".into());
        let outcome = a.load_policy(&bytes, "v2", &event);
        assert!(matches!(outcome, SwapOutcome::Unrecorded { .. }), "{}: {}", backend.name, outcome.as_str());
        assert_eq!(a.module().sha256(), before, "{}", backend.name);
        backend.sql(undo);
        a.create_token(admin, &request).unwrap();
        assert!(matches!(a.load_policy(&bytes, "v2", &event), SwapOutcome::Swapped { .. }));
        assert!(verify_trail(t.store.as_ref(), None, None).is_ok(), "{}", backend.name);
    }
}

#[test]
fn a_fleets_hosts_append_to_one_chain_in_the_databases_order() {
    for backend in Backend::both() {
        let hosts: Vec<Arc<dyn Store>> = (0..3).map(|_| backend.open()).collect();
        std::thread::scope(|s| {
            for (i, host) in hosts.iter().enumerate() {
                s.spawn(move || {
                    for n in 0..40 {
                        let event = AuditEvent::new(
                            UnixTime::now(),
                            &format!("host-{i}"),
                            AuditActor::system("test"),
                            "token.create",
                            format!("token/{i}-{n}"),
                        );
                        host.append_audit(&event).unwrap();
                    }
                });
            }
        });
        let verified = verify_trail(hosts[0].as_ref(), None, None).unwrap();
        assert_eq!((verified.first, verified.last, verified.events), (Some(1), Some(120), 120), "{}", backend.name);
    }
}

#[test]
fn pruning_leaves_an_event_that_keeps_the_rest_verifiable() {
    let t = tokenscope_tests::authority::TestAuthority::new().unwrap();
    let a = &t.authority;
    let admin = tokenscope::authority::Actor::Operator;
    a.add_principal(admin, "old", &[]).unwrap();
    a.add_principal(admin, "older", &[]).unwrap();
    t.clock.advance(400 * 86_400);
    a.add_principal(admin, "new", &[]).unwrap();
    assert_eq!(a.prune_audit().unwrap(), 2, "the two events older than a year");
    let verified = a.verify_audit(None, None).unwrap();
    assert_eq!((verified.first, verified.last), (Some(3), Some(4)));
    let rows = t.store.audit_rows(0, 10).unwrap();
    let prune = rows.last().unwrap().record().unwrap();
    assert_eq!(prune.event.action, "audit.prune");
    assert_eq!(prune.event.after.as_ref().unwrap()["through"], 2);
    assert_eq!(a.prune_audit().unwrap(), 0, "nothing else is old enough");
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[test]
fn every_change_is_recorded_with_who_from_where_and_what_changed_never_a_secret() {
    let server = Server::start("").unwrap();
    let admin = server.admin_secret.clone();
    let mut secrets = vec![admin.clone()];
    let made =
        server.api("POST", "/api/account/tokens", &admin, Some(json!({"name": "ci", "scopes": ["artifact:download"]})));
    assert_eq!(made.status, 201, "{}", made.body);
    let id = made.json()["id"].as_i64().unwrap();
    secrets.push(made.json()["secret"].as_str().unwrap().to_owned());
    let path = format!("/api/account/tokens/{id}");
    assert_eq!(server.api("PATCH", &path, &admin, Some(json!({"name": "ci-2"}))).status, 200);
    let reissued = server.api("PATCH", &path, &admin, Some(json!({"reissue": true})));
    assert_eq!(reissued.status, 200, "{}", reissued.body);
    secrets.push(reissued.json()["secret"].as_str().unwrap().to_owned());
    assert_eq!(server.api("POST", &format!("{path}/revoke"), &admin, None).status, 200);
    assert_eq!(server.api("DELETE", &path, &admin, None).status, 204);
    let bob = json!({"name": "bob", "grants": ["channel/main=read"]});
    assert_eq!(server.api("POST", "/api/principals", &admin, Some(bob)).status, 201);
    let grant = json!({"grants": ["channel/other=write"]});
    assert_eq!(server.api("POST", "/api/principals/bob/bind", &admin, Some(grant.clone())).status, 200);
    assert_eq!(server.api("POST", "/api/principals/bob/unbind", &admin, Some(grant)).status, 200);
    assert_eq!(server.api("DELETE", "/api/principals/bob", &admin, None).status, 204);
    // A refused attempt by a narrower token is recorded with its code.
    let narrow = server.issue("carol", "channel/main=write", &["--scope", "user.token:edit"]).unwrap();
    secrets.push(narrow.clone());
    let escalating = json!({"name": "wide", "scopes": ["system.policy:edit"]});
    assert_eq!(server.api("POST", "/api/account/tokens", &narrow, Some(escalating)).status, 403);
    // So is one refused before any operation ran: a token without the right to manage tokens.
    let weak = server.issue("gina", "channel/main=write", &["--scope", "artifact:download"]).unwrap();
    secrets.push(weak.clone());
    let plain = json!({"name": "x", "scopes": ["artifact:download"]});
    assert_eq!(server.api("POST", "/api/account/tokens", &weak, Some(plain)).status, 403);
    assert_eq!(server.api("POST", "/api/account/tokens", "tks_unknown", None).status, 401);

    // Checks are not audit events (the decision log has them): the head stays where it is.
    let head = || String::from_utf8(server.cli().args(["audit", "anchor"]).output().unwrap().stdout).unwrap();
    let before = head();
    for secret in [&admin, &narrow, &weak] {
        let auth = format!("Bearer {secret}");
        let headers = [("x-original-method", "GET"), ("x-original-uri", "/anything"), ("authorization", auth.as_str())];
        tokenscope_tests::http::send("GET", &server.url("/v1/check"), &headers);
    }
    assert_eq!(head(), before, "a check wrote to the trail");
    let trail = server.api("GET", "/api/system/audit?limit=1000", &admin, None);
    assert_eq!(trail.status, 200, "{}", trail.body);
    let trail = trail.json();
    assert_eq!(trail["scope"], "all");
    let events = trail["events"].as_array().unwrap();
    let by_api: Vec<&Value> = events.iter().filter(|e| e["actor"]["kind"] == "token").collect();
    let actions: Vec<&str> = by_api.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "token.create",
            "token.edit",
            "token.reissue",
            "token.revoke",
            "token.delete",
            "principal.add",
            "principal.bind",
            "principal.unbind",
            "principal.remove",
            "token.create",
            "access.denied"
        ],
        "{trail:#}"
    );
    for event in &by_api[..9] {
        assert_eq!(event["actor"]["name"], "admin", "{event}");
        assert_eq!(event["client"]["addr"], "127.0.0.1", "{event}");
        assert!(event["client"]["agent"].as_str().unwrap().starts_with("ureq"), "{event}");
        assert_eq!(event["refused"], Value::Null, "{event}");
    }
    assert_eq!(by_api[0]["target"], format!("token/{id}"));
    assert_eq!(by_api[0]["after"]["grants"], json!(["artifact:download"]));
    assert_eq!(by_api[1]["before"]["name"], "ci");
    assert_eq!(by_api[1]["after"]["name"], "ci-2");
    assert_eq!(by_api[9]["refused"], "escalation");
    assert_eq!(by_api[9]["actor"]["name"], "carol");
    assert_eq!(by_api[10]["actor"]["name"], "gina");
    assert_eq!(by_api[10]["after"]["action"], "user.token:edit");
    assert!(by_api[10]["refused"].is_string(), "{}", by_api[10]);
    // The command line's own changes name the operator.
    assert!(events.iter().any(|e| e["actor"]["kind"] == "operator" && e["action"] == "principal.add"));
    let text = trail.to_string();
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "a secret is in the trail");
        assert!(!text.contains(&sha256_hex(secret)), "a secret's hash is in the trail");
    }
    // Filters, and the chain verifies from the command line.
    let only = server.api("GET", &format!("/api/system/audit?target=token/{id}&action=token"), &admin, None).json();
    assert_eq!(only["events"].as_array().unwrap().len(), 5, "{only:#}");
    let by_carol = server.api("GET", "/api/system/audit?actor=carol", &admin, None).json();
    assert_eq!(by_carol["events"].as_array().unwrap().len(), 1, "{by_carol:#}");
    for bad in ["limit=0", "limit=1001", "since=soon", "action=token%25", "nope=1", "limit=2&limit=3"] {
        assert_eq!(server.api("GET", &format!("/api/system/audit?{bad}"), &admin, None).status, 400, "{bad}");
    }
    let out = server.cli().args(["audit", "verify", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn an_owner_reads_the_events_on_what_they_own_and_nothing_else() {
    let server = Server::start("").unwrap();
    let viewer = server.issue("dave", "channel/main=write", &["--scope", "user.token:view"]).unwrap();
    let blind = server.issue("erin", "channel/main=write", &["--scope", "artifact:download"]).unwrap();
    let own = server.api("GET", "/api/system/audit", &viewer, None);
    assert_eq!(own.status, 200, "{}", own.body);
    let own = own.json();
    assert_eq!(own["scope"], "own");
    let events = own["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "dave's principal and his token: {own:#}");
    let dave = events[0]["owner"].clone();
    assert!(events.iter().all(|e| e["owner"] == dave), "{own:#}");
    // What another did to dave's tokens he sees, but not where it came from.
    let made = json!({"name": "from-admin", "scopes": ["artifact:download"]});
    assert_eq!(server.api("POST", "/api/principals/dave/tokens", &server.admin_secret, Some(made)).status, 201);
    let seen = server.api("GET", "/api/system/audit?actor=admin", &viewer, None).json();
    let by_admin = &seen["events"][0];
    assert_eq!((by_admin["action"].as_str(), by_admin["client"].is_null()), (Some("token.create"), true), "{seen:#}");
    let all = server.api("GET", "/api/system/audit?actor=admin&action=token.create", &server.admin_secret, None).json();
    assert_eq!(all["events"].as_array().unwrap().last().unwrap()["client"]["addr"], "127.0.0.1", "{all:#}");
    let asked = server.api("GET", "/api/system/audit?actor=erin", &viewer, None).json();
    assert!(asked["events"].as_array().unwrap().is_empty(), "another's events stay hidden: {asked:#}");
    assert_eq!(server.api("GET", "/api/system/audit", &blind, None).status, 403);
    assert_eq!(server.api("GET", "/api/system/audit", "tks_nope", None).status, 401);
}

#[test]
fn tail_follows_new_events_export_writes_json_lines_and_a_copy_keeps_the_chain() {
    let server = Server::start("").unwrap();
    let mut tail = server
        .cli()
        .args(["audit", "tail", "-f", "-n", "1", "--interval", "100ms"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(tail.stdout.take().unwrap()).lines();
    let (sent, got) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if sent.send(line).is_err() {
                break;
            }
        }
    });
    server.issue("frank", "channel/main=read", &["--scope", "artifact:download"]).unwrap();
    let mut seen = Vec::new();
    wait::until("tail -f shows frank's new token", std::time::Duration::from_millis(50), || {
        seen.extend(got.try_iter());
        seen.iter().any(|l| l.contains("\"target\":\"principal/frank\""))
            && seen.iter().any(|l| l.contains("\"token.create\"") && l.contains("\"name\":\"t\""))
    });
    let _ = tail.kill();
    let _ = tail.wait();

    let out = server.cli().args(["audit", "export", "--format", "jsonl"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let events: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    assert!(events.iter().all(|e| e["hash"].as_str().is_some_and(|h| h.len() == 64)));

    // The trail moves with the store and verifies where it lands.
    let copy = tempfile::tempdir().unwrap();
    let target = copy.path().join("copy.db");
    let source = match std::fs::read_to_string(server.config_path()).unwrap().lines().find(|l| l.starts_with("url = "))
    {
        Some(line) => line.trim_start_matches("url = ").trim_matches('"').to_owned(),
        None => server.dir.path().join("t.db").display().to_string(),
    };
    let out = tokenscope()
        .unwrap()
        .args(["store", "copy", "--from", &source, "--to", &target.display().to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let copied = tokenscope::store::open_existing(&StoreLocation::Sqlite(target)).unwrap();
    let verified = verify_trail(copied.as_ref(), None, None).unwrap();
    assert_eq!(verified.events, seqs.len() as u64 + 1, "every event, and the copy's own");
    let last = copied.audit_rows(verified.last.unwrap() - 1, 1).unwrap();
    assert_eq!(last[0].action, "store.copy");
}

#[test]
fn a_flood_of_refused_attempts_is_recorded_within_each_actors_budget() {
    let server = Server::start("[audit]\nrefusals_per_minute = 5\n").unwrap();
    let weak = server.issue("gina", "channel/main=write", &["--scope", "artifact:download"]).unwrap();
    let narrow = server.issue("carol", "channel/main=write", &["--scope", "user.token:edit"]).unwrap();
    let plain = json!({"name": "x", "scopes": ["artifact:download"]});
    for _ in 0..40 {
        let refused = server.api("POST", "/api/account/tokens", &weak, Some(plain.clone()));
        assert_eq!(refused.status, 403, "every attempt is refused, recorded or not: {}", refused.body);
    }
    // Another actor has a budget of its own.
    let escalating = json!({"name": "wide", "scopes": ["system.policy:edit"]});
    assert_eq!(server.api("POST", "/api/account/tokens", &narrow, Some(escalating)).status, 403);
    let trail = server.api("GET", "/api/system/audit?action=access.denied&limit=1000", &server.admin_secret, None);
    assert_eq!(trail.status, 200, "{}", trail.body);
    let denied = trail.json()["events"].as_array().unwrap().clone();
    assert_eq!(denied.len(), 5, "gina's five, the rest counted: {denied:#?}");
    let escalations = server.api("GET", "/api/system/audit?action=token.create&limit=1000", &server.admin_secret, None);
    let refused: Vec<_> = escalations.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["refused"] == "escalation")
        .cloned()
        .collect();
    assert_eq!(refused.len(), 1, "carol's refusal is recorded: {refused:#?}");
    let verified = server.cli().args(["audit", "verify"]).output().unwrap();
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stdout));
}
