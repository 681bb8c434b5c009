//! `POST /v1/leaks` on a real `tokenscope serve`: a report signed by a key made
//! with openssl (as GitHub signs its secret scanning partner reports), or sent
//! with a token that holds `system.tokens:report-leak`, revokes every live
//! secret in it at once (the check refuses it, the change feed names it for
//! gateways), records where it leaked, tells the owner (a log line, the token
//! list, a webhook that is retried), and refuses a reissue; bad input is a 4xx.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use tokenscope::runtime::sha256_hex;
use tokenscope::secret::Secret;
use tokenscope_tests::http::{Reply, agent, send, send_with};
use tokenscope_tests::page::{page, sign_in_by_link};
use tokenscope_tests::routes::with_routes;
use tokenscope_tests::server::Server;
use tokenscope_tests::wait::until;
use tokenscope_tests::webhook::Webhook;

/// An ECDSA P-256 key pair made by openssl in `dir`: (private key file, public PEM).
fn key_pair(dir: &Path, name: &str) -> (std::path::PathBuf, String) {
    let present = || Command::new("openssl").arg("version").output().is_ok_and(|o| o.status.success());
    tokenscope_tests::apt::ensure("openssl", present).unwrap();
    let private = dir.join(format!("{name}.pem"));
    let made = Command::new("openssl")
        .args(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out"])
        .arg(&private)
        .status()
        .unwrap();
    assert!(made.success());
    let public = Command::new("openssl").args(["ec", "-pubout", "-in"]).arg(&private).output().unwrap();
    assert!(public.status.success());
    (private, String::from_utf8(public.stdout).unwrap())
}

/// openssl's signature of `body` with `key`: base64 of the DER ECDSA signature over its SHA-256.
fn sign(key: &Path, body: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body");
    std::fs::write(&file, body).unwrap();
    let signed = Command::new("openssl").args(["dgst", "-sha256", "-sign"]).arg(key).arg(&file).output().unwrap();
    assert!(signed.status.success());
    base64_of(&signed.stdout)
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn post(server: &Server, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    send_with(&agent(), "POST", &server.url("/v1/leaks"), &all, body.as_bytes().to_vec()).unwrap()
}

fn signed(server: &Server, key_id: &str, key: &Path, body: &str) -> Reply {
    let signature = sign(key, body);
    post(server, &[("Github-Public-Key-Identifier", key_id), ("Github-Public-Key-Signature", &signature)], body)
}

fn check(server: &Server, secret: &str) -> u16 {
    send(
        "GET",
        &server.url("/v1/check"),
        &[
            ("x-original-method", "GET"),
            ("x-original-uri", "/api/repo/main/linux-64/app.tar"),
            ("x-access-token", secret),
        ],
    )
    .status
}

fn report(entries: &[(&str, &str)]) -> String {
    let entries: Vec<Value> = entries
        .iter()
        .map(|(token, url)| json!({"token": token, "type": "tokenscope_token", "url": url, "source": "content"}))
        .collect();
    serde_json::to_string(&entries).unwrap()
}

#[test]
fn a_signed_report_revokes_live_secrets_records_the_leak_and_tells_the_owner() {
    let keys = tempfile::tempdir().unwrap();
    let (key, public) = key_pair(keys.path(), "github");
    let (other_key, _) = key_pair(keys.path(), "other");
    let webhook = Webhook::start(2).unwrap();
    let config = format!(
        "[leaks]\nwebhook_url = \"{}\"\n[[leaks.signers]]\nkey_id = \"k1\"\npem = \"\"\"\n{public}\"\"\"\n{}",
        webhook.url,
        with_routes("")
    );
    let server = Server::start(&config).unwrap();
    let ci = server.issue("ci", "channel/main=read", &["--scope", "artifact:download"]).unwrap();
    assert_eq!(check(&server, &ci), 200);
    let gateway = server.issue("gw", "/=manage", &["--scope", "system.tokens:introspect"]).unwrap();
    let cursor = send("GET", &server.url("/v1/revocations"), &[("authorization", &format!("Bearer {gateway}"))]).json()
        ["cursor"]
        .as_u64()
        .unwrap();

    let never = Secret::generate().unwrap().expose().to_owned();
    let body = report(&[
        (&ci, "https://github.com/acme/app/blob/abc/ci.yml"),
        (&never, "https://github.com/acme/app/blob/abc/x"),
        ("not a secret", "https://github.com/acme/app/blob/abc/y"),
    ]);
    let answer = signed(&server, "k1", &key, &body);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let labels: Vec<(String, String)> = answer
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["token_hash"].as_str().unwrap().to_owned(), a["label"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        labels,
        [
            (sha256_hex(ci.as_bytes()), "true_positive".to_owned()),
            (sha256_hex(never.as_bytes()), "false_positive".to_owned()),
            (sha256_hex(b"not a secret"), "false_positive".to_owned()),
        ]
    );
    assert_eq!(answer.json()[0]["token_type"], "tokenscope_token");
    assert!(!answer.body.contains(&ci), "the answer never carries the secret");

    // Revoked at once: the check refuses it, and the feed names its hash for gateways.
    assert_eq!(check(&server, &ci), 401);
    let feed = send(
        "GET",
        &server.url(&format!("/v1/revocations?since={cursor}")),
        &[("authorization", &format!("Bearer {gateway}"))],
    )
    .json();
    assert!(feed["tokens"].as_array().unwrap().contains(&json!(sha256_hex(ci.as_bytes()))), "{feed}");

    // The owner is told: a log line, the token list, the webhook (after two failed tries).
    let line = server.log_once("the leak line", |log| log.contains("was reported leaked at"));
    assert!(line.contains("https://github.com/acme/app/blob/abc/ci.yml") && line.contains("signer k1"), "{line}");
    until("the webhook delivered", std::time::Duration::from_millis(100), || !webhook.bodies().is_empty());
    assert!(webhook.tries() >= 3);
    let delivered: Value = serde_json::from_str(&webhook.bodies()[0]).unwrap();
    assert_eq!(delivered["event"], "token.leaked");
    assert_eq!(delivered["token"]["owner"], "ci");
    assert_eq!(delivered["leak"]["url"], "https://github.com/acme/app/blob/abc/ci.yml");
    assert_eq!(delivered["token_hash"].as_str(), Some(sha256_hex(ci.as_bytes()).as_str()));
    for text in webhook.bodies().iter().chain([&server.log()]) {
        assert!(!text.contains(&ci), "the secret is never sent or logged");
    }
    let list = server.cli().args(["token", "list", "--json"]).output().unwrap();
    let tokens: Value = serde_json::from_slice(&list.stdout).unwrap();
    let leaked = tokens.as_array().unwrap().iter().find(|t| t["owner_name"] == "ci").unwrap();
    assert_eq!(leaked["leak"]["url"], "https://github.com/acme/app/blob/abc/ci.yml", "{leaked}");
    assert_eq!(leaked["leak"]["reporter"], "signer k1");
    assert!(leaked["revoked_at"].as_u64().is_some());

    // The owner's next sign-in shows a banner, and the token as leaked where.
    let session = sign_in_by_link(&server, "ci");
    let (status, _, page_body, _) = page(&server.url("/ui/tokens"), Some(&session), None);
    assert_eq!(status, 200, "{page_body}");
    assert!(page_body.contains("revoked because a secret was reported leaked"), "{page_body}");
    assert!(page_body.contains("revoked: leaked at https://github.com/acme/app/blob/abc/ci.yml"), "{page_body}");
    assert!(!page_body.contains(&ci));

    // A reissue of a leaked token is refused: a new one is made instead.
    let id = leaked["id"].as_u64().unwrap().to_string();
    let reissue = server.cli().args(["token", "reissue", &id]).output().unwrap();
    assert!(!reissue.status.success());
    assert!(
        String::from_utf8_lossy(&reissue.stderr).contains("leaked"),
        "{}",
        String::from_utf8_lossy(&reissue.stderr)
    );

    // The same signed body again is a replay; a wrong key or signature is refused.
    assert_eq!((signed(&server, "k1", &key, &body).status, "replayed"), (409, "replayed"));
    let wrong = signed(&server, "k1", &other_key, &report(&[(&never, "https://x.test/")]));
    assert_eq!((wrong.status, wrong.json()["code"].as_str()), (401, Some("bad-signature")), "{}", wrong.body);
    let unknown = signed(&server, "k2", &key, &report(&[(&never, "https://x.test/")]));
    assert_eq!((unknown.status, unknown.json()["code"].as_str()), (401, Some("unknown-key")));
    let garbled = post(
        &server,
        &[("Github-Public-Key-Identifier", "k1"), ("Github-Public-Key-Signature", "bm90IGEgc2lnbmF0dXJl")],
        &body,
    );
    assert_eq!((garbled.status, garbled.json()["code"].as_str()), (401, Some("bad-signature")));
    let signature = sign(&key, &body);
    let twice = post(
        &server,
        &[
            ("Github-Public-Key-Identifier", "k1"),
            ("Github-Public-Key-Identifier", "k2"),
            ("Github-Public-Key-Signature", &signature),
        ],
        &body,
    );
    assert_eq!((twice.status, twice.json()["code"].as_str()), (400, Some("bad-request")), "{}", twice.body);
}

#[test]
fn a_scanners_token_may_report_and_bad_reports_are_clear_4xx() {
    let server = Server::start(&with_routes("")).unwrap();
    let scanner = server.issue("scanner", "/=manage", &["--scope", "system.tokens:report-leak"]).unwrap();
    let ci = server.issue("ci", "channel/main=read", &["--scope", "artifact:download"]).unwrap();
    let bearer = format!("Bearer {scanner}");

    // Unauthenticated, or a token without the action: nothing is said about the secrets.
    let body = report(&[(&ci, "https://ci.example.test/job/1")]);
    let anonymous = post(&server, &[], &body);
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    assert!(!anonymous.body.contains("positive"));
    let not_allowed = post(&server, &[("authorization", &format!("Bearer {ci}"))], &body);
    assert_eq!(not_allowed.status, 403, "{}", not_allowed.body);
    assert_eq!(check(&server, &ci), 200, "a refused report revokes nothing");

    let answer = post(&server, &[("authorization", &bearer)], &body);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()[0]["label"], "true_positive");
    assert_eq!(check(&server, &ci), 401);
    let line = server.log_once("the leak line", |log| log.contains("was reported leaked at"));
    assert!(line.contains("token of scanner"), "{line}");

    // Malformed bodies, too many entries, too long fields.
    for bad in [
        "",
        "{}",
        "[1]",
        "[{\"token\": \"x\"}]",
        "not json",
        "[{\"token\": 5, \"type\": \"t\", \"url\": \"u\", \"source\": \"s\"}]",
    ] {
        let reply = post(&server, &[("authorization", &bearer)], bad);
        assert_eq!(reply.status, 400, "{bad}: {}", reply.body);
        assert_eq!(reply.json()["code"], "bad-request");
    }
    let secret_in_garbage = format!("[{{\"token\": \"{ci}\", \"type\": 5}}]");
    let reply = post(&server, &[("authorization", &bearer)], &secret_in_garbage);
    assert_eq!(reply.status, 400);
    assert!(!reply.body.contains(&ci), "a refused body is never echoed");
    let many: Vec<(&str, &str)> = (0..1001).map(|_| ("tks_x", "u")).collect();
    let too_many = post(&server, &[("authorization", &bearer)], &report(&many));
    assert_eq!((too_many.status, too_many.json()["code"].as_str()), (413, Some("too-many-entries")));
    let long_url = "u".repeat(3000);
    let too_long = post(&server, &[("authorization", &bearer)], &report(&[("tks_x", long_url.as_str())]));
    assert_eq!(too_long.status, 422, "{}", too_long.body);
    let huge = format!("[{}]", "\"x\",".repeat(300_000));
    assert_eq!(post(&server, &[("authorization", &bearer)], &huge).status, 413);
    assert!(!server.log().contains(&ci));
}
