//! The check endpoint of a real `tokenscope serve` process, over HTTP: the
//! header conventions of nginx `auth_request`, Traefik `forwardAuth` and Envoy
//! `ext_authz` (HTTP mode), psm path tokens, statuses and identity headers,
//! request limits, and a SIGTERM that drains and flushes usage counts.

use serde_json::Value;
use tokenscope_tests::http::send;
use tokenscope_tests::routes::with_routes;
use tokenscope_tests::server::Server;

/// A server with the shared routes and `/public/` as a public prefix.
fn start() -> Server {
    Server::start(&with_routes("public_prefixes = [\"/public/\"]")).unwrap()
}

#[test]
fn proxy_conventions_statuses_and_identity_headers() {
    let server = start();
    let check = server.url("/v1/check");
    let scan = server
        .issue("scanner", "vault/acme/project/web=manage", &["--resource", "vault/acme/project/web=create-scan"])
        .unwrap();

    // nginx auth_request
    let ok = send(
        "GET",
        &check,
        &[
            ("x-original-method", "POST"),
            ("x-original-uri", "/api/v2/vaults/acme/projects/web/scans"),
            ("x-access-token", &scan),
        ],
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.header("x-tokenscope-token-id").is_some());
    assert_eq!(ok.header("x-tokenscope-owner"), Some("scanner"));
    // Traefik forwardAuth, bearer token: another project is forbidden.
    let other = send(
        "GET",
        &check,
        &[
            ("x-forwarded-method", "POST"),
            ("x-forwarded-uri", "/api/v2/vaults/acme/projects/mobile/scans"),
            ("authorization", &format!("Bearer {scan}")),
        ],
    );
    assert_eq!(other.status, 403);
    assert_eq!(other.header("x-tokenscope-deny-code"), Some("no-grant"));
    assert_eq!(other.json()["code"], "no-grant");
    // Envoy ext_authz (HTTP): the original method, and the original path under the prefix.
    let envoy =
        send("POST", &server.url("/v1/check/api/v2/vaults/acme/projects/web/scans?x=1"), &[("x-access-token", &scan)]);
    assert_eq!(envoy.status, 200, "{}", envoy.body);
    let envoy_get =
        send("GET", &server.url("/v1/check/api/v2/vaults/acme/projects/web/scans"), &[("x-access-token", &scan)]);
    assert_eq!(envoy_get.status, 403, "GET is not mapped: {}", envoy_get.body);
    assert_eq!(envoy_get.json()["code"], "unmapped-route");

    // 401s carry a Bearer challenge.
    for (headers, code) in [
        (vec![], "missing-token"),
        (vec![("x-access-token", "garbage")], "malformed-token"),
        (vec![("x-access-token", "tks_000000000000000000000000000000000")], "malformed-token"),
    ] {
        let mut h = vec![("x-original-method", "POST"), ("x-original-uri", "/api/v2/vaults/acme/projects/web/scans")];
        h.extend(headers);
        let r = send("GET", &check, &h);
        assert_eq!((r.status, r.json()["code"].as_str()), (401, Some(code)), "{}", r.body);
        assert!(r.header("www-authenticate").is_some_and(|c| c.starts_with("Bearer ")));
    }
    // Public prefixes pass without a token; everything else unmapped is denied.
    let get = |uri: &str| send("GET", &check, &[("x-original-method", "GET"), ("x-original-uri", uri)]);
    assert_eq!(get("/public/logo.png").status, 200);
    assert_eq!(get("/private/x").status, 403);

    // Metrics count every answer above by code, and name the active policy.
    let metrics = send("GET", &server.url("/metrics"), &[]).body;
    let sha = tokenscope::runtime::sha256_hex(tokenscope::runtime::DEFAULT_POLICY);
    for (code, n) in [("no-grant", 1), ("malformed-token", 2), ("unmapped-route", 2), ("allow", 3)] {
        let line = format!("tokenscope_check_decisions_total{{code=\"{code}\",policy=\"{sha}\"}} {n}");
        assert!(metrics.contains(&line), "`{line}` missing from:\n{metrics}");
    }
    assert!(metrics.contains("tokenscope_check_duration_seconds_count 9"), "{metrics}");
    assert!(metrics.contains("tokenscope_policy_info{name=\"tokenscope-default\""), "{metrics}");
    // What the caches hold is a gauge per cache (slow_store.rs waits on it).
    for cache in ["tokens", "unknown", "owners"] {
        let series = format!("tokenscope_cache_entries{{cache=\"{cache}\"}}");
        let entries = tokenscope_tests::metrics::sample(&metrics, &series);
        assert!(entries.is_some(), "`{series}` missing from:\n{metrics}");
    }
}

#[test]
fn psm_path_token_download_and_a_revocation_by_another_process_take_effect() {
    let server = start();
    let token = server.issue("ci", "channel/main=read", &["--scope", "artifact:download"]).unwrap();
    let path = format!("/api/repo/t/{token}/main/noarch/pkg-1.0.conda");
    let ok = send("GET", &server.url("/v1/check"), &[("x-original-method", "GET"), ("x-original-uri", &path)]);
    assert_eq!(ok.status, 200, "{}", ok.body);
    let other = send(
        "GET",
        &server.url("/v1/check"),
        &[("x-original-method", "GET"), ("x-original-uri", &format!("/api/repo/t/{token}/private/noarch/x.conda"))],
    );
    assert_eq!((other.status, other.header("x-tokenscope-deny-code")), (403, Some("owner-lacks-right")));
    let id = ok.header("x-tokenscope-token-id").unwrap().to_owned();
    let out = server.cli().args(["token", "revoke", &id]).output().unwrap();
    assert!(out.status.success());
    let answer = || {
        let reply = send("GET", &server.url("/v1/check"), &[("x-original-method", "GET"), ("x-original-uri", &path)]);
        (reply.status, reply.json()["code"].as_str().map(str::to_owned))
    };
    let revoked = (401, Some("revoked".to_owned()));
    // Another process's write reaches the server by a notification (the SQLite
    // file's watch, PostgreSQL's NOTIFY) within milliseconds, but not always
    // before the very next request on a busy machine: the lag is the lag
    // benchmark's (`host/benches/lags.sh`), the refusal is this test's.
    tokenscope_tests::wait::until("the revocation seen", std::time::Duration::from_millis(20), || answer() == revoked);
}

#[test]
fn bad_input_gets_a_json_4xx_and_the_server_stays_up() {
    let server = start();
    let check = server.url("/v1/check");
    let big = "x".repeat(20_000);
    let r = send("GET", &check, &[("x-original-method", "GET"), ("x-original-uri", "/a"), ("x-padding", &big)]);
    assert_eq!((r.status, r.json()["code"].as_str()), (431, Some("headers-too-large")));
    let r = send("GET", &check, &[("x-original-method", "GE T"), ("x-original-uri", "/a")]);
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("bad-request")));
    let token = server.admin_secret.clone();
    // A path with no canonical form is refused before any route or token is looked at.
    for uri in ["/api/repo/main/noarch/..", "/api/repo/main/noarch/%2e%2e", "/api/repo/ma%00in/noarch/x"] {
        let r =
            send("GET", &check, &[("x-original-method", "GET"), ("x-original-uri", uri), ("x-access-token", &token)]);
        assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("bad-request")), "{uri}: {}", r.body);
    }
    // No original method is not GET: it is refused.
    let r = send("GET", &check, &[("x-original-uri", "/public/logo.png")]);
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("bad-request")), "{}", r.body);
    assert_eq!(send("GET", &server.url("/nowhere"), &[]).json()["code"], "not-found");
    assert_eq!(send("GET", &server.url("/healthz"), &[]).status, 200);
    let ready = send("GET", &server.url("/readyz"), &[]).json();
    assert_eq!(
        (ready["status"].as_str(), ready["policy"]["name"].as_str()),
        (Some("ready"), Some("tokenscope-default"))
    );
}

#[test]
fn sigterm_drains_and_flushes_usage() {
    let mut server = start();
    let token = server.issue("ci", "channel/main=read", &["--scope", "artifact:download"]).unwrap();
    let path = format!("/api/repo/t/{token}/main/noarch/pkg.conda");
    for _ in 0..3 {
        assert_eq!(
            send("GET", &server.url("/v1/check"), &[("x-original-method", "GET"), ("x-original-uri", &path)]).status,
            200
        );
    }
    let status = server.stop().unwrap();
    assert!(status.success(), "{status}");
    let out = server.cli().args(["token", "list", "--json"]).output().unwrap();
    let tokens: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let used: Vec<u64> = tokens.iter().map(|t| t["use_count"].as_u64().unwrap()).collect();
    assert!(used.contains(&3), "usage after shutdown: {used:?}");
}

#[test]
fn checks_that_carry_a_body_keep_the_body_limit_and_are_decided_alike() {
    let server = start();
    let token = server.issue("ci", "channel/main=read", &["--scope", "artifact:download"]).unwrap();
    let check = server.url("/v1/check");
    let path = format!("/api/repo/t/{token}/main/noarch/pkg.conda");
    let headers = [("x-original-method", "GET"), ("x-original-uri", path.as_str())];
    let agent = tokenscope_tests::http::agent();
    // Bodiless checks take the lean path; ones with a body go through the router's layers.
    let small = tokenscope_tests::http::send_with(&agent, "POST", &check, &headers, b"{}".to_vec()).unwrap();
    let bare = tokenscope_tests::http::send_with(&agent, "POST", &check, &headers, Vec::new()).unwrap();
    assert_eq!((small.status, bare.status), (200, 200), "{} / {}", small.body, bare.body);
    assert_eq!(small.header("x-tokenscope-token-id"), bare.header("x-tokenscope-token-id"));
    assert_eq!(small.header("x-tokenscope-policy"), bare.header("x-tokenscope-policy"));
    let big = tokenscope_tests::http::send_with(&agent, "POST", &check, &headers, vec![b' '; 200_000]).unwrap();
    assert_eq!((big.status, big.json()["code"].as_str()), (413, Some("body-too-large")), "{}", big.body);

    // A body that arrives after its head (a separate write, a moment later) is
    // read, and the connection carries the next check.
    use std::io::Write;
    let address = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let head = |length: usize| {
        format!(
            "POST /v1/check HTTP/1.1\r\nHost: {address}\r\nx-original-method: GET\r\nx-original-uri: {path}\r\ncontent-length: {length}\r\n\r\n"
        )
    };
    for round in 0..3 {
        stream.write_all(head(2).as_bytes()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        stream.write_all(b"{}").unwrap();
        assert_eq!(read_answer(&mut stream), 200, "round {round}");
    }
    stream.write_all(head(0).as_bytes()).unwrap();
    assert_eq!(read_answer(&mut stream), 200, "a bodiless check after checks with bodies");
}

/// Reads one HTTP/1.1 answer (with a `content-length`) from `stream`; its status.
fn read_answer(stream: &mut std::net::TcpStream) -> u16 {
    use std::io::Read;
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\r\n\r\n") {
        assert_eq!(
            stream.read(&mut byte).unwrap(),
            1,
            "the connection closed after {:?}",
            String::from_utf8_lossy(&seen)
        );
        seen.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&seen).to_ascii_lowercase();
    let length: usize =
        head.lines().find_map(|line| line.strip_prefix("content-length:")).map_or(0, |n| n.trim().parse().unwrap());
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap()
}

#[test]
fn with_log_format_json_every_line_is_one_json_object_and_decisions_carry_their_fields() {
    let server = Server::start(&with_routes("[log]\nformat = \"json\"")).unwrap();
    let token = server.issue("ci", "channel/main=read", &["--scope", "artifact:download"]).unwrap();
    let allowed = "/api/repo/main/noarch/pkg.conda";
    let hostile = "/api/repo/main/noarch/a%22%0A%7B%22decision%22:%22allow%22%7D.conda";
    let mut digest = String::new();
    for uri in [allowed, hostile] {
        let reply = send(
            "GET",
            &server.url("/v1/check"),
            &[("x-original-method", "GET"), ("x-original-uri", uri), ("x-access-token", &token)],
        );
        // The hostile path is allowed or refused as unreadable; either way its line is one object.
        assert!([200, 400].contains(&reply.status), "{}", reply.body);
        if uri == allowed {
            digest = reply.header("x-tokenscope-policy").unwrap().to_owned();
        }
    }
    let denied = send(
        "GET",
        &server.url("/v1/check"),
        &[
            ("x-original-method", "GET"),
            ("x-original-uri", "/api/repo/private/noarch/pkg.conda"),
            ("x-access-token", &token),
        ],
    );
    assert_eq!(denied.status, 403, "{}", denied.body);
    let log = server.log_once("the denied check's line", |log| log.contains("\"decision\":\"owner-lacks-right\""));
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not one JSON object ({e}): {line}")))
        .collect();
    let decisions: Vec<&Value> = lines.iter().filter(|l| l["message"] == "verify").collect();
    for line in &decisions {
        for field in ["timestamp", "level", "token", "owner", "action", "resource", "decision", "policy_name"] {
            assert!(line.get(field).is_some(), "`{field}` missing: {line}");
        }
        assert_eq!(line["policy_sha256"].as_str(), Some(digest.as_str()), "{line}");
        assert!(line["latency_us"].is_u64(), "{line}");
        assert_eq!((line["owner"].as_str(), line["action"].as_str()), (Some("ci"), Some("artifact:download")));
    }
    let codes: Vec<&str> = decisions.iter().filter_map(|l| l["decision"].as_str()).collect();
    assert_eq!((codes.first(), codes.last()), (Some(&"allow"), Some(&"owner-lacks-right")), "{log}");
    assert_eq!(decisions[0]["resource"].as_str(), Some("channel/main/artifact/pkg.conda"), "{log}");
}
