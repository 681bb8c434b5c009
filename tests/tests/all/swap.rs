//! Hot swapping on a real `tokenscope serve`: modules loaded over the API, by
//! SIGHUP and by a watched file; under load every answer is decided wholly by
//! one module and matches it; bad modules are refused and the active one stays;
//! a module that misbehaves after the gate only produces `policy-fault` denies;
//! rollback; the policy commands of the CLI against the server.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokenscope::runtime::{DEFAULT_POLICY, sha256_hex};
use tokenscope_tests::http::{Reply, agent, send, send_with};
use tokenscope_tests::modules::{HOSTILE, HOSTILE_LENIENT, HOSTILE_LOOP, HOSTILE_WRONG_WORLD, VARIANT, bytes};
use tokenscope_tests::server::Server;

const ROUTES: &str = r#"
[tokens]
allow_no_expiry = true

[[check.routes]]
method = "GET"
path = "/api/repo/{channel}/{file}"
action = "artifact:download"
resource = "channel/{channel}/artifact/{file}"
"#;

/// A server with the test routes, its module cache in its own directory, and `extra` config.
fn server(extra: &str) -> Server {
    Server::start(&format!("{ROUTES}\n{extra}")).unwrap()
}

fn cache(server_dir: &std::path::Path) -> String {
    format!("[policy]\ncache_dir = \"{}\"\n", server_dir.join("cache").display())
}

/// A token of principal `ci` that may download from `channel/main`; without an
/// expiry, so that the variant refuses it.
fn downloader(server: &Server) -> String {
    server.issue("ci", "channel/main=read", &["--scope", "artifact:download", "--no-expiry"]).unwrap()
}

fn check(agent: &ureq::Agent, server: &Server, secret: &str, channel: &str) -> Result<Reply, ureq::Error> {
    let uri = format!("/api/repo/{channel}/pkg-1.0.conda");
    let headers = [("x-original-uri", uri.as_str()), ("x-original-method", "GET"), ("x-access-token", secret)];
    send_with(agent, "GET", &server.url("/v1/check"), &headers, Vec::new())
}

fn load(server: &Server, module: &[u8]) -> Reply {
    let auth = format!("Bearer {}", server.admin_secret);
    let headers = [("authorization", auth.as_str()), ("content-type", "application/wasm")];
    send_with(&agent(), "POST", &server.url("/api/system/policy"), &headers, module.to_vec()).unwrap()
}

fn status(server: &Server) -> Value {
    let auth = format!("Bearer {}", server.admin_secret);
    let reply = send("GET", &server.url("/api/system/policy"), &[("authorization", auth.as_str())]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

fn active(server: &Server) -> String {
    status(server)["active"]["sha256"].as_str().unwrap_or_default().to_owned()
}

/// Waits up to 20 s for `done` (reloads, the shadow and the recorder work in the background).
fn eventually(what: &str, server: &Server, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(20), "never: {what}\n{}", server.log());
        thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the active module is `sha`.
fn wait_for_active(server: &Server, sha: &str) {
    eventually(&format!("{sha} active"), server, || active(server) == sha);
}

#[test]
fn swapping_under_load_decides_every_request_wholly_by_one_module() {
    let dir = tempfile::tempdir().unwrap();
    // A load compiles the module under checking load: on a machine busy with
    // other work that has taken past the 10 s default for one request.
    let server = server(&format!("{}[server]\nrequest_timeout = \"60s\"\n", cache(dir.path())));
    let secret = downloader(&server);
    let (default_sha, variant_sha) = (sha256_hex(DEFAULT_POLICY), sha256_hex(&bytes(VARIANT)));
    let stop = Arc::new(AtomicBool::new(false));
    let server = Arc::new(server);
    let load_threads: Vec<_> = (0..2)
        .map(|_| {
            let (stop, server, secret) = (Arc::clone(&stop), Arc::clone(&server), secret.clone());
            thread::spawn(move || {
                let agent = agent();
                let mut answers = Vec::new();
                let mut errors = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    match check(&agent, &server, &secret, "main") {
                        Ok(r) => answers.push((
                            r.status,
                            r.header("x-tokenscope-policy").unwrap_or("").to_owned(),
                            r.header("x-tokenscope-deny-code").unwrap_or("").to_owned(),
                        )),
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                (answers, errors)
            })
        })
        .collect();

    let (default_module, variant_module) = (DEFAULT_POLICY.to_vec(), bytes(VARIANT));
    for i in 0..100 {
        let module = if i % 2 == 0 { &variant_module } else { &default_module };
        let reply = load(&server, module);
        assert_eq!(reply.status, 200, "swap {i}: {}", reply.body);
        assert_eq!(reply.json()["outcome"], "swapped", "swap {i}: {}", reply.body);
        thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::Relaxed);

    let (mut answers, mut errors) = (Vec::new(), Vec::new());
    for thread in load_threads {
        let (a, e) = thread.join().unwrap();
        answers.extend(a);
        errors.extend(e);
    }
    assert!(errors.is_empty(), "{} transport errors, e.g. {:?}", errors.len(), errors.first());
    assert!(answers.len() >= 1000, "only {} requests under load", answers.len());
    let by_default = answers.iter().filter(|(_, sha, _)| *sha == default_sha).count();
    let by_variant = answers.iter().filter(|(_, sha, _)| *sha == variant_sha).count();
    assert_eq!(by_default + by_variant, answers.len(), "every answer names one of the two modules");
    assert!(by_default > 0 && by_variant > 0, "both modules decided: {by_default} and {by_variant}");
    for (status, sha, code) in &answers {
        // The default allows the token; the variant refuses it (no expiry): never a mix.
        if *sha == default_sha {
            assert_eq!((*status, code.as_str()), (200, ""), "decided by the default module");
        } else {
            assert_eq!((*status, code.as_str()), (401, "expired"), "decided by the variant");
        }
    }
    assert_eq!(active(&server), default_sha);
    let swaps = &status(&server)["swaps"];
    assert_eq!((swaps["swapped"].as_u64(), swaps["refused"].as_u64()), (Some(100), Some(0)));
    eprintln!("{} requests under load: {by_default} by the default module, {by_variant} by the variant", answers.len());
}

#[test]
fn bad_modules_are_refused_and_a_late_misbehaver_only_faults() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(&cache(dir.path()));
    let secret = downloader(&server);
    let default_sha = sha256_hex(DEFAULT_POLICY);
    for (path, failed_check) in [(HOSTILE_LOOP, "vectors"), (HOSTILE_LENIENT, "safety"), (HOSTILE_WRONG_WORLD, "load")]
    {
        let reply = load(&server, &bytes(path));
        assert_eq!(reply.status, 422, "{path}: {}", reply.body);
        let body = reply.json();
        assert_eq!(body["code"], "gate-refused");
        let checks = body["outcome"]["report"]["checks"].as_array().unwrap();
        assert!(checks.iter().any(|c| c["name"] == failed_check && c["passed"] == false), "{path}: {body}");
        assert_eq!(active(&server), default_sha, "the active module stays");
        assert_eq!(check(&agent(), &server, &secret, "main").unwrap().status, 200, "and keeps serving");
    }
    let garbage = load(&server, b"definitely not a component");
    assert_eq!((garbage.status, garbage.json()["code"].as_str()), (422, Some("gate-refused")));
    let empty = load(&server, b"");
    assert_eq!(empty.status, 400);

    // The hostile module passes the gate; its misbehaviour later is a fault, never an allow.
    let reply = load(&server, &bytes(HOSTILE));
    assert_eq!(reply.json()["outcome"], "swapped", "{}", reply.body);
    for channel in ["hostile-loop", "hostile-trap", "hostile-grow", "hostile-huge"] {
        let reply = check(&agent(), &server, &secret, channel).unwrap();
        assert_eq!(reply.status, 503, "{channel}: {}", reply.body);
        assert_eq!(reply.json()["code"], "policy-fault", "{channel}");
        assert!(reply.body.len() < 2000, "{channel}: a short answer");
        assert_eq!(check(&agent(), &server, &secret, "main").unwrap().status, 200, "serving on after {channel}");
    }
    assert_eq!(send("GET", &server.url("/healthz"), &[]).status, 200);

    // Rollback returns to the default module; a second rollback has nowhere to go.
    let auth = format!("Bearer {}", server.admin_secret);
    let rollback = send("POST", &server.url("/api/system/policy/rollback"), &[("authorization", auth.as_str())]);
    assert_eq!((rollback.status, rollback.json()["outcome"].as_str()), (200, Some("rolled-back")));
    assert_eq!(active(&server), default_sha);
    let again = send("POST", &server.url("/api/system/policy/rollback"), &[("authorization", auth.as_str())]);
    assert_eq!((again.status, again.json()["code"].as_str()), (409, Some("no-previous")));

    // Only a token with `system.policy:edit` may load. The refusal comes before
    // the body is read, so a slow client may still be writing it when the server
    // answers and closes (a broken pipe): asked again until the answer is read.
    let auth = format!("Bearer {secret}");
    let mut reply = None;
    tokenscope_tests::wait::until("the refusal read", Duration::from_millis(100), || {
        let headers = [("authorization", auth.as_str()), ("content-type", "application/wasm")];
        reply = send_with(&agent(), "POST", &server.url("/api/system/policy"), &headers, bytes(VARIANT)).ok();
        reply.is_some()
    });
    let reply = reply.unwrap();
    assert_eq!((reply.status, reply.json()["code"].as_str()), (403, Some("no-grant")), "{}", reply.body);
    assert_eq!(active(&server), default_sha);
    let metrics = send("GET", &server.url("/metrics"), &[]).body;
    for line in
        ["tokenscope_policy_swaps_total{outcome=\"refused\"} 4", "tokenscope_policy_swaps_total{outcome=\"swapped\"} 1"]
    {
        assert!(metrics.contains(line), "`{line}` missing:\n{metrics}");
    }
    assert!(
        metrics.contains(&format!(
            "tokenscope_policy_info{{name=\"tokenscope-default\",version=\"0.1.0\",sha256=\"{default_sha}\",signer=\"embedded\"}} 1"
        )),
        "{metrics}"
    );
}

#[test]
fn sighup_reloads_the_policy_file_and_the_cli_loads_and_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.wasm");
    std::fs::write(&file, DEFAULT_POLICY).unwrap();
    let config = format!("{}file = \"{}\"\nwatch = false\n", cache(dir.path()), file.display());
    let server = server(&config);
    let (default_sha, variant_sha) = (sha256_hex(DEFAULT_POLICY), sha256_hex(&bytes(VARIANT)));
    assert_eq!(active(&server), default_sha);

    // Ship by rename, then SIGHUP.
    let staged = dir.path().join("policy.wasm.new");
    std::fs::write(&staged, bytes(VARIANT)).unwrap();
    std::fs::rename(&staged, &file).unwrap();
    hangup(&server);
    wait_for_active(&server, &variant_sha);
    server.log_once("the sighup swap", |log| log.contains("trigger=\"sighup\" outcome=\"swapped\""));

    // A broken file and a SIGHUP change nothing.
    std::fs::write(&file, b"broken").unwrap();
    hangup(&server);
    eventually("one refusal", &server, || status(&server)["swaps"]["refused"].as_u64() == Some(1));
    assert_eq!(active(&server), variant_sha);

    // The CLI against the server: status, rollback, load.
    let cli = |args: &[&str]| {
        server
            .cli()
            .args(args)
            .arg("--to")
            .arg(&server.base)
            .env("TOKENSCOPE_TOKEN", &server.admin_secret)
            .output()
            .unwrap()
    };
    let out = cli(&["policy", "status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("active: tokenscope-variant 0.1.0"), "{text}");
    let out = cli(&["policy", "rollback"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(active(&server), default_sha);
    let out = cli(&["policy", "load", HOSTILE_LOOP]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("refused by the gate") && text.contains("FAIL vectors"), "{text}");
    let out = cli(&["policy", "load", VARIANT]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.starts_with("swapped: tokenscope-default 0.1.0") && text.contains("(cached machine code)"), "{text}");
    assert_eq!(active(&server), variant_sha);
}

#[test]
fn a_watched_file_is_loaded_once_it_has_settled_never_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.wasm");
    std::fs::write(&file, DEFAULT_POLICY).unwrap();
    let config = format!("{}file = \"{}\"\nsettle = \"300ms\"\n", cache(dir.path()), file.display());
    let server = server(&config);
    let variant = bytes(VARIANT);
    // A slow writer: half the module, a pause shorter than the settle time, the rest.
    {
        use std::io::Write;
        let mut out = std::fs::File::create(&file).unwrap();
        let (head, tail) = variant.split_at(variant.len() / 2);
        out.write_all(head).unwrap();
        out.flush().unwrap();
        thread::sleep(Duration::from_millis(100));
        out.write_all(tail).unwrap();
    }
    wait_for_active(&server, &sha256_hex(&variant));
    assert_eq!(status(&server)["swaps"]["refused"].as_u64(), Some(0), "a half-written file never reached the gate");
    // An atomic rename is picked up too.
    let staged = dir.path().join("next.tmp");
    std::fs::write(&staged, DEFAULT_POLICY).unwrap();
    std::fs::rename(&staged, &file).unwrap();
    wait_for_active(&server, &sha256_hex(DEFAULT_POLICY));
    server.log_once("the file-change swap", |log| log.contains("trigger=\"file-change\""));
}

#[test]
fn decisions_name_their_module_and_a_shadow_and_a_recording_show_what_a_swap_would_change() {
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("decisions.jsonl");
    let config = format!("{}shadow = \"{VARIANT}\"\n[record]\nfile = \"{}\"\n", cache(dir.path()), recording.display());
    let server = server(&config);
    let forever = downloader(&server);
    let dated = server.issue("ci2", "channel/main=read", &["--scope", "artifact:download", "--ttl", "30d"]).unwrap();
    for _ in 0..3 {
        assert_eq!(
            check(&agent(), &server, &forever, "main").unwrap().status,
            200,
            "the shadow never changes an answer"
        );
        assert_eq!(check(&agent(), &server, &dated, "main").unwrap().status, 200);
    }
    eventually("3 disagreements, 3 agreements", &server, || {
        let shadow = &status(&server)["shadow"];
        shadow["disagreed"].as_u64() == Some(3) && shadow["agreed"].as_u64() == Some(3)
    });
    let sha = sha256_hex(DEFAULT_POLICY);
    let named =
        format!("policy_name=tokenscope-default policy_version=0.1.0 policy_sha256=\"{sha}\" policy_signer=embedded");
    server.log_once("decisions that name their module and the shadow's disagreement", |log| {
        log.contains(&named)
            && log.contains("shadow policy disagrees")
            && log.contains("shadow_reason=\"this policy refuses tokens without an expiry\"")
    });
    let metrics = send("GET", &server.url("/metrics"), &[]).body;
    assert!(metrics.contains("tokenscope_shadow_decisions_total{outcome=\"disagreed\"} 3"), "{metrics}");

    // The recording holds no secret, and `policy diff` shows what the variant would change.
    eventually("6 recorded decisions", &server, || {
        std::fs::read_to_string(&recording).unwrap_or_default().lines().count() == 6
    });
    let recorded = std::fs::read_to_string(&recording).unwrap();
    assert!(!recorded.contains(&forever) && !recorded.contains(&dated), "a secret was recorded");
    let old = dir.path().join("default.wasm");
    std::fs::write(&old, DEFAULT_POLICY).unwrap();
    let out = server
        .cli()
        .args(["policy", "diff"])
        .arg(&old)
        .arg(VARIANT)
        .arg("--requests")
        .arg(&recording)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(text.matches("CHANGED").count(), 3, "{text}");
    assert!(text.contains("old: allow by `artifact:download`"), "{text}");
    assert!(text.contains("new: expired: this policy refuses tokens without an expiry"), "{text}");
    assert!(text.contains("6 requests: 3 changed, 3 unchanged") && text.contains("allow -> expired: 3"), "{text}");
}

fn hangup(server: &Server) {
    let pid = server.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-HUP", &pid]).status().unwrap().success());
}
