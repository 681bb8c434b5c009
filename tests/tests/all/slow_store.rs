//! A slow or gone database holds up only the checks that need it: a real
//! `tokenscope serve` with one serving thread, its pool reaching a real
//! PostgreSQL through a TCP proxy the test holds and cuts (the listening
//! connection goes direct, `store.listen_url`). While a cache miss waits for
//! the held database, cached checks on the same thread keep being answered;
//! past `server.store_waits` a miss is refused at once; with the database cut
//! nothing is allowed that should not be, and the host recovers by itself.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokenscope_tests::http::send;
use tokenscope_tests::metrics::sample;
use tokenscope_tests::postgres::Postgres;
use tokenscope_tests::routes::ROUTES;
use tokenscope_tests::server::{Server, init};
use tokenscope_tests::tcp_proxy::TcpProxy;

struct Setup {
    server: Server,
    proxy: TcpProxy,
    /// The database itself, not through the proxy.
    direct: String,
}

/// A server with one serving thread whose pool goes through the proxy.
fn setup(store_waits: usize) -> Setup {
    let pg = Postgres::shared().unwrap();
    let direct = pg.database().unwrap();
    let proxy = TcpProxy::start(SocketAddr::from(([127, 0, 0, 1], pg.port()))).unwrap();
    let proxied = direct.replacen(&format!(":{}/", pg.port()), &format!(":{}/", proxy.port), 1);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tokenscope.toml");
    let text = format!(
        "[store]\nurl = \"{proxied}\"\nlisten_url = \"{direct}\"\n[server]\nworkers = 1\nstore_waits = {store_waits}\n\
         [cache]\nrefresh = \"500ms\"\n[log]\ndecisions = \"none\"\n{ROUTES}"
    );
    std::fs::write(&config, text).unwrap();
    let admin = init(&config).unwrap();
    Setup { server: Server::spawn(dir, admin).unwrap(), proxy, direct }
}

/// `/v1/check` for a download from channel/main: (status, deny code).
fn check(server: &Server, secret: &str) -> (u16, String) {
    let auth = format!("Bearer {secret}");
    let headers = [
        ("x-original-method", "GET"),
        ("x-original-uri", "/api/repo/main/noarch/pkg.conda"),
        ("authorization", auth.as_str()),
    ];
    let reply = send("GET", &server.url("/v1/check"), &headers);
    (reply.status, reply.header("x-tokenscope-deny-code").unwrap_or("").to_owned())
}

/// Waits (30 s at most) until `done` holds; panics with the server's log.
fn until(server: &Server, what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(30), "never: {what}\nthe server's log:\n{}", server.log());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What `/metrics` says the check caches hold of `cache` (`tokens`, `owners`).
fn cache_entries(server: &Server, cache: &str) -> u64 {
    let metrics = send("GET", &server.url("/metrics"), &[]).body;
    sample(&metrics, &format!("tokenscope_cache_entries{{cache=\"{cache}\"}}")).unwrap_or(0)
}

/// Asks for `secret` until its token and its owner's rights are held in memory
/// and still are past the caches' staleness bound (twice `cache.refresh`): an
/// allow alone may come from a store read whose result a late-seen write kept
/// out of the caches, and then a held store would hold up the "cached" check.
fn warm(server: &Server, secret: &str) {
    let mut held_since: Option<Instant> = None;
    until(server, "the token is allowed and stays in the caches", || {
        let cached = check(server, secret).0 == 200
            && cache_entries(server, "tokens") >= 1
            && cache_entries(server, "owners") >= 1;
        match (cached, held_since) {
            (false, _) => {
                held_since = None;
                false
            }
            (true, None) => {
                held_since = Some(Instant::now());
                false
            }
            (true, Some(since)) => since.elapsed() > Duration::from_millis(1500),
        }
    });
}

/// A token of `owner` made by the CLI (through the proxy): (secret, id).
fn token(s: &Setup, owner: &str) -> (String, String) {
    let mut create = s.server.cli();
    create.args(["token", "create", "--owner", owner, "--name", "t", "--json", "--scope", "artifact:download"]);
    let out = create.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (made["secret"].as_str().unwrap().to_owned(), made["id"].to_string())
}

fn principal(s: &Setup, name: &str) {
    let out = s.server.cli().args(["principal", "add", name, "--grant", "channel/main=read"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_held_database_holds_up_only_the_checks_that_need_it() {
    let s = setup(64);
    principal(&s, "ci");
    let (cached, _) = token(&s, "ci");
    let (fresh, _) = token(&s, "ci");
    // Another process's write empties the caches: warm them after the last one.
    warm(&s.server, &cached);

    s.proxy.hold();
    let (server_url, fresh_secret) = (s.server.base.clone(), fresh.clone());
    let (answered, answer) = mpsc::channel();
    let waiting = std::thread::spawn(move || {
        let auth = format!("Bearer {fresh_secret}");
        let headers = [
            ("x-original-method", "GET"),
            ("x-original-uri", "/api/repo/main/noarch/pkg.conda"),
            ("authorization", auth.as_str()),
        ];
        let reply = send("GET", &format!("{server_url}/v1/check"), &headers);
        let _ = answered.send(reply.status);
    });
    // The miss's lookup waits at the held proxy: its hash as a parameter, or
    // (on a connection that never looked a token up) the lookup's statement.
    let hash = tokenscope::secret::Secret::hash_of(&fresh).unwrap();
    until(&s.server, "the miss's lookup is held", || s.proxy.holds(&hash.0) || s.proxy.holds(b"t.secret_sha256 = $1"));
    // The one serving thread keeps answering what memory can decide meanwhile
    // (inline, the lookup would hold the thread until the store's 5 s timeout).
    // On a busy machine a probe of the listening connection may come later than
    // the caches' bound (twice `cache.refresh`): that check then waits for the
    // held store like a miss, so it is not counted, and the next is asked.
    let mut answered_meanwhile = 0;
    until(&s.server, "five cached checks answered while the miss is held", || {
        answered_meanwhile += usize::from(check(&s.server, &cached) == (200, String::new()));
        answered_meanwhile >= 5
    });
    assert!(answer.try_recv().is_err(), "the cached checks were answered only after the miss gave up");
    s.proxy.release();
    let status = answer.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(status == 200 || status == 503, "the held miss completes or fails closed: {status}");
    waiting.join().unwrap();
    until(&s.server, "the new token is allowed", || check(&s.server, &fresh).0 == 200);
}

#[test]
fn past_store_waits_a_miss_is_refused_at_once_not_queued() {
    let s = setup(2);
    principal(&s, "ci");
    let (cached, _) = token(&s, "ci");
    warm(&s.server, &cached);
    s.proxy.hold();
    let (answered, answers) = mpsc::channel();
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let (base, answered) = (s.server.base.clone(), answered.clone());
            let unknown = tokenscope::secret::Secret::generate().unwrap().expose().to_owned();
            std::thread::spawn(move || {
                let auth = format!("Bearer {unknown}");
                let headers = [
                    ("x-original-method", "GET"),
                    ("x-original-uri", "/api/repo/main/noarch/pkg.conda"),
                    ("authorization", auth.as_str()),
                ];
                let reply = send("GET", &format!("{base}/v1/check"), &headers);
                let code = reply.header("x-tokenscope-deny-code").unwrap_or("").to_owned();
                let message = reply.json()["message"].as_str().unwrap_or("").to_owned();
                let _ = answered.send((reply.status, code, message));
            })
        })
        .collect();
    // Two wait for the database; the other four are answered while it is still held.
    let mut early = Vec::new();
    for _ in 0..4 {
        early.push(answers.recv_timeout(Duration::from_secs(30)).unwrap());
    }
    // The two waiting misses' lookups are (or soon are, on a busy machine) held at the proxy.
    until(&s.server, "the waiting misses' lookups are held", || s.proxy.held() > 0);
    // Refused for the queue, not after waiting for the database themselves.
    let at_once = |(status, code, message): &(u16, String, String)| {
        *status == 503 && code == "store-unavailable" && message.contains("too many checks wait")
    };
    assert!(early.iter().all(at_once), "{early:?}");
    // Cached checks go on meanwhile (one that came past the caches' bound on a
    // busy machine is refused for the full queue like a miss: asked again).
    let mut last = (0, String::new());
    until(&s.server, "a cached check answered while the queue is full", || {
        let answer = check(&s.server, &cached);
        if answer != last {
            eprintln!("the cached check: {answer:?}");
            last = answer;
        }
        last == (200, String::new())
    });
    s.proxy.release();
    for _ in 0..2 {
        let (status, code, _) = answers.recv_timeout(Duration::from_secs(30)).unwrap();
        assert!(status == 401 && code == "unknown-token" || status == 503, "{status} {code}");
    }
    for thread in threads {
        thread.join().unwrap();
    }
}

#[test]
fn a_cut_database_is_503_never_an_allow_and_the_host_recovers() {
    let s = setup(64);
    principal(&s, "ci");
    let (cached, id) = token(&s, "ci");
    let (fresh, _) = token(&s, "ci");
    warm(&s.server, &cached);

    s.proxy.cut();
    assert_eq!(check(&s.server, &fresh), (503, "store-unavailable".to_owned()), "a miss with the database cut");
    // Revoked beside the cut path: the notification comes over the direct connection.
    let out = s.server.cli().args(["--store", &s.direct, "token", "revoke", &id]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    until(&s.server, "the revocation is noticed", || check(&s.server, &cached).0 != 200);
    for _ in 0..20 {
        let (status, code) = check(&s.server, &cached);
        assert_ne!(status, 200, "a revoked token was allowed while the database was cut");
        assert!(status == 503 || code == "revoked", "{status} {code}");
    }
    s.proxy.release();
    until(&s.server, "the host answers from the database again", || {
        check(&s.server, &cached) == (401, "revoked".to_owned())
    });
    until(&s.server, "the new token is allowed", || check(&s.server, &fresh).0 == 200);
}
