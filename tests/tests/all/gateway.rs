//! The `wasi:http` gateway under a real `wasmtime serve` (the wasmtime CLI 49
//! from PyPI) and, for filter and check mode, under a second `wasi:http` host,
//! jco's `jco serve` in Node; beside a real `tokenscope serve` that it introspects and in
//! front of, or behind, a real nginx: filter mode forwards allowed requests with
//! the identity headers and answers denials itself; check mode answers as
//! `/v1/check` does, request for request; with instance reuse, revocations,
//! reissues and owner demotions take effect within the staleness bound, and a
//! dead server is 503, never an allow; a gateway built with another policy
//! decides as that policy does.

use std::path::PathBuf;
use std::time::Duration;

use tokenscope_tests::http::{Reply, send};
use tokenscope_tests::jco_serve::JcoServe;
use tokenscope_tests::modules::{HOSTILE, HOSTILE_LENIENT, VARIANT};
use tokenscope_tests::nginx::Nginx;
use tokenscope_tests::server::Server;
use tokenscope_tests::wait;
use tokenscope_tests::wasmtime_serve::WasmtimeServe;

const CONFIG: &str = r#"
[tokens]
allow_no_expiry = true

[check]
convention = "nginx"
public_prefixes = ["/public"]

[[check.routes]]
method = "GET"
path = "/api/repo/{channel}/{file}"
action = "artifact:download"
resource = "channel/{channel}/artifact/{file}"

[[check.routes]]
method = "GET"
path = "/api/t/{token}/{channel}/{file}"
action = "artifact:download"
resource = "channel/{channel}/artifact/{file}"
token_param = "token"

[[check.routes]]
method = "POST"
path = "/api/upload/{channel}/{file}"
action = "artifact:create"
resource = "channel/{channel}/artifact/{file}"
"#;

/// A server with the routes above, its gateway token and a CI token.
struct Setup {
    server: Server,
    gateway_token: String,
    ci: String,
}

fn setup() -> Setup {
    let server = Server::start(CONFIG).unwrap();
    let gateway_token = server.issue("gateway", "/=manage", &["--scope", "system.tokens:introspect"]).unwrap();
    let ci = server.issue("ci", "channel/main=write", &["--scope", "artifact:download"]).unwrap();
    Setup { server, gateway_token, ci }
}

impl Setup {
    /// `tokenscope gateway build` with `args`; the component's path.
    fn build(&self, name: &str, args: &[&str]) -> PathBuf {
        let out = self.server.dir.path().join(format!("{name}.wasm"));
        let done = self
            .server
            .cli()
            .args(["gateway", "build", "--introspect-url", &self.server.base, "-o"])
            .arg(&out)
            .args(args)
            .env("TOKENSCOPE_GATEWAY_TOKEN", &self.gateway_token)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&done.stdout);
        assert!(done.status.success(), "gateway build {args:?}: {}", String::from_utf8_lossy(&done.stderr));
        assert!(stdout.contains("composed in"), "{stdout}");
        let mode = std::fs::metadata(&out).unwrap();
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777, 0o600, "it holds a token");
        out
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = self.server.cli().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Issues `owner` (bound `rights`) a token with `args`; its id and secret.
    fn token(&self, owner: &str, rights: &str, args: &[&str]) -> (String, String) {
        let secret = self.server.issue(owner, rights, args).unwrap();
        (self.id_of(owner), secret)
    }

    /// The id of `owner`'s newest token.
    fn id_of(&self, owner: &str) -> String {
        let list: serde_json::Value =
            serde_json::from_str(&self.cli(&["token", "list", "--owner", owner, "--json"])).unwrap();
        list.as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).max().unwrap().to_string()
    }

    /// Introspections answered so far (found and unknown), from `/metrics`.
    fn introspections(&self) -> u64 {
        let metrics = send("GET", &self.server.url("/metrics"), &[]).body;
        ["found", "unknown"]
            .iter()
            .filter_map(|outcome| {
                tokenscope_tests::metrics::sample(
                    &metrics,
                    &format!("tokenscope_gateway_requests_total{{outcome=\"{outcome}\"}}"),
                )
            })
            .sum()
    }
}

/// The `wasi:http` host a test runs the gateway under.
#[derive(Clone, Copy)]
enum Runtime {
    Wasmtime,
    Jco,
}

/// A gateway being served: dropping it stops the host.
struct Served {
    _host: Box<dyn std::any::Any>,
    base: String,
}

impl Served {
    /// Serves `wasm` under `runtime`, a new instance per request.
    fn start(runtime: Runtime, wasm: &std::path::Path) -> Served {
        match runtime {
            Runtime::Wasmtime => {
                let host = WasmtimeServe::start(wasm, 1).unwrap();
                Served { base: host.base.clone(), _host: Box::new(host) }
            }
            Runtime::Jco => {
                let work = wasm.parent().unwrap();
                let host = JcoServe::start(wasm, work, true).unwrap();
                Served { base: host.base.clone(), _host: Box::new(host) }
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn bearer(secret: &str) -> String {
    format!("Bearer {secret}")
}

/// (status, deny code) of an answer.
fn outcome(reply: &Reply) -> (u16, String) {
    (reply.status, reply.header("x-tokenscope-deny-code").unwrap_or("").to_owned())
}

/// Asks through check mode's nginx convention.
fn check(base: &str, method: &str, uri: &str, secret: Option<&str>) -> Reply {
    let auth = secret.map(bearer);
    let mut headers = vec![("x-original-method", method), ("x-original-uri", uri)];
    if let Some(auth) = &auth {
        headers.push(("authorization", auth));
    }
    send("GET", &format!("{base}/v1/check"), &headers)
}

/// Polls `answer` until it gives `want`; how long it took.
fn until(want: (u16, &str), mut answer: impl FnMut() -> (u16, String)) -> Duration {
    wait::until(&format!("{want:?}"), Duration::from_millis(20), || {
        let got = answer();
        (got.0, got.1.as_str()) == want
    })
}

#[test]
fn filter_mode_forwards_allowed_requests_to_nginx_and_answers_denials_itself() {
    filter_mode_under(Runtime::Wasmtime);
}

#[test]
fn filter_mode_under_jco_serve_forwards_and_denies_as_under_wasmtime() {
    filter_mode_under(Runtime::Jco);
}

fn filter_mode_under(runtime: Runtime) {
    let s = setup();
    let nginx = Nginx::start(&s.server.base).unwrap();
    let wasm = s.build("filter", &["--mode", "filter", "--upstream", &nginx.upstream]);
    let serve = Served::start(runtime, &wasm);
    let ci_id = s.id_of("ci");
    let get = |path: &str, headers: &[(&str, &str)]| send("GET", &serve.url(path), headers);

    // Allowed: the upstream sees the identity, never a client's forged one.
    let auth = bearer(&s.ci);
    let allowed = get("/api/repo/main/pkg-1.0.conda?x=1", &[("authorization", &auth), ("x-tokenscope-owner", "admin")]);
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    assert_eq!(allowed.body.trim(), format!("upstream GET /api/repo/main/pkg-1.0.conda token={ci_id} owner=ci"));
    let in_path = get(&format!("/api/t/{}/main/pkg.conda", s.ci), &[]);
    assert_eq!(
        (in_path.status, in_path.body.trim()),
        (200, &*format!("upstream GET /api/t/{}/main/pkg.conda token={ci_id} owner=ci", s.ci))
    );
    let public = get("/public/readme.txt", &[]);
    assert_eq!(public.body.trim(), "upstream GET /public/readme.txt token= owner=", "public paths need no token");

    // A body is streamed on: the token holds only downloads, so uploads are 403 here.
    let upload = tokenscope_tests::http::send_with(
        &tokenscope_tests::http::agent(),
        "POST",
        &serve.url("/api/upload/main/pkg.conda"),
        &[("authorization", &auth)],
        vec![7; 100_000],
    )
    .unwrap();
    assert_eq!(outcome(&upload), (403, "no-grant".into()), "{}", upload.body);
    let (_, writer) = s.token("uploader", "channel/main=write", &["--scope", "artifact:create"]);
    let upload = tokenscope_tests::http::send_with(
        &tokenscope_tests::http::agent(),
        "POST",
        &serve.url("/api/upload/main/pkg.conda"),
        &[("authorization", &bearer(&writer))],
        vec![7; 100_000],
    )
    .unwrap();
    assert_eq!(upload.status, 200, "{}", upload.body);
    let writer_id = s.id_of("uploader");
    assert_eq!(
        upload.body.trim(),
        format!("received POST /received/api/upload/main/pkg.conda length=100000 token={writer_id}"),
        "the whole body reached the upstream"
    );

    // Denials, each with its code; nothing reaches the upstream.
    let (_, other) = s.token("other", "channel/other=manage", &["--resource", "channel/other=read"]);
    let denied = get("/api/repo/main/pkg.conda", &[("authorization", &bearer(&other))]);
    assert_eq!(outcome(&denied), (403, "no-grant".into()), "{}", denied.body);
    assert!(!denied.body.contains("upstream"));
    assert_eq!(outcome(&get("/api/repo/main/pkg.conda", &[])), (401, "missing-token".into()));
    assert_eq!(outcome(&get("/nowhere", &[("authorization", &auth)])), (403, "unmapped-route".into()));
    let (gone_id, gone) = s.token("gone", "channel/main=read", &["--scope", "artifact:download"]);
    s.cli(&["token", "delete", &gone_id]);
    assert_eq!(outcome(&get("/api/repo/main/p", &[("authorization", &bearer(&gone))])), (401, "unknown-token".into()));
    let (_, short) = s.token("short", "channel/main=read", &["--scope", "artifact:download", "--ttl", "1s"]);
    std::thread::sleep(Duration::from_millis(2_100));
    assert_eq!(outcome(&get("/api/repo/main/p", &[("authorization", &bearer(&short))])), (401, "expired".into()));
    let (revoked_id, revoked) =
        s.token("revoked", "channel/main=read", &["--scope", "artifact:download", "--scope", "user.token:edit"]);
    let by_api = send(
        "POST",
        &s.server.url(&format!("/api/account/tokens/{revoked_id}/revoke")),
        &[("authorization", &bearer(&revoked))],
    );
    assert_eq!(by_api.status, 200, "{}", by_api.body);
    assert_eq!(outcome(&get("/api/repo/main/p", &[("authorization", &bearer(&revoked))])), (401, "revoked".into()));

    // Malformed secrets are refused before any call to the server.
    let before = s.introspections();
    let mut tampered = s.ci.clone();
    tampered.pop();
    tampered.push(if s.ci.ends_with('A') { 'B' } else { 'A' });
    for bad in ["tks_short", "not-a-token", &tampered, &format!("{}x", s.ci)] {
        let reply = get("/api/repo/main/p", &[("authorization", &bearer(bad))]);
        assert_eq!(outcome(&reply), (401, "malformed-token".into()), "{bad}");
    }
    assert_eq!(s.introspections(), before, "a malformed secret costs no introspection");
    assert!(before >= 5, "the valid ones were introspected: {before}");
}

#[test]
fn filter_mode_drops_client_headers_that_frameworks_read_as_the_identity_headers() {
    // CGI, WSGI, PHP and many frameworks fold `X_Tokenscope_Owner` into the same
    // variable as `x-tokenscope-owner`: no spelling of one reaches the upstream.
    let s = setup();
    let upstream = tokenscope_tests::upstream::RecordingUpstream::start().unwrap();
    let wasm = s.build("filter-underscores", &["--mode", "filter", "--upstream", &upstream.url]);
    let serve = WasmtimeServe::start(&wasm, 1).unwrap();
    let auth = bearer(&s.ci);
    let forged = [
        ("X_Tokenscope_Owner", "admin"),
        ("x_tokenscope_token_id", "1"),
        ("X-TOKENSCOPE_OWNER", "admin"),
        ("x-tokenscope_owner", "admin"),
        ("X-Tokenscope-Owner", "admin"),
    ];
    let mut headers = vec![("authorization", auth.as_str())];
    headers.extend(forged);
    let reply = send("GET", &serve.url("/api/repo/main/pkg-1.0.conda"), &headers);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let seen = upstream.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let identity: Vec<(String, String)> = seen[0]
        .headers
        .iter()
        .filter(|(name, _)| name.to_ascii_lowercase().replace('_', "-").starts_with("x-tokenscope-"))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
        .collect();
    let mut want =
        vec![("x-tokenscope-owner".to_owned(), "ci".to_owned()), ("x-tokenscope-token-id".to_owned(), s.id_of("ci"))];
    let mut got = identity.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want, "only the gateway's own identity headers: {:?}", seen[0].headers);
}

#[test]
fn check_mode_answers_every_request_as_the_check_endpoint_does() {
    check_mode_under(Runtime::Wasmtime);
}

#[test]
fn check_mode_under_jco_serve_answers_as_the_check_endpoint_does() {
    check_mode_under(Runtime::Jco);
}

fn check_mode_under(runtime: Runtime) {
    let s = setup();
    let wasm = s.build("check", &[]);
    let serve = Served::start(runtime, &wasm);
    let (_, reader) = s.token("reader", "channel/main=manage", &["--resource", "channel/main=read"]);
    let (_, demoted) = s.token("demoted", "channel/main=read", &["--scope", "artifact:download"]);
    s.cli(&["principal", "unbind", "demoted", "--grant", "channel/main=read"]);
    let (ci, reader, demoted) = (Some(s.ci.as_str()), Some(reader.as_str()), Some(demoted.as_str()));
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("GET", "/api/repo/main/pkg.conda", ci),
        ("GET", "/api/repo/main/pkg.conda?download=1", reader),
        ("get", "/api/repo/main/pkg.conda", ci),
        ("GET", "/api/repo/other/pkg.conda", ci),
        ("GET", "/api/repo/main/pkg.conda", demoted),
        ("POST", "/api/upload/main/pkg.conda", ci),
        ("GET", "/api/repo/main/pkg.conda", None),
        ("GET", "/api/repo/main/pkg.conda", Some("tks_nope")),
        ("GET", "/public/x", None),
        ("GET", "/publicity", None),
        ("GET", "/api/repo/main/../other/pkg.conda", ci),
        ("GET", "/api/repo/main/%2e%2e/x", ci),
        ("GET", "/api/repo/main%2Fother/x", ci),
        ("GET", "/api/repo//main/x", ci),
        ("GET", "/api/repo/main/x\\y", ci),
        ("G3T", "/api/repo/main/x", ci),
        ("GET", "relative/path", ci),
        ("GET", "/nowhere", ci),
    ];
    for (method, uri, secret) in cases {
        let ours = check(&serve.base, method, uri, *secret);
        let host = check(&s.server.base, method, uri, *secret);
        assert_eq!(outcome(&ours), outcome(&host), "{method} {uri}: gateway {} / host {}", ours.body, host.body);
        if ours.status == 200 && secret.is_some() {
            assert_eq!(ours.header("x-tokenscope-owner"), host.header("x-tokenscope-owner"));
            assert_eq!(ours.header("x-tokenscope-token-id"), host.header("x-tokenscope-token-id"));
        }
        assert_eq!(ours.header("x-tokenscope-policy"), host.header("x-tokenscope-policy"), "the same module");
    }
    // Headers that make a request ambiguous are refused by both alike.
    let two = send(
        "GET",
        &serve.url("/v1/check"),
        &[
            ("x-original-method", "GET"),
            ("x-original-uri", "/api/repo/main/x"),
            ("authorization", &bearer(&s.ci)),
            ("x-access-token", &s.ci),
        ],
    );
    assert_eq!(outcome(&two), (400, "bad-request".into()), "{}", two.body);
}

#[test]
fn nginx_auth_request_asks_the_gateway_in_check_mode() {
    let s = setup();
    let wasm = s.build("check", &[]);
    let serve = WasmtimeServe::start(&wasm, 1).unwrap();
    let nginx = Nginx::start(&serve.base).unwrap();
    let ci_id = s.id_of("ci");
    let allowed = send("GET", &format!("{}/api/repo/main/pkg.conda", nginx.base), &[("authorization", &bearer(&s.ci))]);
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    assert_eq!(allowed.body.trim(), format!("upstream GET /api/repo/main/pkg.conda token={ci_id} owner=ci"));
    let wrong = send("GET", &format!("{}/api/repo/other/pkg.conda", nginx.base), &[("authorization", &bearer(&s.ci))]);
    assert_eq!(wrong.status, 403);
    assert_eq!(send("GET", &format!("{}/api/repo/main/pkg.conda", nginx.base), &[]).status, 401);
}

#[test]
fn with_instance_reuse_changes_take_effect_and_a_dead_server_is_503() {
    let mut s = setup();
    let wasm = s.build("reuse", &[]);
    let serve = WasmtimeServe::start(&wasm, 1_000_000).unwrap();
    let ask = |secret: &str| outcome(&check(&serve.base, "GET", "/api/repo/main/pkg.conda", Some(secret)));

    // Warm: once cached, repeated requests cost (almost) no introspection.
    // wasmtime serve gives a request a new instance when the last one has not
    // yet gone back to its pool (one request at a time per instance), so the
    // requests leave it a moment to. On a busy machine that moment can be
    // longer than any fixed pause: a round of 30 that met new instances is
    // asked again with twice the pause (up to 320 ms), until one round costs
    // fewer than 10 introspections; the count is then about caching, not timing.
    for _ in 0..3 {
        assert_eq!(ask(&s.ci), (200, String::new()));
    }
    let mut pause = Duration::from_millis(20);
    wait::until("30 requests on a reused instance cost fewer than 10 introspections", Duration::ZERO, || {
        let before = s.introspections();
        for _ in 0..30 {
            std::thread::sleep(pause);
            assert_eq!(ask(&s.ci), (200, String::new()));
        }
        let spent = s.introspections() - before;
        eprintln!("30 requests {} ms apart cost {spent} introspections", pause.as_millis());
        pause = (pause * 2).min(Duration::from_millis(320));
        spent < 10
    });

    // A revocation through the API (the token revokes itself).
    let (id, secret) =
        s.token("revokee", "channel/main=read", &["--scope", "artifact:download", "--scope", "user.token:edit"]);
    assert_eq!(ask(&secret), (200, String::new()));
    assert_eq!(ask(&secret), (200, String::new()));
    let revoked = send(
        "POST",
        &s.server.url(&format!("/api/account/tokens/{id}/revoke")),
        &[("authorization", &bearer(&secret))],
    );
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    wait::report_lag("gateway.revocation", until((401, "revoked"), || ask(&secret)));

    // A reissue: the old secret goes.
    let (id, old) = s.token("reissued", "channel/main=read", &["--scope", "artifact:download"]);
    assert_eq!(ask(&old), (200, String::new()));
    assert_eq!(ask(&old), (200, String::new()));
    s.cli(&["token", "reissue", &id]);
    wait::report_lag("gateway.reissue", until((401, "unknown-token"), || ask(&old)));

    // An owner demoted (by the CLI, another process).
    let (_, secret) = s.token("demotee", "channel/main=read", &["--scope", "artifact:download"]);
    assert_eq!(ask(&secret), (200, String::new()));
    assert_eq!(ask(&secret), (200, String::new()));
    s.cli(&["principal", "unbind", "demotee", "--grant", "channel/main=read"]);
    wait::report_lag("gateway.demotion", until((403, "owner-lacks-right"), || ask(&secret)));

    // A leak reported to the server (by a scanner's token): the gateway refuses the secret.
    let reporter = s.server.issue("reporter", "/=manage", &["--scope", "system.tokens:report-leak"]).unwrap();
    let (_, secret) = s.token("leaker", "channel/main=read", &["--scope", "artifact:download"]);
    assert_eq!(ask(&secret), (200, String::new()));
    assert_eq!(ask(&secret), (200, String::new()));
    let report = serde_json::json!([
        {"token": secret, "type": "tokenscope_token", "url": "https://ci.example.test/job/7", "source": "content"}
    ]);
    let reported = tokenscope_tests::http::send_with(
        &tokenscope_tests::http::agent(),
        "POST",
        &s.server.url("/v1/leaks"),
        &[("authorization", &bearer(&reporter)), ("content-type", "application/json")],
        report.to_string().into_bytes(),
    )
    .unwrap();
    assert_eq!(
        (reported.status, reported.json()[0]["label"].as_str()),
        (200, Some("true_positive")),
        "{}",
        reported.body
    );
    wait::report_lag("gateway.leak", until((401, "revoked"), || ask(&secret)));

    // The server goes away: cached answers end with the bound, then 503, never an allow of an unknown.
    s.server.stop().unwrap();
    let unknown = s.server.issue("late", "channel/main=read", &["--scope", "artifact:download"]).unwrap();
    wait::report_lag("gateway.server-gone", until((503, "store-unavailable"), || ask(&s.ci)));
    assert_eq!(ask(&unknown), (503, "store-unavailable".into()));
}

#[test]
fn a_gateway_decides_as_the_policy_it_was_built_with() {
    let s = setup();
    let (_, forever) = s.token("forever", "channel/main=read", &["--scope", "artifact:download", "--no-expiry"]);
    let default = WasmtimeServe::start(&s.build("default", &["--policy", "@default"]), 1).unwrap();
    let variant = WasmtimeServe::start(&s.build("variant", &["--policy", VARIANT]), 1).unwrap();
    let uri = "/api/repo/main/pkg.conda";
    assert_eq!(outcome(&check(&default.base, "GET", uri, Some(&forever))), (200, String::new()));
    let refused = check(&variant.base, "GET", uri, Some(&forever));
    assert_eq!(outcome(&refused), (401, "expired".into()), "the variant refuses tokens without an expiry");
    let variant_sha = tokenscope::runtime::sha256_hex(&std::fs::read(VARIANT).unwrap());
    assert_eq!(refused.header("x-tokenscope-policy"), Some(variant_sha.as_str()));
    assert_eq!(outcome(&check(&variant.base, "GET", uri, Some(&s.ci))), (200, String::new()));

    // A module that fails the gate makes no gateway.
    let out = s.server.dir.path().join("lenient.wasm");
    let refused = s
        .server
        .cli()
        .args(["gateway", "build", "--introspect-url", &s.server.base, "--policy", HOSTILE_LENIENT, "-o"])
        .arg(&out)
        .env("TOKENSCOPE_GATEWAY_TOKEN", &s.gateway_token)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("failed the gate"));
    assert!(!out.exists());
    // Filter mode needs an upstream; the token must be one.
    let no_upstream = s
        .server
        .cli()
        .args(["gateway", "build", "--introspect-url", &s.server.base, "--mode", "filter", "-o", "x.wasm"])
        .env("TOKENSCOPE_GATEWAY_TOKEN", &s.gateway_token)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&no_upstream.stderr).contains("upstream"));
    let bad_token = s
        .server
        .cli()
        .args(["gateway", "build", "--introspect-url", &s.server.base, "-o", "x.wasm"])
        .env("TOKENSCOPE_GATEWAY_TOKEN", "not-a-token")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&bad_token.stderr);
    assert!(stderr.contains("not a tokenscope secret") && !stderr.contains("not-a-token"), "{stderr}");
}

#[test]
fn a_misbehaving_policy_in_the_gateway_fails_the_request_never_allows_it() {
    // The hostile fixture passes the gate, then loops, traps or grows memory on
    // resources that name it. Under wasmtime serve's own limits each is a 500
    // (the proxy's error, never a 200), and the next request is answered.
    let s = setup();
    let wasm = s.build("hostile", &["--policy", HOSTILE]);
    let serve = WasmtimeServe::start_with(&wasm, &["-W", "timeout=1s", "-W", "max-memory-size=67108864"]).unwrap();
    let ask = |channel: &str| check(&serve.base, "GET", &format!("/api/repo/{channel}/x"), Some(&s.ci)).status;
    assert_eq!(ask("main"), 200);
    for channel in ["hostile-loop", "hostile-trap", "hostile-grow"] {
        assert_eq!(ask(channel), 500, "{channel}");
    }
    assert_eq!(ask("main"), 200, "the next request gets a fresh instance");
}
