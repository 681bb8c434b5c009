//! Short-lived tokens for OIDC identity tokens, against a real `tokenscope
//! serve`: keys made here (RSA, EC, Ed25519), a JWKS served on loopback and one
//! read from a file. An exchanged token is an ordinary token (checked directly
//! and through a real nginx, listed with its origin, revocable, expiring no
//! later than the identity token); every flaw of an identity token is a 401
//! with its own code; rules match by claims and globs, refuse when none
//! matches, and never mint more than their principal holds; keys rotate.

use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use tokenscope_tests::http::{Reply, agent, send, send_with};
use tokenscope_tests::nginx::Nginx;
use tokenscope_tests::oidc::{JwksServer, Key, forged, jwks, signed_raw, tampered};
use tokenscope_tests::routes::ROUTES;
use tokenscope_tests::server::Server;

const CI: &str = "https://ci.example";
const FILED: &str = "https://file.example";

struct Issuer {
    server: Server,
    jwks: JwksServer,
    rsa: Key,
    ec: Key,
    ed: Key,
    _keys: tempfile::TempDir,
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// Claims of a main-branch job of acme/web, valid for `ttl` seconds; each
/// with its own `jti`, as real issuers give them, so no two are the same token.
fn claims(ttl: u64) -> Value {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let now = now();
    let jti = format!("{}-{}", std::process::id(), NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    json!({
        "iss": CI, "aud": ["other", "tokenscope"], "sub": "repo:acme/web:ref:refs/heads/main",
        "repository": "acme/web", "ref": "refs/heads/main", "iat": now, "nbf": now - 5, "exp": now + ttl, "jti": jti,
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

fn start() -> Issuer {
    let keys = tempfile::tempdir().unwrap();
    let rsa = Key::new(keys.path(), Algorithm::RS256, "rsa-1").unwrap();
    let ec = Key::new(keys.path(), Algorithm::ES256, "ec-1").unwrap();
    let ed = Key::new(keys.path(), Algorithm::EdDSA, "ed-1").unwrap();
    let served = JwksServer::start(jwks(&[&rsa, &ec])).unwrap();
    let file = keys.path().join("jwks.json");
    std::fs::write(&file, jwks(&[&ed])).unwrap();
    let config = format!(
        r#"{ROUTES}
[oidc]
leeway = "1s"
[[oidc.issuers]]
issuer = "{CI}"
audience = "tokenscope"
jwks_url = "{}"
max_ttl = "1h"
[[oidc.issuers]]
issuer = "{FILED}"
audience = "tokenscope"
jwks_file = "{}"
[[oidc.rules]]
issuer = "{CI}"
claims = {{ repository = "acme/web", ref = "refs/heads/main" }}
principal = "ci-web"
scopes = ["artifact:download"]
ttl = "15m"
[[oidc.rules]]
issuer = "{CI}"
claims = {{ repository = "acme/*", ref = "refs/tags/v*" }}
principal = "ci-release"
resources = ["channel/main=read"]
ttl = "5m"
[[oidc.rules]]
issuer = "{CI}"
claims = {{ repository = "acme/greedy" }}
principal = "ci-web"
scopes = ["artifact:delete"]
[[oidc.rules]]
issuer = "{FILED}"
principal = "ci-web"
scopes = ["artifact:download"]
ttl = "10m"
[[oidc.rules]]
issuer = "{CI}"
claims = {{ repository = "acme/capped" }}
principal = "ci-capped"
scopes = ["artifact:download"]
max_live = 3
"#,
        served.url,
        file.display()
    );
    let server = Server::start(&config).unwrap();
    // ci-web may read main; ci-release manages it (a resource token needs manage on its resource).
    let principals =
        [("ci-web", "channel/main=read"), ("ci-release", "channel/main=manage"), ("ci-capped", "channel/main=read")];
    for (name, right) in principals {
        let out = server.cli().args(["principal", "add", name, "--grant", right]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    Issuer { server, jwks: served, rsa, ec, ed, _keys: keys }
}

fn exchange_form(server: &Server, token: &str) -> Reply {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange")
        .append_pair("subject_token_type", "urn:ietf:params:oauth:token-type:jwt")
        .append_pair("subject_token", token)
        .finish();
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    send_with(&agent(), "POST", &server.url("/api/auth/exchange"), &headers, body.into_bytes()).unwrap()
}

fn exchange_json(server: &Server, token: &str) -> Reply {
    let body = json!({ "subject_token": token }).to_string();
    let headers = [("content-type", "application/json")];
    send_with(&agent(), "POST", &server.url("/api/auth/exchange"), &headers, body.into_bytes()).unwrap()
}

/// What the check endpoint decides for a download from channel/main with `secret`.
fn check(server: &Server, secret: &str) -> String {
    let headers = [
        ("x-original-uri", "/api/repo/main/noarch/pkg-1.0.conda"),
        ("x-original-method", "GET"),
        ("x-access-token", secret),
    ];
    let reply = send("GET", &server.url("/v1/check"), &headers);
    reply.header("x-tokenscope-deny-code").unwrap_or(if reply.status == 200 { "allow" } else { "?" }).to_owned()
}

fn refused(reply: &Reply) -> (u16, String) {
    (reply.status, reply.json()["code"].as_str().unwrap_or("").to_owned())
}

#[test]
fn an_exchanged_token_is_an_ordinary_token_that_lives_no_longer_than_its_identity() {
    let issuer = start();
    let server = &issuer.server;
    let identity = issuer.rsa.sign(&claims(600));
    let reply = exchange_form(server, &identity);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["issued_token_type"], "urn:ietf:params:oauth:token-type:access_token");
    let secret = body["access_token"].as_str().unwrap().to_owned();
    let expires_in = body["expires_in"].as_u64().unwrap();
    assert!(
        (590..=600).contains(&expires_in),
        "capped by the identity token's 600 s, not the rule's 15 m: {expires_in}"
    );
    assert_eq!(body["token"]["owner_name"], "ci-web");
    assert_eq!(body["token"]["origin"]["issuer"], CI);
    assert_eq!(body["token"]["origin"]["subject"], "repo:acme/web:ref:refs/heads/main");
    assert_eq!(body["token"]["origin"]["rule"], "#1 (ci-web)");
    assert_eq!(reply.header("cache-control"), Some("no-store"));

    // Used like any token: the check endpoint, and a real nginx in front of an upstream.
    assert_eq!(check(server, &secret), "allow");
    let nginx = Nginx::start(&server.base).unwrap();
    let through =
        send("GET", &format!("{}/api/repo/main/noarch/pkg-1.0.conda", nginx.base), &[("x-access-token", &secret)]);
    assert_eq!(through.status, 200, "{}", through.body);
    assert!(through.body.contains("owner=ci-web"), "{}", through.body);

    // Listed with its origin; revocable.
    let out = server.cli().args(["token", "list", "--owner", "ci-web", "--json"]).output().unwrap();
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["origin"]["rule"], "#1 (ci-web)", "{listed}");
    let id = listed[0]["id"].to_string();
    assert!(server.cli().args(["token", "revoke", &id]).status().unwrap().success());
    let started = Instant::now();
    while check(server, &secret) != "revoked" {
        assert!(started.elapsed() < Duration::from_secs(30), "still not revoked");
        std::thread::sleep(Duration::from_millis(10));
    }

    // JSON bodies too; EC and Ed25519 (from a key file) keys too.
    let reply = exchange_json(server, &issuer.ec.sign(&claims(600)));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let ed_claims = with(with(claims(600), "iss", json!(FILED)), "sub", json!("workload:7"));
    let reply = exchange_json(server, &issuer.ed.sign(&ed_claims));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["token"]["origin"]["rule"], "#4 (ci-web)");

    // An identity token with 3 s left mints a token with at most 3 s; it expires,
    // and the identity token cannot be replayed past its own expiry.
    let short = issuer.rsa.sign(&claims(3));
    let reply = exchange_form(server, &short);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.json()["expires_in"].as_u64().unwrap() <= 3);
    let minted = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(check(server, &minted), "allow");
    std::thread::sleep(Duration::from_millis(5200));
    assert_eq!(check(server, &minted), "expired");
    assert_eq!(refused(&exchange_form(server, &short)), (401, "identity-token-expired".into()));

    // The log names issuer, subject and rule; no identity token and no secret appears anywhere in it.
    let log = server.log_once("the exchange line", |log| log.contains("identity token exchanged"));
    assert!(log.contains("repo:acme/web:ref:refs/heads/main") && log.contains("#1 (ci-web)"), "{log}");
    for sensitive in [&identity, &secret, &short, &minted] {
        let signature = sensitive.rsplit('.').next().unwrap();
        assert!(!log.contains(signature), "the log holds a token or secret");
    }
}

#[test]
fn every_flaw_of_an_identity_token_is_refused_with_its_own_401() {
    let issuer = start();
    let server = &issuer.server;
    let good = claims(600);
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "rsa-1"});
    let stranger = Key::new(issuer._keys.path(), Algorithm::RS256, "stranger").unwrap();
    let hs256 = {
        // Algorithm confusion: HS256 "signed" with the issuer's public key as the secret.
        let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
        header.kid = Some("rsa-1".into());
        let key = jsonwebtoken::EncodingKey::from_secret(&issuer.rsa.public_pem).unwrap();
        jsonwebtoken::encode(&header, &good, &key).unwrap()
    };
    let cases: Vec<(&str, String, &str)> = vec![
        ("alg none", forged(&json!({"alg": "none", "kid": "rsa-1"}), &good, b""), "unsupported-algorithm"),
        ("HS256 with the public key", hs256, "unsupported-algorithm"),
        ("unknown kid", stranger.sign(&good), "unknown-key"),
        (
            "tampered payload",
            tampered(&issuer.rsa.sign(&good), &with(good.clone(), "repository", json!("acme/other"))),
            "bad-signature",
        ),
        ("forged signature", forged(&header, &good, &[7; 256]), "bad-signature"),
        ("wrong issuer", issuer.rsa.sign(&with(good.clone(), "iss", json!("https://evil.example"))), "unknown-issuer"),
        ("wrong audience", issuer.rsa.sign(&with(good.clone(), "aud", json!("someone-else"))), "wrong-audience"),
        ("expired", issuer.rsa.sign(&with(good.clone(), "exp", json!(now() - 60))), "identity-token-expired"),
        (
            "not yet valid",
            issuer.rsa.sign(&with(good.clone(), "nbf", json!(now() + 300))),
            "identity-token-not-yet-valid",
        ),
        (
            "issued in the future",
            issuer.rsa.sign(&with(good.clone(), "iat", json!(now() + 300))),
            "identity-token-not-yet-valid",
        ),
        ("no sub", issuer.rsa.sign(&without(good.clone(), "sub")), "missing-claim"),
        ("no exp", issuer.rsa.sign(&without(good.clone(), "exp")), "missing-claim"),
        ("no iat", issuer.rsa.sign(&without(good.clone(), "iat")), "missing-claim"),
        ("exp as text", issuer.rsa.sign(&with(good.clone(), "exp", json!("tomorrow"))), "invalid-claim"),
        (
            "a rule's claim of the wrong type",
            issuer.rsa.sign(&with(good.clone(), "repository", json!(["acme/web"]))),
            "invalid-claim",
        ),
        ("1 MB", format!("{}.{}.x", "e".repeat(8), "A".repeat(1 << 20)), "identity-token-too-large"),
        ("not a JWT", "tks_not.a.jwt".to_owned(), "malformed-identity-token"),
    ];
    for (what, token, code) in &cases {
        let reply = exchange_form(server, token);
        assert_eq!(refused(&reply), (401, (*code).to_owned()), "{what}: {}", reply.body);
        assert!(reply.json()["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: a clear reason");
    }
    // The good one still works, and no refused one minted anything.
    assert_eq!(exchange_form(server, &issuer.rsa.sign(&good)).status, 200);
    let out = server.cli().args(["token", "list", "--owner", "ci-web", "--json"]).output().unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap().as_array().unwrap().len(), 1);
    // Form fields of RFC 8693 are checked when given; other media types are refused.
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    let wrong_grant = format!("grant_type=password&subject_token={}", issuer.rsa.sign(&good));
    let reply =
        send_with(&agent(), "POST", &server.url("/api/auth/exchange"), &headers, wrong_grant.into_bytes()).unwrap();
    assert_eq!(reply.status, 400, "{}", reply.body);
    let text = send_with(
        &agent(),
        "POST",
        &server.url("/api/auth/exchange"),
        &[("content-type", "text/plain")],
        b"x".to_vec(),
    )
    .unwrap();
    assert_eq!(text.status, 415);
}

#[test]
fn rules_match_by_claims_and_globs_never_mint_beyond_their_principal_and_keys_rotate() {
    let issuer = start();
    let server = &issuer.server;
    // A tag of any acme repository: the second rule, a resource token of ci-release for 5 minutes.
    let tag = with(with(claims(3600), "repository", json!("acme/cli")), "ref", json!("refs/tags/v1.2.0"));
    let reply = exchange_form(server, &issuer.rsa.sign(&tag));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["token"]["owner_name"], "ci-release");
    assert_eq!(reply.json()["token"]["grants"]["kind"], "resources", "{}", reply.body);
    assert!(reply.json()["expires_in"].as_u64().unwrap() <= 300);
    assert_eq!(check(server, reply.json()["access_token"].as_str().unwrap()), "allow");
    // No rule: another organisation, or a branch no rule names.
    let other = with(claims(600), "repository", json!("evil/web"));
    assert_eq!(refused(&exchange_form(server, &issuer.rsa.sign(&other))), (403, "no-matching-rule".into()));
    let branch = with(claims(600), "ref", json!("refs/heads/dev"));
    let reply = exchange_form(server, &issuer.rsa.sign(&branch));
    assert_eq!(refused(&reply), (403, "no-matching-rule".into()));
    assert!(reply.json()["message"].as_str().unwrap().contains("`ref` is `refs/heads/dev`"), "{}", reply.body);
    // A rule asking more than its principal holds (delete, where ci-web may only read): the policy refuses.
    let greedy = with(claims(600), "repository", json!("acme/greedy"));
    let reply = exchange_form(server, &issuer.rsa.sign(&greedy));
    assert_eq!(refused(&reply), (403, "escalation".into()), "{}", reply.body);

    // Key rotation: the issuer replaces rsa-1 by rsa-2. A token of the new key is
    // accepted (the set is read again for the unknown kid); the old key is then refused.
    let fetched = issuer.jwks.hits();
    let rsa2 = Key::new(issuer._keys.path(), Algorithm::RS256, "rsa-2").unwrap();
    issuer.jwks.set(jwks(&[&rsa2, &issuer.ec]));
    assert_eq!(exchange_form(server, &rsa2.sign(&claims(600))).status, 200);
    assert_eq!(issuer.jwks.hits(), fetched + 1, "one fetch for the new key");
    assert_eq!(refused(&exchange_form(server, &issuer.rsa.sign(&claims(600)))), (401, "unknown-key".into()));
    // Made-up key ids do not make the server fetch again and again (once a minute at most).
    for i in 0..5 {
        let made_up = Key::new(issuer._keys.path(), Algorithm::ES256, &format!("made-up-{i}")).unwrap();
        assert_eq!(refused(&exchange_form(server, &made_up.sign(&claims(600)))), (401, "unknown-key".into()));
    }
    assert_eq!(issuer.jwks.hits(), fetched + 1, "no fetch for made-up keys within the minute");
}

#[test]
fn the_cli_exchanges_and_says_which_rule_would_match_and_why() {
    let issuer = start();
    let server = &issuer.server;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.jwt");
    std::fs::write(&good, issuer.rsa.sign(&claims(600))).unwrap();
    let out = server.cli().args(["oidc", "test", "--token"]).arg(&good).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("matches rule #1 (ci-web)") && text.contains("repository = `acme/web`"), "{text}");
    let none = dir.path().join("none.jwt");
    std::fs::write(&none, issuer.rsa.sign(&with(claims(600), "repository", json!("evil/web")))).unwrap();
    let out = server.cli().args(["oidc", "test", "--token"]).arg(&none).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("no rule matches") && text.contains("`repository` is `evil/web`"), "{text}");

    let out =
        server.cli().args(["exchange", "--issuer-token"]).arg(&good).args(["--to", &server.base]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let secret = text.lines().nth(1).unwrap().trim().to_owned();
    assert!(secret.starts_with("tks_"), "{text}");
    assert_eq!(check(server, &secret), "allow");
}

#[test]
fn an_identity_token_is_exchanged_once_however_often_or_fast_it_is_sent() {
    let issuer = start();
    let server = &issuer.server;
    let identity = issuer.rsa.sign(&claims(600));
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (barrier, identity, base) = (std::sync::Arc::clone(&barrier), identity.clone(), server.base.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let body = json!({ "subject_token": identity }).to_string().into_bytes();
                let headers = [("content-type", "application/json")];
                (0..25)
                    .map(|_| send_with(&agent(), "POST", &format!("{base}/api/auth/exchange"), &headers, body.clone()))
                    .map(|r| r.unwrap())
                    .map(|r| (r.status, r.json()["code"].as_str().unwrap_or("").to_owned()))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let answers: Vec<(u16, String)> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let minted = answers.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(minted, 1, "200 identical exchanges minted {minted} tokens");
    assert!(
        answers.iter().all(|a| *a == (200, String::new()) || *a == (401, "identity-token-replayed".to_owned())),
        "{answers:?}"
    );
    let out = server.cli().args(["token", "list", "--owner", "ci-web", "--json"]).output().unwrap();
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

    // Another spelling of an ECDSA signature (s and n - s both verify) is the same identity token.
    let ec = issuer.ec.sign(&claims(600));
    assert_eq!(exchange_json(server, &ec).status, 200);
    let (signed, signature) = ec.rsplit_once('.').unwrap();
    let other = format!("{signed}.{}", tokenscope_tests::oidc::other_ecdsa_signature(signature));
    assert_ne!(other, ec);
    let reply = exchange_json(server, &other);
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert!(matches!(refused(&reply).1.as_str(), "identity-token-replayed" | "bad-signature"), "{}", reply.body);
}

#[test]
fn a_principal_holds_at_most_its_rules_number_of_live_exchanged_tokens() {
    let issuer = start();
    let server = &issuer.server;
    let capped = || with(claims(600), "repository", json!("acme/capped"));
    let mut secrets = Vec::new();
    for _ in 0..3 {
        let reply = exchange_json(server, &issuer.rsa.sign(&capped()));
        assert_eq!(reply.status, 200, "{}", reply.body);
        secrets.push(reply.json()["access_token"].as_str().unwrap().to_owned());
    }
    let over = issuer.rsa.sign(&capped());
    let reply = exchange_json(server, &over);
    assert_eq!(refused(&reply), (429, "too-many-live-tokens".into()), "{}", reply.body);
    // A revoked one no longer counts, and the refused identity token was not used up.
    let out = server.cli().args(["token", "list", "--owner", "ci-capped", "--json"]).output().unwrap();
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = listed[0]["id"].to_string();
    assert!(server.cli().args(["token", "revoke", &id]).status().unwrap().success());
    assert_eq!(exchange_json(server, &over).status, 200);
    assert_eq!(refused(&exchange_json(server, &issuer.rsa.sign(&capped()))), (429, "too-many-live-tokens".into()));
}

#[test]
fn an_identity_token_naming_a_member_twice_is_refused() {
    let issuer = start();
    let server = &issuer.server;
    let now = now();
    // Signed by the issuer's own key: the payload says two things about `repository`.
    let payload = format!(
        r#"{{"iss":"{CI}","aud":"tokenscope","sub":"repo:evil/web","repository":"evil/web","repository":"acme/web","ref":"refs/heads/main","iat":{now},"exp":{}}}"#,
        now + 600
    );
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": issuer.rsa.kid}).to_string();
    let token = signed_raw(&issuer.rsa, &header, &payload);
    let reply = exchange_json(server, &token);
    assert_eq!(refused(&reply), (401, "duplicate-member".into()), "{}", reply.body);
    let header = format!(r#"{{"alg":"RS256","kid":"{}","kid":"other"}}"#, issuer.rsa.kid);
    let payload = with(claims(600), "x", json!(1)).to_string();
    let reply = exchange_json(server, &signed_raw(&issuer.rsa, &header, &payload));
    assert_eq!(refused(&reply), (401, "duplicate-member".into()), "{}", reply.body);
    let out = server.cli().args(["token", "list", "--owner", "ci-web", "--json"]).output().unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap(), json!([]), "nothing was minted");
}
