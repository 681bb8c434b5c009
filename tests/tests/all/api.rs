//! The management API of a real `tokenscope serve`: callers use their own token,
//! every operation is a policy decision on `user.token:*`, issuing goes through
//! the issuance check, a caller only sees its own tokens, and bad input always
//! gets a JSON 4xx while the server stays up.

use serde_json::{Value, json};
use tokenscope_tests::server::Server;

struct Reply {
    status: u16,
    body: String,
    www_authenticate: Option<String>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

fn call(method: &str, url: &str, token: Option<&str>, content_type: Option<&str>, body: Vec<u8>) -> Reply {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    let mut response = agent.run(request.body(body).unwrap()).unwrap();
    let www_authenticate = response.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Reply { status: response.status().as_u16(), body, www_authenticate }
}

fn json_call(method: &str, url: &str, token: &str, body: &Value) -> Reply {
    call(method, url, Some(token), Some("application/json"), serde_json::to_vec(body).unwrap())
}

/// A principal with `rights` and a management token carrying `scopes`; returns the secret.
fn principal_with_token(server: &Server, name: &str, rights: &str, scopes: &[&str]) -> String {
    let out = server.cli().args(["principal", "add", name, "--grant", rights]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut args = vec!["token", "create", "--owner", name, "--name", "manage", "--json"];
    for s in scopes {
        args.extend(["--scope", s]);
    }
    let out = server.cli().args(&args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["secret"].as_str().unwrap().to_owned()
}

#[test]
fn token_lifecycle_over_the_api() {
    let server = Server::start("").unwrap();
    let tokens = server.url("/api/account/tokens");
    let alice = principal_with_token(&server, "alice", "channel/main=manage", &["user.token:edit,view", "artifact"]);

    let scopes = call("GET", &server.url("/api/system/tokens"), Some(&alice), None, vec![]);
    assert_eq!(scopes.status, 200, "{}", scopes.body);
    assert_eq!(scopes.json()["scopes"].as_array().map(Vec::len), Some(74));

    let created = json_call(
        "POST",
        &tokens,
        &alice,
        &json!({"name": "ci-upload", "scopes": ["artifact:download"], "ttl": "30d"}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let created = created.json();
    let (id, secret) = (created["id"].as_i64().unwrap(), created["secret"].as_str().unwrap().to_owned());
    assert_eq!(created["grants"], json!({"kind": "scopes", "items": ["artifact:download"]}));

    let listed = call("GET", &tokens, Some(&alice), None, vec![]);
    assert_eq!(listed.status, 200);
    let listed = listed.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(2));
    assert!(!listed.to_string().contains(&secret), "a list never shows a secret");
    assert!(listed.as_array().unwrap().iter().all(|t| t.get("secret").is_none()));

    // The issuance check decides: escalation is 403, unknown scopes and mixed grants 422.
    let escalate = json_call("POST", &tokens, &alice, &json!({"name": "x", "scopes": ["role:edit"]}));
    assert_eq!((escalate.status, escalate.json()["code"].as_str()), (403, Some("escalation")));
    let unknown = json_call("POST", &tokens, &alice, &json!({"name": "x", "scopes": ["artifact:fly"]}));
    assert_eq!((unknown.status, unknown.json()["code"].as_str()), (422, Some("unknown-scope")));
    let mixed = json_call(
        "POST",
        &tokens,
        &alice,
        &json!({"name": "x", "scopes": ["artifact"], "resources": ["channel/main=read"]}),
    );
    assert_eq!(mixed.status, 422);

    // Rename, then reissue: the old secret is dead at once.
    let url = server.url(&format!("/api/account/tokens/{id}"));
    let renamed = json_call("PATCH", &url, &alice, &json!({"name": "ci-upload-2"}));
    assert_eq!((renamed.status, renamed.json()["name"].as_str()), (200, Some("ci-upload-2")));
    let reissued = json_call("PATCH", &url, &alice, &json!({"reissue": true}));
    assert_eq!(reissued.status, 200, "{}", reissued.body);
    let new_secret = reissued.json()["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);

    // venafi: a client revokes its own token when done (the token needs user.token:edit).
    let revoked = call("POST", &format!("{url}/revoke"), Some(&alice), None, vec![]);
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert!(revoked.json()["revoked_at"].is_u64());
    assert_eq!(call("DELETE", &url, Some(&alice), None, vec![]).status, 204);
    assert_eq!(call("DELETE", &url, Some(&alice), None, vec![]).json()["code"], "not-found");
}

#[test]
fn callers_need_their_own_rights_and_see_only_their_own_tokens() {
    let server = Server::start("").unwrap();
    let tokens = server.url("/api/account/tokens");
    let alice = principal_with_token(&server, "alice", "channel/main=manage", &["user.token:edit,view"]);
    let bob = principal_with_token(&server, "bob", "channel/main=read", &["user.token:edit,view"]);
    let reader = principal_with_token(&server, "carol", "channel/main=read", &["artifact"]);
    // (A token that holds only user.token:* mints only user.token:* tokens: see ceilings.rs.)
    let alice_token = json_call("POST", &tokens, &alice, &json!({"name": "a", "scopes": ["user.token:view"]}));
    assert_eq!(alice_token.status, 201, "{}", alice_token.body);
    let id = alice_token.json()["id"].as_i64().unwrap();

    // bob cannot see, change or delete alice's token: it is not found for him.
    let listed = call("GET", &tokens, Some(&bob), None, vec![]).json();
    assert!(listed.as_array().unwrap().iter().all(|t| t["owner_name"] == "bob"));
    let url = server.url(&format!("/api/account/tokens/{id}"));
    assert_eq!(call("DELETE", &url, Some(&bob), None, vec![]).status, 404);
    assert_eq!(json_call("PATCH", &url, &bob, &json!({"reissue": true})).status, 404);
    // bob holds only read on channel/main: a resource token needs manage there.
    let denied = json_call("POST", &tokens, &bob, &json!({"name": "b", "resources": ["channel/main=read"]}));
    assert_eq!((denied.status, denied.json()["code"].as_str()), (403, Some("admin-required")));
    // A token without user.token:* cannot manage tokens at all.
    let no_scope = call("GET", &tokens, Some(&reader), None, vec![]);
    assert_eq!((no_scope.status, no_scope.json()["code"].as_str()), (403, Some("no-grant")));
    // No token, or a garbage one: 401 with a challenge.
    for token in [None, Some("tks_nonsense")] {
        let r = call("GET", &tokens, token, None, vec![]);
        assert_eq!(r.status, 401);
        assert!(r.www_authenticate.is_some_and(|c| c.starts_with("Bearer")));
    }
}

/// (method, url, content type, body, expected status)
type BadInput<'a> = (&'a str, String, Option<&'a str>, Vec<u8>, u16);

#[test]
fn bad_input_matrix_always_gets_a_json_4xx() {
    let server = Server::start("").unwrap();
    let tokens = server.url("/api/account/tokens");
    let alice = principal_with_token(&server, "alice", "channel/main=manage", &["user.token:edit,view"]);
    let many: Vec<String> = (0..10_000).map(|_| "a".to_owned()).collect();
    let cases: Vec<BadInput<'_>> = vec![
        ("POST", tokens.clone(), Some("application/json"), b"{not json".to_vec(), 400),
        (
            "POST",
            tokens.clone(),
            Some("application/json"),
            br#"{"name":"x","scopes":["artifact"],"colour":"red"}"#.to_vec(),
            400,
        ),
        ("POST", tokens.clone(), Some("text/plain"), br#"{"name":"x","scopes":["artifact"]}"#.to_vec(), 415),
        ("POST", tokens.clone(), None, br#"{"name":"x","scopes":["artifact"]}"#.to_vec(), 415),
        ("POST", tokens.clone(), Some("application/json"), vec![0xff, 0xfe, 0x7b], 400),
        ("POST", tokens.clone(), Some("application/json"), vec![b' '; 200_000], 413),
        (
            "POST",
            tokens.clone(),
            Some("application/json"),
            serde_json::to_vec(&json!({"name": "x", "scopes": many})).unwrap(),
            422,
        ),
        (
            "POST",
            tokens.clone(),
            Some("application/json"),
            br#"{"name":"x","resources":["channel/../etc=read"]}"#.to_vec(),
            422,
        ),
        ("POST", tokens.clone(), Some("application/json"), br#"{"name":"","scopes":["artifact"]}"#.to_vec(), 422),
        (
            "POST",
            tokens.clone(),
            Some("application/json"),
            br#"{"name":"x","scopes":["artifact"],"ttl":"soon"}"#.to_vec(),
            422,
        ),
        // Exactly one of scopes, resources and role; none empty; role_at only with role; null is a wrong type.
        (
            "POST",
            tokens.clone(),
            Some("application/json"),
            br#"{"name":"x","scopes":[],"resources":["channel/main=read"]}"#.to_vec(),
            422,
        ),
        (
            "POST",
            tokens.clone(),
            Some("application/json"),
            br#"{"name":"x","resources":["channel/main=read"],"role_at":"channel/main"}"#.to_vec(),
            422,
        ),
        (
            "POST",
            tokens.clone(),
            Some("application/json"),
            br#"{"name":"x","scopes":["artifact"],"ttl":null}"#.to_vec(),
            400,
        ),
        ("PATCH", server.url("/api/account/tokens/abc"), Some("application/json"), b"{}".to_vec(), 400),
        ("PUT", tokens.clone(), Some("application/json"), b"{}".to_vec(), 405),
        ("GET", server.url("/api/account/nothing"), None, vec![], 404),
    ];
    for (method, url, content_type, body, want) in cases {
        let r = call(method, &url, Some(&alice), content_type, body);
        assert_eq!(r.status, want, "{method} {url}: {}", r.body);
        let code = r.json()["code"].as_str().map(str::to_owned);
        assert!(code.is_some_and(|c| !c.is_empty()), "{method} {url}: no code in {}", r.body);
    }
    assert_eq!(call("GET", &server.url("/healthz"), None, None, vec![]).status, 200, "the server stays up");
}

#[test]
fn every_documented_endpoint_is_served() {
    let server = Server::start("").unwrap();
    let doc = call("GET", &server.url("/api/openapi.json"), None, None, vec![]);
    assert_eq!(doc.status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&doc.body).unwrap(),
        serde_json::from_str::<Value>(tokenscope::server::OPENAPI).unwrap()
    );
    for (method, path) in tokenscope::server::ENDPOINTS {
        let url = server.url(&path.replace("{id}", "1").replace("{path}", "api/x"));
        let r = call(method, &url, None, None, vec![]);
        assert!(
            r.status != 404 && r.status != 405,
            "{method} {path} is documented but answers {}: {}",
            r.status,
            r.body
        );
    }
}
