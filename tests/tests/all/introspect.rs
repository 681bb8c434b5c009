//! The gateway endpoints of a real `tokenscope serve`: `POST /v1/introspect`
//! answers a token's data for the SHA-256 of its secret (never the secret) to
//! a token holding `system.tokens:introspect`, with `Cache-Control: max-age`,
//! and `GET /v1/revocations` names what changed (revoked, reissued, deleted
//! tokens by their old hash, principals whose rights changed) after a cursor.

use serde_json::Value;
use tokenscope::runtime::sha256_hex;
use tokenscope_tests::http::{agent, send, send_with};
use tokenscope_tests::server::Server;

fn introspect(server: &Server, caller: &str, body: &str) -> tokenscope_tests::http::Reply {
    send_with(
        &agent(),
        "POST",
        &server.url("/v1/introspect"),
        &[("authorization", &format!("Bearer {caller}")), ("content-type", "application/json")],
        body.as_bytes().to_vec(),
    )
    .unwrap()
}

fn of(secret: &str) -> String {
    format!("{{\"sha256\": \"{}\"}}", sha256_hex(secret.as_bytes()))
}

fn feed(server: &Server, caller: &str, since: u64) -> Value {
    let reply = send(
        "GET",
        &server.url(&format!("/v1/revocations?since={since}")),
        &[("authorization", &format!("Bearer {caller}"))],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    reply.json()
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

#[test]
fn gateways_read_token_data_by_hash_and_the_feed_names_every_change() {
    let server = Server::start("[introspect]\nmax_age = \"30s\"\n").unwrap();
    let gateway = server.issue("gateway", "/=manage", &["--scope", "system.tokens:introspect"]).unwrap();
    let ci = server.issue("ci", "channel/main=read", &["--scope", "artifact:download", "--ttl", "30d"]).unwrap();

    let known = introspect(&server, &gateway, &of(&ci));
    assert_eq!(known.status, 200, "{}", known.body);
    assert_eq!(known.header("cache-control"), Some("private, max-age=30"));
    let data = known.json();
    assert_eq!((data["found"].as_bool(), data["owner"].as_str()), (Some(true), Some("ci")), "{data}");
    assert_eq!(data["grants"], serde_json::json!({"kind": "scopes", "items": ["artifact:download"]}));
    // Every principal may manage its own tokens (`user/ci=manage`) besides what it was bound.
    assert_eq!(strings(&data["owner_rights"]), ["channel/main=read", "user/ci=manage"]);
    assert_eq!(data["revoked"].as_bool(), Some(false));
    assert!(data["expires_at"].as_u64().is_some_and(|at| at > 1_700_000_000), "{data}");
    assert!(!known.body.contains(&ci), "the secret is never in an answer");

    let unknown = introspect(&server, &gateway, &of("tks_never_issued"));
    assert_eq!((unknown.status, unknown.json()["found"].as_bool()), (200, Some(false)), "{}", unknown.body);
    assert_eq!(unknown.header("cache-control"), Some("private, max-age=5"));

    // Only a token that holds the action may ask; bad input is a 4xx with a code.
    let refused = introspect(&server, &ci, &of(&ci));
    assert_eq!((refused.status, refused.json()["code"].as_str()), (403, Some("no-grant")), "{}", refused.body);
    let anonymous = send_with(
        &agent(),
        "POST",
        &server.url("/v1/introspect"),
        &[("content-type", "application/json")],
        of(&ci).into(),
    );
    assert_eq!(anonymous.unwrap().status, 401);
    for bad in ["{}", "{\"sha256\": \"abc\"}", "{\"sha256\": 5}", "not json", "{\"sha256\": \"00\", \"x\": 1}"] {
        let reply = introspect(&server, &gateway, bad);
        assert_eq!(reply.status, 400, "{bad}: {}", reply.body);
    }
    let no_feed = send("GET", &server.url("/v1/revocations?since=0"), &[("authorization", &format!("Bearer {ci}"))]);
    assert_eq!(no_feed.status, 403);
    for query in ["since=-1", "since=x", "since=9223372036854775808", "limit=0", "limit=1001", "other=1"] {
        let reply = send(
            "GET",
            &server.url(&format!("/v1/revocations?{query}")),
            &[("authorization", &format!("Bearer {gateway}"))],
        );
        assert_eq!(reply.status, 400, "{query}: {}", reply.body);
    }

    let last = feed(&server, &gateway, 9_223_372_036_854_775_807);
    assert_eq!(strings(&last["tokens"]), Vec::<String>::new());
    // A cursor from beyond the feed's end: this is not the store the reader knew.
    assert_eq!(last["reset"].as_bool(), Some(true), "{last}");
    assert!(last["cursor"].as_u64().is_some_and(|c| c < 9_223_372_036_854_775_807), "{last}");

    // Changes through the CLI (another process): revoke, reissue, delete, unbind.
    let start = feed(&server, &gateway, 0)["cursor"].as_u64().unwrap();
    let cli = |args: &[&str]| {
        let out = server.cli().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let id = |secret: &str| introspect(&server, &gateway, &of(secret)).json()["id"].as_i64().unwrap().to_string();
    let ci_id = id(&ci);
    cli(&["token", "revoke", &ci_id]);
    assert_eq!(introspect(&server, &gateway, &of(&ci)).json()["revoked"].as_bool(), Some(true));
    let second = server.issue("ci2", "channel/main=read", &["--scope", "artifact:download"]).unwrap();
    let second_id = id(&second);
    let reissued: Value = serde_json::from_str(&cli(&["token", "reissue", &second_id, "--json"])).unwrap();
    let third = reissued["secret"].as_str().unwrap().to_owned();
    assert_eq!(introspect(&server, &gateway, &of(&second)).json()["found"].as_bool(), Some(false));
    assert_eq!(introspect(&server, &gateway, &of(&third)).json()["found"].as_bool(), Some(true));
    cli(&["token", "delete", &second_id]);
    cli(&["principal", "unbind", "ci", "--grant", "channel/main=read"]);

    let changes = feed(&server, &gateway, start);
    let (h1, h2, h3) = (sha256_hex(ci.as_bytes()), sha256_hex(second.as_bytes()), sha256_hex(third.as_bytes()));
    let tokens = strings(&changes["tokens"]);
    for (what, hash) in
        [("the revoked token", &h1), ("the reissued token's old secret", &h2), ("the deleted token", &h3)]
    {
        assert!(tokens.contains(hash), "{what} is missing from {changes}");
    }
    assert!(strings(&changes["principals"]).contains(&"ci".to_owned()), "{changes}");
    assert_eq!((changes["more"].as_bool(), changes["reset"].as_bool()), (Some(false), Some(false)));
    let after = feed(&server, &gateway, changes["cursor"].as_u64().unwrap());
    assert!(strings(&after["tokens"]).is_empty() && strings(&after["principals"]).is_empty(), "{after}");
    // Paged: one change at a time, in the same order.
    let page = send(
        "GET",
        &server.url(&format!("/v1/revocations?since={start}&limit=1")),
        &[("authorization", &format!("Bearer {gateway}"))],
    )
    .json();
    assert_eq!((page["more"].as_bool(), strings(&page["tokens"])), (Some(true), vec![h1.clone()]), "{page}");
    // Without `since`: the newest cursor and no changes, where a new reader starts.
    let head = send("GET", &server.url("/v1/revocations"), &[("authorization", &format!("Bearer {gateway}"))]).json();
    assert_eq!(head["cursor"], changes["cursor"], "{head}");
    assert!(strings(&head["tokens"]).is_empty() && head["more"].as_bool() == Some(false), "{head}");
    // The digest of the role definitions: a gateway drops everything when it changes.
    assert!(head["rights_epoch"].as_str().is_some_and(|e| e.len() == 64), "{head}");
}
