//! Fleet mode on a real PostgreSQL 15 with three real `tokenscope serve`
//! hosts: a revocation, reissue, demotion or leak report through one host
//! reaches every host (measured 100 times each, leaks 10; `host/benches/lags.sh` holds the lags to
//! their goals); a module published through one host runs on all, a module
//! the gate refuses changes none, and
//! rollback is fleet-wide; killing PostgreSQL mid-traffic never lets a request
//! through that should be denied, and the hosts recover by themselves; usage
//! counts add up exactly across hosts, and `kill -9` loses at most one flush
//! interval of the killed host's own counts; expiry warnings are logged once
//! by the fleet.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokenscope_tests::fleet::{Fleet, Via, decide};
use tokenscope_tests::http::{agent, send_with};
use tokenscope_tests::modules::{HOSTILE_LENIENT, VARIANT};
use tokenscope_tests::server::Server;
use tokenscope_tests::wait;

/// How long from `started` until every one of `hosts` refuses `secret`.
fn refused_everywhere(agent: &ureq::Agent, hosts: &[&Server], secret: &str, started: Instant) -> Duration {
    let mut waiting: Vec<&Server> = hosts.to_vec();
    wait::until("refused on every host", Duration::ZERO, || {
        waiting.retain(|host| decide(agent, host, secret).1 == "allow");
        waiting.is_empty()
    });
    started.elapsed()
}

fn revocations_reissues_and_demotions_through_one_host_reach_every_host(via: Via) {
    let fleet = Fleet::start(via, 3, "").unwrap();
    let agent = agent();
    let others = [&fleet.hosts[1], &fleet.hosts[2]];
    const ROUNDS: usize = 100;
    fleet.principal("ci").unwrap();

    for _ in 0..ROUNDS {
        let (id, secret) = fleet.token(0, "ci").unwrap();
        for host in others {
            allows(&agent, host, &secret);
            assert_eq!(decide(&agent, host, &secret).1, "allow", "now cached");
        }
        let started = Instant::now();
        let (reply, again) = fleet.call_again(0, "POST", &format!("/api/principals/ci/tokens/{id}/revoke"), None);
        assert!(reply.status == 200 || (again && reply.status == 409), "{} {}", reply.status, reply.body);
        wait::report_lag("fleet.revocation", refused_everywhere(&agent, &others, &secret, started));
    }

    for _ in 0..ROUNDS {
        let (id, old) = fleet.token(0, "ci").unwrap();
        for host in others {
            allows(&agent, host, &old);
        }
        let started = Instant::now();
        let reply = fleet.call(0, "PATCH", &format!("/api/principals/ci/tokens/{id}"), Some(json!({"reissue": true})));
        assert_eq!(reply.status, 200, "{}", reply.body);
        wait::report_lag("fleet.reissue", refused_everywhere(&agent, &others, &old, started));
        let new = reply.json()["secret"].as_str().unwrap().to_owned();
        for host in others {
            allows(&agent, host, &new);
        }
    }

    for round in 0..ROUNDS {
        let owner = format!("demoted{round}");
        fleet.principal(&owner).unwrap();
        let (_, secret) = fleet.token(0, &owner).unwrap();
        for host in others {
            allows(&agent, host, &secret);
        }
        let started = Instant::now();
        let body = json!({"grants": ["channel/main=read"]});
        let (reply, again) = fleet.call_again(0, "POST", &format!("/api/principals/{owner}/unbind"), Some(body));
        assert!(reply.status == 200 || (again && reply.status == 404), "{} {}", reply.status, reply.body);
        wait::report_lag("fleet.demotion", refused_everywhere(&agent, &others, &secret, started));
    }

    // A leak reported to one host revokes the secret on every host, as a revocation does.
    for round in 0..ROUNDS / 10 {
        let (_, secret) = fleet.token(0, "ci").unwrap();
        for host in others {
            allows(&agent, host, &secret);
        }
        let started = Instant::now();
        let url = format!("https://github.com/acme/app/blob/{round}/ci.yml");
        let report = json!([{"token": secret, "type": "tokenscope_token", "url": url, "source": "content"}]);
        let reply = fleet.call(0, "POST", "/v1/leaks", Some(report));
        assert_eq!((reply.status, reply.json()[0]["label"].as_str()), (200, Some("true_positive")), "{}", reply.body);
        wait::report_lag("fleet.leak", refused_everywhere(&agent, &others, &secret, started));
    }

    // Every host says it listens, and how late the last notification was.
    let status = fleet.call(2, "GET", "/api/system/fleet", None).json();
    let hosts = status["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 3, "{status}");
    for host in hosts {
        // How late is the lag benchmark's business (`host/benches/lags.sh`); that it is told is this test's.
        assert_eq!(host["listening"], true, "{host}");
        assert!(host["invalidation_lag_ms"].as_u64().is_some(), "{host}");
        assert!(host["heartbeat_age_ms"].as_u64().is_some(), "{host}");
    }
    let metrics = tokenscope_tests::http::send("GET", &fleet.hosts[1].url("/metrics"), &[]).body;
    assert!(metrics.contains("tokenscope_store_listening 1"), "{metrics}");
}

/// Waits until `host` allows `secret`: a miss the store is too slow for is a
/// 503 `store-unavailable` on a busy machine (asked again); any other answer fails.
fn allows(agent: &ureq::Agent, host: &Server, secret: &str) {
    wait::until("the secret allowed", Duration::from_millis(50), || {
        let (status, code) = decide(agent, host, secret);
        assert!(code == "allow" || (status == 503 && code == "store-unavailable"), "refused: {status} {code}");
        code == "allow"
    });
}

/// The `x-tokenscope-policy` of each host, for one check.
fn modules(fleet: &Fleet, agent: &ureq::Agent, secret: &str) -> Vec<String> {
    let headers =
        [("x-original-uri", "/api/repo/main/pkg-1.0.conda"), ("x-original-method", "GET"), ("x-access-token", secret)];
    fleet
        .hosts
        .iter()
        .map(|host| {
            let reply = send_with(agent, "GET", &host.url("/v1/check"), &headers, Vec::new()).unwrap();
            reply.header("x-tokenscope-policy").unwrap_or("").to_owned()
        })
        .collect()
}

/// How long from `started` until every host names `sha256`.
fn all_run(fleet: &Fleet, agent: &ureq::Agent, secret: &str, sha256: &str, started: Instant) -> Duration {
    wait::until(&format!("running {sha256} on every host"), Duration::from_millis(10), || {
        modules(fleet, agent, secret).iter().all(|m| m == sha256)
    });
    started.elapsed()
}

fn a_module_published_through_one_host_runs_on_every_host_and_rollback_is_fleet_wide(via: Via) {
    let mut fleet = Fleet::start(via, 3, "").unwrap();
    let agent = agent();
    fleet.principal("ci").unwrap();
    let (_, secret) = fleet.token(0, "ci").unwrap();
    let original = modules(&fleet, &agent, &secret);
    assert!(original.iter().all(|m| m == &original[0] && !m.is_empty()), "{original:?}");
    let variant = std::fs::read(VARIANT).unwrap();
    let variant_sha = tokenscope::runtime::sha256_hex(&variant);

    let bearer = format!("Bearer {}", fleet.admin);
    let upload = |host: usize, bytes: Vec<u8>| {
        let headers = [("authorization", bearer.as_str()), ("content-type", "application/wasm")];
        send_with(&agent, "POST", &fleet.hosts[host].url("/api/system/policy"), &headers, bytes).unwrap()
    };
    let started = Instant::now();
    let published = upload(1, variant.clone());
    assert_eq!(published.status, 200, "{}", published.body);
    assert_eq!(published.json()["fleet"]["sha256"], variant_sha.as_str(), "{}", published.body);
    wait::report_lag("fleet.publish", all_run(&fleet, &agent, &secret, &variant_sha, started));
    // The status reads the hosts' heartbeats, which follow their swaps.
    let mut status = Value::Null;
    wait::until("every host's heartbeat names the published module", Duration::from_millis(50), || {
        status = fleet.call(0, "GET", "/api/system/fleet", None).json();
        status["hosts"].as_array().is_some_and(|hosts| hosts.iter().all(|h| h["matches_desired"] == true))
    });
    assert_eq!(status["desired"]["sha256"], variant_sha.as_str(), "{status}");

    // A module the gate refuses: 422 at the host it was sent to, and no host changes.
    let refused = upload(2, std::fs::read(HOSTILE_LENIENT).unwrap());
    assert_eq!(refused.status, 422, "{}", refused.body);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(modules(&fleet, &agent, &secret).iter().all(|m| m == &variant_sha));
    let status = fleet.call(1, "GET", "/api/system/fleet", None).json();
    assert_eq!(status["desired"]["sha256"], variant_sha.as_str(), "{status}");

    // Rollback through host C: all three return to their configured module.
    let started = Instant::now();
    let rolled = fleet.call(2, "POST", "/api/system/policy/rollback", None);
    assert_eq!(rolled.status, 200, "{}", rolled.body);
    wait::report_lag("fleet.rollback", all_run(&fleet, &agent, &secret, &original[0], started));
    let status = fleet.call(0, "GET", "/api/system/fleet", None).json();
    assert!(status["desired"].is_null(), "{status}");

    // The CLI publishes and reports, against the same database, with no host involved.
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, &variant).unwrap();
    let started = Instant::now();
    let out = fleet.hosts[0].cli().args(["policy", "publish"]).arg(file.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    all_run(&fleet, &agent, &secret, &variant_sha, started);
    let out = fleet.hosts[0].cli().args(["fleet", "status", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["hosts"].as_array().unwrap().len(), 3, "{status}");
    let hostile = fleet.hosts[0].cli().args(["policy", "publish", HOSTILE_LENIENT]).output().unwrap();
    assert!(!hostile.status.success(), "the CLI gates before it publishes");
    let out = fleet.hosts[0].cli().args(["fleet", "rollback"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    all_run(&fleet, &agent, &secret, &original[0], Instant::now());

    // A host that shuts down cleanly leaves the list at once.
    fleet.hosts[2].stop().unwrap();
    let status = fleet.call(0, "GET", "/api/system/fleet", None).json();
    assert_eq!(status["hosts"].as_array().unwrap().len(), 2, "{status}");
}

/// A decision seen during the outage test: host, which token, status, deny code.
type Decision = (usize, &'static str, u16, String);

fn with_postgresql_killed_mid_traffic_nothing_is_allowed_that_should_be_denied_and_hosts_recover(via: Via) {
    // The default bound: behind pgbouncer, which holds queries for a dead
    // server, the hosts' 503 comes from their own 5 s bound.
    let fleet = Fleet::start_with_default_timeout(via, 3).unwrap();
    fleet.principal("ci").unwrap();
    let (_, good) = fleet.token(0, "ci").unwrap();
    let (revoked_id, revoked) = fleet.token(0, "ci").unwrap();
    assert_eq!(fleet.call(0, "POST", &format!("/api/principals/ci/tokens/{revoked_id}/revoke"), None).status, 200);
    let unknown = "tks_0000000000000000000000000000000000";
    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<Vec<Decision>>> = Arc::default();
    std::thread::scope(|scope| {
        for (i, host) in fleet.hosts.iter().enumerate() {
            let (stop, seen, good, revoked) = (Arc::clone(&stop), Arc::clone(&seen), good.clone(), revoked.clone());
            scope.spawn(move || {
                let agent = agent();
                while !stop.load(Ordering::Relaxed) {
                    for (which, secret) in
                        [("good", good.as_str()), ("revoked", revoked.as_str()), ("unknown", unknown)]
                    {
                        let (status, code) = decide(&agent, host, secret);
                        seen.lock().unwrap().push((i, which, status, code));
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_millis(1000));
        fleet.pg.kill().unwrap();
        std::thread::sleep(Duration::from_secs(3));
        fleet.pg.up().unwrap();
        // Recovery without help: every host allows the good token again.
        let agent = agent();
        let back = Instant::now();
        for host in &fleet.hosts {
            wait::until("recovered by itself", Duration::from_millis(50), || decide(&agent, host, &good).1 == "allow");
        }
        wait::report_lag("fleet.recovery-after-postgresql-restart", back.elapsed());
        stop.store(true, Ordering::Relaxed);
    });
    let seen = seen.lock().unwrap();
    let unavailable = seen.iter().filter(|(_, _, status, code)| *status == 503 && code == "store-unavailable").count();
    for (host, which, status, code) in seen.iter() {
        if *which != "good" {
            assert_ne!(code, "allow", "host {host} allowed the {which} token");
            assert_ne!(*status, 200, "host {host} answered 200 for the {which} token");
        } else {
            assert!(code == "allow" || code == "store-unavailable", "host {host}: {status} {code} for the good token");
        }
    }
    eprintln!("{} decisions while PostgreSQL died and came back; {unavailable} were 503 store-unavailable", seen.len());
    assert!(unavailable > 0, "no host said it could not decide while PostgreSQL was down");
    // And the notifications work again: a revocation now still reaches every host.
    // (Behind pgbouncer a write may first meet a server connection that died
    // with PostgreSQL: 503, and pgbouncer drops it; the next one gets a live one.)
    let mut made = None;
    wait::until("a token made through host 1 after the restart", Duration::from_millis(100), || {
        made = fleet.token(1, "ci").ok();
        made.is_some()
    });
    let (id, secret) = made.unwrap();
    let agent = agent();
    for host in &fleet.hosts {
        assert_eq!(decide(&agent, host, &secret).1, "allow");
    }
    let started = Instant::now();
    assert_eq!(fleet.call(0, "POST", &format!("/api/principals/ci/tokens/{id}/revoke"), None).status, 200);
    let hosts: Vec<&Server> = fleet.hosts.iter().collect();
    wait::report_lag("fleet.revocation-after-restart", refused_everywhere(&agent, &hosts, &secret, started));
}

/// The stored use count of token `id` of `owner`, read through host `i`.
fn uses(fleet: &Fleet, i: usize, owner: &str, id: i64) -> u64 {
    let list = fleet.call(i, "GET", &format!("/api/principals/{owner}/tokens"), None).json();
    list.as_array().unwrap().iter().find(|t| t["id"] == id).unwrap()["use_count"].as_u64().unwrap()
}

fn usage_counts_add_up_across_hosts_and_kill_9_loses_at_most_one_flush_of_the_killed_hosts_counts(via: Via) {
    let extra = "[usage]\nflush_interval = \"1s\"\n[expiry_notifier]\ninterval = \"1s\"\n";
    let mut fleet = Fleet::start(via, 3, extra).unwrap();
    fleet.principal("ci").unwrap();
    let (id, secret) = fleet.token(0, "ci").unwrap();

    // All three count the same token at once: nothing is lost or counted twice.
    std::thread::scope(|scope| {
        for host in &fleet.hosts {
            let secret = secret.clone();
            scope.spawn(move || {
                let agent = agent();
                for _ in 0..300 {
                    assert_eq!(decide(&agent, host, &secret).1, "allow");
                }
            });
        }
    });
    wait::until("900 uses stored", Duration::from_millis(100), || uses(&fleet, 0, "ci", id) == 900);

    // Host A counts steadily and is killed with SIGKILL; B counts meanwhile.
    let sent_at: Mutex<Vec<Instant>> = Mutex::default();
    let killed_at = std::thread::scope(|scope| {
        let b = &fleet.hosts[1];
        let secret_b = secret.clone();
        let by_b = scope.spawn(move || {
            let agent = agent();
            for _ in 0..200 {
                assert_eq!(decide(&agent, b, &secret_b).1, "allow");
            }
        });
        let agent = agent();
        let a = &fleet.hosts[0];
        let until = Instant::now() + Duration::from_millis(3200);
        while Instant::now() < until {
            assert_eq!(decide(&agent, a, &secret).1, "allow");
            sent_at.lock().unwrap().push(Instant::now());
            std::thread::sleep(Duration::from_millis(2));
        }
        let pid = fleet.hosts[0].child.id().to_string();
        assert!(std::process::Command::new("kill").args(["-KILL", &pid]).status().unwrap().success());
        let killed_at = Instant::now();
        by_b.join().unwrap();
        killed_at
    });
    // B and C stop cleanly (they flush); A's last second is what may be lost.
    fleet.hosts[1].stop().unwrap();
    fleet.hosts[2].stop().unwrap();
    let sent = sent_at.lock().unwrap();
    let a_total = sent.len() as u64;
    let a_last_interval =
        sent.iter().filter(|t| killed_at.duration_since(**t) <= Duration::from_millis(1200)).count() as u64;
    let out = fleet.hosts[2].cli().args(["token", "list", "--owner", "ci", "--json"]).output().unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stored = listed.as_array().unwrap().iter().find(|t| t["id"] == id).unwrap()["use_count"].as_u64().unwrap();
    let others = 900 + 200;
    eprintln!(
        "kill -9 mid-flush: stored {stored}; others counted {others}; A counted {a_total}, {a_last_interval} in its last 1.2 s"
    );
    assert!(stored >= others, "other hosts' counts were lost: {stored} < {others}");
    assert!(stored <= others + a_total, "counted more uses than there were: {stored}");
    assert!(others + a_total - stored <= a_last_interval, "A lost more than one flush interval of counts");

    // Expiry warnings: every token expires within the window; each is warned by one host only.
    let logs: String = fleet.hosts.iter().map(Server::log).collect();
    let warned = logs.matches(&format!("(ID {id}) will expire")).count();
    assert_eq!(warned, 1, "the token was warned about {warned} times by the fleet");
}

fn a_change_made_while_the_hosts_notification_connections_are_cut_is_not_lost(via: Via) {
    let fleet = Fleet::start(via, 3, "").unwrap();
    let agent = agent();
    fleet.principal("ci").unwrap();
    let db = fleet.url.rsplit('/').next().unwrap().to_owned();
    let hosts: Vec<&Server> = fleet.hosts.iter().collect();
    for round in 0..5 {
        let (id, secret) = fleet.token(0, "ci").unwrap();
        for host in &hosts {
            assert_eq!(decide(&agent, host, &secret).1, "allow");
        }
        // Every host listens again (after the last round's cut)...
        let listening = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tokenscope-listen'";
        wait::until(&format!("listening on every host again (round {round})"), Duration::from_millis(20), || {
            fleet.pg.sql(&db, listening).unwrap() == "3"
        });
        // ...then cut every host's LISTEN connection, and revoke before they are back.
        let cut = fleet
            .pg
            .sql(
                &db,
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE application_name = 'tokenscope-listen'",
            )
            .unwrap();
        // On a busy machine the count moves under us both ways: a backend the
        // last round terminated may still be on its way out (counted again), and
        // a host whose probe went unanswered drops its connection by itself
        // (not counted, and just as deaf). Either way no host listens now.
        assert!(cut.parse::<u32>().is_ok_and(|n| n >= 1), "round {round}: {cut} listening connections cut");
        let started = Instant::now();
        assert_eq!(fleet.call(1, "POST", &format!("/api/principals/ci/tokens/{id}/revoke"), None).status, 200);
        wait::report_lag("fleet.revocation-while-deaf", refused_everywhere(&agent, &hosts, &secret, started));
    }
    // They listen again, by themselves.
    wait::until("listening, by the fleet's status", Duration::from_millis(100), || {
        let status = fleet.call(0, "GET", "/api/system/fleet", None).json();
        let hosts = status["hosts"].as_array().cloned().unwrap_or_default();
        hosts.len() == 3 && hosts.iter().all(|h| h["listening"] == true)
    });
}

fn a_host_whose_gate_refuses_the_published_module_keeps_its_own_and_says_why(via: Via) {
    // Hosts A and B accept modules without test vectors; host C (the default) does not.
    let lenient = "[policy]\nrequire_vectors = false\n";
    let fleet = Fleet::start_each(via, &[lenient, lenient, ""]).unwrap();
    let agent = agent();
    fleet.principal("ci").unwrap();
    let (_, secret) = fleet.token(0, "ci").unwrap();
    let original = modules(&fleet, &agent, &secret)[2].clone();
    // The default policy without its vectors section.
    let default = tokenscope::runtime::DEFAULT_POLICY;
    let text = tokenscope::runtime::embedded_vectors(default).unwrap().unwrap();
    let size = 1 + tokenscope::runtime::VECTORS_SECTION.len() + text.len();
    let leb = (1..).find(|n| size < 1 << (7 * n)).unwrap();
    let bare = default[..default.len() - 1 - leb - size].to_vec();
    let bare_sha = tokenscope::runtime::sha256_hex(&bare);

    let bearer = format!("Bearer {}", fleet.admin);
    let headers = [("authorization", bearer.as_str()), ("content-type", "application/wasm")];
    let published = send_with(&agent, "POST", &fleet.hosts[0].url("/api/system/policy"), &headers, bare).unwrap();
    assert_eq!(published.status, 200, "{}", published.body);
    let started = Instant::now();
    loop {
        let now = modules(&fleet, &agent, &secret);
        let status = fleet.call(1, "GET", "/api/system/fleet", None).json();
        let c = status["hosts"].as_array().unwrap().iter().find(|h| h["active_sha256"] == original.as_str()).cloned();
        let said = c.as_ref().and_then(|c| c["refused"].as_str()).is_some_and(|why| why.contains("no test vectors"));
        if now[0] == bare_sha && now[1] == bare_sha && said {
            assert_eq!(now[2], original, "host C keeps its module");
            assert_eq!(c.unwrap()["matches_desired"], false);
            break;
        }
        assert!(started.elapsed() < wait::DEADLINE, "{now:?}\n{status}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // C keeps serving with its own module; nothing else changed there.
    assert_eq!(decide(&agent, &fleet.hosts[2], &secret).1, "allow");
    assert!(fleet.hosts[2].log().contains("policy refused by the gate"), "{}", fleet.hosts[2].log());
}

/// Every fleet test twice: the hosts' pools straight to PostgreSQL, and
/// through pgbouncer in transaction mode (the listening connections direct).
macro_rules! both_ways {
    ($($name:ident),* $(,)?) => {
        mod direct {
            $(#[test] fn $name() { super::$name(super::Via::Direct) })*
        }
        mod through_pgbouncer {
            $(#[test] fn $name() { super::$name(super::Via::PgBouncer) })*
        }
    };
}

both_ways!(
    revocations_reissues_and_demotions_through_one_host_reach_every_host,
    a_module_published_through_one_host_runs_on_every_host_and_rollback_is_fleet_wide,
    with_postgresql_killed_mid_traffic_nothing_is_allowed_that_should_be_denied_and_hosts_recover,
    usage_counts_add_up_across_hosts_and_kill_9_loses_at_most_one_flush_of_the_killed_hosts_counts,
    a_change_made_while_the_hosts_notification_connections_are_cut_is_not_lost,
    a_host_whose_gate_refuses_the_published_module_keeps_its_own_and_says_why
);

/// A fleet where one host trusts a key and two require no signature: a module
/// published unsigned runs on the two and is refused by the third (which says
/// why and keeps its own); signed by the key, it runs on all three, and each
/// host's heartbeat names who signed what it runs. The CLI publishing with the
/// trusting host's config refuses the unsigned module before the store sees it.
#[test]
fn a_host_that_trusts_a_key_runs_only_what_that_key_signed() {
    let keys_dir = tempfile::tempdir().unwrap();
    let keys = tokenscope_tests::signing::openssl_pem(keys_dir.path(), "ci").unwrap();
    let key_id = tokenscope::signing::TrustedKeys::load(std::slice::from_ref(&keys.public)).unwrap().ids().remove(0);
    let trusting = format!("[policy.trust]\nkeys = [\"{}\"]\n", keys.public.display());
    let fleet = Fleet::start_each(Via::Direct, &["", "", &trusting]).unwrap();
    let agent = agent();
    fleet.principal("ci").unwrap();
    let (_, secret) = fleet.token(0, "ci").unwrap();
    let original = modules(&fleet, &agent, &secret)[2].clone();
    let variant = tokenscope_tests::modules::bytes(VARIANT);
    let signed = tokenscope_tests::signing::sign(&variant, &keys.private).unwrap();
    let (variant_sha, signed_sha) =
        (tokenscope::runtime::sha256_hex(&variant), tokenscope::runtime::sha256_hex(&signed));
    let bearer = format!("Bearer {}", fleet.admin);
    let headers = [("authorization", bearer.as_str()), ("content-type", "application/wasm")];
    let publish = |module: &[u8]| {
        let reply = send_with(&agent, "POST", &fleet.hosts[0].url("/api/system/policy"), &headers, module.to_vec());
        let reply = reply.unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
    };
    let signer_of = |status: &Value, sha: &str| {
        status["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["active_sha256"] == sha)
            .map(|h| h["active_signer"].clone())
    };

    publish(&variant);
    wait::until("the trusting host refuses the unsigned module and says why", Duration::from_millis(50), || {
        let now = modules(&fleet, &agent, &secret);
        let status = fleet.call(1, "GET", "/api/system/fleet", None).json();
        let c = status["hosts"].as_array().unwrap().iter().find(|h| h["active_sha256"] == original.as_str()).cloned();
        let said = c.as_ref().and_then(|c| c["refused"].as_str()).is_some_and(|why| why.contains("unsigned-module"));
        now[0] == variant_sha && now[1] == variant_sha && now[2] == original && said
    });
    assert!(fleet.hosts[2].log().contains("unsigned-module"), "{}", fleet.hosts[2].log());
    assert_eq!(decide(&agent, &fleet.hosts[2], &secret).1, "allow", "the trusting host serves on with its own module");
    wait::until("heartbeats name the signers", Duration::from_millis(50), || {
        let status = fleet.call(1, "GET", "/api/system/fleet", None).json();
        signer_of(&status, &variant_sha) == Some(json!("unsigned"))
            && signer_of(&status, &original) == Some(json!("embedded"))
    });

    // The CLI with the trusting host's config refuses before it publishes.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &variant).unwrap();
    let out = fleet.hosts[2].cli().args(["policy", "publish"]).arg(file.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsigned-module"));

    // Signed by the trusted key, it runs everywhere.
    publish(&signed);
    wait::until("every host runs the signed module", Duration::from_millis(50), || {
        modules(&fleet, &agent, &secret).iter().all(|sha| *sha == signed_sha)
    });
    wait::until("the trusting host's heartbeat names the key", Duration::from_millis(50), || {
        let status = fleet.call(1, "GET", "/api/system/fleet", None).json();
        let signers: Vec<Value> =
            status["hosts"].as_array().unwrap().iter().map(|h| h["active_signer"].clone()).collect();
        signers.contains(&json!(key_id)) && signers.iter().filter(|s| **s == json!("not-checked")).count() == 2
    });
    let out = fleet.hosts[2].cli().args(["fleet", "status"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&key_id), "{}", String::from_utf8_lossy(&out.stdout));
}
