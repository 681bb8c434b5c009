//! Issue 8's two bypasses, through a real `tokenscope serve`, a real nginx and a
//! real Caddy: a public prefix cannot be walked out of with dot segments in any
//! spelling or convention, and a client cannot choose which path is checked by
//! adding another convention's headers.

use tokenscope_tests::caddy::Caddy;
use tokenscope_tests::http::{raw, send};
use tokenscope_tests::nginx::Nginx;
use tokenscope_tests::routes::with_routes;
use tokenscope_tests::server::Server;

const WALKS: &[&str] = &[
    "/public/../api/repo/main/noarch/x.conda",
    "/public/%2e%2e/api/repo/main/noarch/x.conda",
    "/public/%2E%2e/api/repo/main/noarch/x.conda",
    "/public/.%2E/api/repo/main/noarch/x.conda",
    "/public//../api/repo/main/noarch/x.conda",
    "/public/..;/api/repo/main/noarch/x.conda",
    "/public%2f..%2fapi/repo/main/noarch/x.conda",
    "/public/%252e%252e/api/repo/main/noarch/x.conda",
    "/public/..%5capi/repo/main/noarch/x.conda",
];

fn config(convention: &str) -> String {
    with_routes(&format!("convention = \"{convention}\"\npublic_prefixes = [\"/public/\"]"))
}

#[test]
fn public_prefixes_cannot_be_walked_out_of_in_any_convention() {
    let server = Server::start(&config("auto")).unwrap();
    for walk in WALKS {
        let asks = [
            format!("GET /v1/check HTTP/1.1\r\nX-Original-Method: GET\r\nX-Original-URI: {walk}\r\n\r\n"),
            format!("GET /v1/check HTTP/1.1\r\nX-Forwarded-Method: GET\r\nX-Forwarded-Uri: {walk}\r\n\r\n"),
            format!("GET /v1/check{walk} HTTP/1.1\r\n\r\n"),
        ];
        for ask in asks {
            let (status, body) = raw(&server.base, &ask).unwrap();
            assert_eq!(status, 400, "{ask}: {body}");
            assert!(body.contains("\"code\":\"bad-request\""), "{ask}: {body}");
        }
    }
    // The public prefix itself still passes without a token, and only it.
    for ask in [
        "GET /v1/check HTTP/1.1\r\nX-Original-Method: GET\r\nX-Original-URI: /public/app.css\r\n\r\n",
        "GET /v1/check HTTP/1.1\r\nX-Forwarded-Method: GET\r\nX-Forwarded-Uri: /public/a%20b.css\r\n\r\n",
        "GET /v1/check/public/app.css HTTP/1.1\r\n\r\n",
    ] {
        assert_eq!(raw(&server.base, ask).unwrap().0, 200, "{ask}");
    }
    let (status, _) =
        raw(&server.base, "GET /v1/check HTTP/1.1\r\nX-Original-Method: GET\r\nX-Original-URI: /publicity/x\r\n\r\n")
            .unwrap();
    assert_eq!(status, 403, "a prefix covers whole segments");
}

#[test]
fn through_nginx_a_walk_out_of_a_public_prefix_never_reaches_the_upstream() {
    let server = Server::start(&config("nginx")).unwrap();
    let nginx = Nginx::start(&server.base).unwrap();
    for walk in WALKS {
        let (status, body) = raw(&nginx.base, &format!("GET {walk} HTTP/1.1\r\n\r\n")).unwrap();
        assert_ne!(status, 200, "{walk}: {body}");
        assert!(!body.contains("upstream"), "{walk} reached the upstream: {body}");
    }
    let (status, body) = raw(&nginx.base, "GET /public/app.css HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!((status, body.trim()), (200, "upstream GET /public/app.css token= owner="));
}

/// Caddy's `forward_auth` (like Traefik's `forwardAuth`) passes the client's own
/// headers to the check and sets `X-Forwarded-Method`/`X-Forwarded-Uri`.
#[test]
fn caddy_forward_auth_decides_the_forwarded_path_whatever_the_client_adds() {
    let server = Server::start(&config("forwarded")).unwrap();
    let token = server.issue("ci", "channel/main=read", &["--scope", "artifact:download"]).unwrap();
    let caddy = Caddy::start(&server.base).unwrap();
    let get = |path: &str, extra: &str| {
        raw(&caddy.base, &format!("GET {path} HTTP/1.1\r\nx-access-token: {token}\r\n{extra}\r\n")).unwrap()
    };

    let (status, body) = get("/api/repo/main/noarch/pkg-1.0.conda", "");
    assert_eq!(status, 200, "{body}\n{}", caddy.log());
    assert!(body.starts_with("upstream GET /api/repo/main/noarch/pkg-1.0.conda token="), "{body}");
    assert!(body.trim().ends_with("owner=ci"), "{body}");
    // The attack: ask for another channel, and name an allowed path in nginx's header.
    let (status, body) = get(
        "/api/repo/other/noarch/secret.conda",
        "X-Original-URI: /api/repo/main/noarch/pkg-1.0.conda\r\nX-Original-Method: GET\r\n",
    );
    assert_eq!(status, 403, "{body}");
    assert!(!body.contains("upstream"), "{body}");
    // Walking out of the public prefix through Caddy.
    for walk in WALKS {
        let (status, body) = raw(&caddy.base, &format!("GET {walk} HTTP/1.1\r\n\r\n")).unwrap();
        assert_ne!(status, 200, "{walk}: {body}");
        assert!(!body.contains("upstream"), "{walk} reached the upstream: {body}");
    }
    // A psm path token through Caddy.
    let (status, body) =
        raw(&caddy.base, &format!("GET /api/repo/t/{token}/main/noarch/p.conda HTTP/1.1\r\n\r\n")).unwrap();
    assert_eq!(status, 200, "{body}");
}

#[test]
fn with_caddy_and_auto_a_second_convention_is_refused() {
    let server = Server::start(&config("auto")).unwrap();
    let token = server.issue("ci", "channel/main=read", &["--scope", "artifact:download"]).unwrap();
    let caddy = Caddy::start(&server.base).unwrap();
    let ask = |extra: &str| {
        raw(
            &caddy.base,
            &format!("GET /api/repo/other/noarch/secret.conda HTTP/1.1\r\nx-access-token: {token}\r\n{extra}\r\n"),
        )
        .unwrap()
    };
    let (status, body) = ask("X-Original-URI: /api/repo/main/noarch/pkg-1.0.conda\r\nX-Original-Method: GET\r\n");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("more than one proxy convention"), "{body}");
    assert_eq!(ask("").0, 403);
}

#[test]
fn an_explicit_convention_reads_only_its_own_headers() {
    let server = Server::start(&config("nginx")).unwrap();
    let check = server.url("/v1/check");
    // Forwarded headers alone are no original request for an nginx-configured check.
    let r = send("GET", &check, &[("x-forwarded-method", "GET"), ("x-forwarded-uri", "/public/x")]);
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("bad-request")), "{}", r.body);
    // ...and beside nginx's headers they are not read.
    let r = send(
        "GET",
        &check,
        &[
            ("x-original-method", "GET"),
            ("x-original-uri", "/api/repo/other/noarch/x"),
            ("x-forwarded-method", "GET"),
            ("x-forwarded-uri", "/public/x"),
        ],
    );
    assert_eq!((r.status, r.json()["code"].as_str()), (401, Some("missing-token")), "{}", r.body);
    // The Envoy form of the path is not read either.
    let r = send("GET", &server.url("/v1/check/public/x"), &[]);
    assert_eq!(r.status, 400, "{}", r.body);
}

#[test]
fn a_token_in_the_path_and_one_in_a_header_are_refused() {
    let server = Server::start(&config("nginx")).unwrap();
    let token = server.issue("ci", "channel/main=read", &["--scope", "artifact:download"]).unwrap();
    let other = server.admin_secret.clone();
    let uri = format!("/api/repo/t/{token}/main/noarch/p.conda");
    let base = [("x-original-method", "GET"), ("x-original-uri", uri.as_str())];
    assert_eq!(send("GET", &server.url("/v1/check"), &base).status, 200);
    for extra in [("x-access-token", other.as_str()), ("authorization", &format!("Bearer {other}"))] {
        let mut headers = base.to_vec();
        headers.push(extra);
        let r = send("GET", &server.url("/v1/check"), &headers);
        assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("bad-request")), "{}", r.body);
    }
}
