//! A token that manages tokens over the API stays within itself (issue 8): it
//! mints, renews and reissues nothing beyond its own grants and lifetime, a
//! refused PATCH changes nothing, and concurrent reissues of one token leave
//! exactly one live secret (the others are answered 409).

use std::sync::{Arc, Barrier};

use serde_json::{Value, json};
use tokenscope_tests::http::{Reply, agent, send_with};
use tokenscope_tests::server::Server;

fn api(method: &str, url: &str, token: &str, body: Option<Value>) -> Reply {
    let auth = format!("Bearer {token}");
    let mut headers = vec![("authorization", auth.as_str())];
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    let body = body.map(|b| serde_json::to_vec(&b).unwrap()).unwrap_or_default();
    send_with(&agent(), method, url, &headers, body).unwrap()
}

/// Creates a token for `owner` with the CLI; returns (secret, id, expires_at).
fn cli_token(server: &Server, owner: &str, args: &[&str]) -> (String, i64, u64) {
    let mut all = vec!["token", "create", "--owner", owner, "--name", "t", "--json"];
    all.extend_from_slice(args);
    let out = server.cli().args(&all).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    (v["secret"].as_str().unwrap().to_owned(), v["id"].as_i64().unwrap(), v["expires_at"].as_u64().unwrap())
}

fn setup() -> Server {
    let server = Server::start("").unwrap();
    let out = server.cli().args(["principal", "add", "bob", "--grant", "/=manage"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    server
}

#[test]
fn a_token_that_manages_tokens_mints_nothing_beyond_itself() {
    let server = setup();
    let tokens = server.url("/api/account/tokens");
    let (manager, manager_id, manager_expiry) = cli_token(&server, "bob", &["--scope", "user.token:*", "--ttl", "30d"]);
    let (_, sibling, _) = cli_token(&server, "bob", &["--scope", "artifact:*", "--ttl", "20d"]);

    for body in [
        json!({"name": "x", "scopes": ["artifact:create"]}),
        json!({"name": "x", "resources": ["channel/main=read"]}),
        json!({"name": "x", "scopes": ["user.token:view", "system.policy:edit"]}),
    ] {
        let r = api("POST", &tokens, &manager, Some(body.clone()));
        assert_eq!((r.status, r.json()["code"].as_str()), (403, Some("escalation")), "{body}: {}", r.body);
    }
    // Within itself: allowed, and never outliving it.
    let r = api("POST", &tokens, &manager, Some(json!({"name": "viewer", "scopes": ["user.token:view"]})));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["expires_at"].as_u64(), Some(manager_expiry), "the default lifetime is cut to the asker's");
    let r = api("POST", &tokens, &manager, Some(json!({"name": "v", "scopes": ["user.token:view"], "ttl": "60d"})));
    assert_eq!((r.status, r.json()["code"].as_str()), (403, Some("expiry-beyond-caller")), "{}", r.body);
    // It may not renew itself past its own expiry, only shorten it.
    let me = format!("{tokens}/{manager_id}");
    let r = api("PATCH", &me, &manager, Some(json!({"ttl": "60d"})));
    assert_eq!((r.status, r.json()["code"].as_str()), (403, Some("expiry-beyond-caller")), "{}", r.body);
    assert_eq!(api("PATCH", &me, &manager, Some(json!({"ttl": "10d"}))).status, 200);

    // A sibling holding more: no reissue (its secret would be the manager's), no
    // rename, and a refused PATCH changes nothing at all.
    let other = format!("{tokens}/{sibling}");
    let before = api("GET", &tokens, &manager, None).json();
    for body in [json!({"reissue": true}), json!({"name": "renamed", "reissue": true}), json!({"name": "renamed"})] {
        let r = api("PATCH", &other, &manager, Some(body.clone()));
        assert_eq!((r.status, r.json()["code"].as_str()), (403, Some("escalation")), "{body}: {}", r.body);
    }
    let after = api("GET", &tokens, &manager, None).json();
    let pick = |list: &Value| list.as_array().unwrap().iter().find(|t| t["id"] == sibling).cloned().unwrap();
    assert_eq!(pick(&before), pick(&after));
}

#[test]
fn a_refused_patch_changes_nothing_and_concurrent_reissues_leave_one_live_secret() {
    let server = setup();
    let tokens = server.url("/api/account/tokens");
    let (manager, _, _) = cli_token(&server, "bob", &["--scope", "user.token:*"]);
    // A revoked sibling: renaming and reissuing it in one PATCH is refused whole.
    let (_, revoked, _) = cli_token(&server, "bob", &["--scope", "user.token:view"]);
    assert!(server.cli().args(["token", "revoke", &revoked.to_string()]).status().unwrap().success());
    let r = api("PATCH", &format!("{tokens}/{revoked}"), &manager, Some(json!({"name": "new", "reissue": true})));
    assert_eq!((r.status, r.json()["code"].as_str()), (409, Some("revoked")), "{}", r.body);
    let list = api("GET", &tokens, &manager, None).json();
    let name = list.as_array().unwrap().iter().find(|t| t["id"] == revoked).unwrap()["name"].clone();
    assert_eq!(name, "t", "the refused PATCH renamed the token");

    // Eight reissues of one token at once.
    // Shorter-lived than the manager (default one year), whatever second each was made in.
    let (_, target, _) = cli_token(&server, "bob", &["--scope", "user.token:view", "--ttl", "30d"]);
    let url = format!("{tokens}/{target}");
    let barrier = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (barrier, url, manager) = (Arc::clone(&barrier), url.clone(), manager.clone());
            std::thread::spawn(move || {
                barrier.wait();
                api("PATCH", &url, &manager, Some(json!({"reissue": true})))
            })
        })
        .collect();
    let replies: Vec<Reply> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let mut secrets = Vec::new();
    for r in &replies {
        match r.status {
            200 => secrets.push(r.json()["secret"].as_str().unwrap().to_owned()),
            409 => assert_eq!(r.json()["code"], "conflict", "{}", r.body),
            other => panic!("a concurrent reissue got {other}: {}", r.body),
        }
    }
    assert!(!secrets.is_empty());
    let live: Vec<&String> = secrets.iter().filter(|s| api("GET", &tokens, s, None).status == 200).collect();
    assert_eq!(live.len(), 1, "{} reissues answered 200, {} of their secrets work", secrets.len(), live.len());
    eprintln!("concurrent reissues: {} answered 200, {} answered 409", secrets.len(), replies.len() - secrets.len());
}
