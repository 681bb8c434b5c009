//! The administration API on a real `tokenscope serve`: principals are listed,
//! added, bound, unbound and removed by callers holding the new
//! `system.principals:*` actions on the root, and another principal's tokens
//! are managed by callers holding `user.token:*` on `user/<name>`; a token made
//! for someone else stays within the owner's rights, the asking token and the
//! creator's own current rights.

use serde_json::{Value, json};
use tokenscope_tests::http::Reply;
use tokenscope_tests::server::Server;

fn names(reply: &Reply) -> Vec<String> {
    reply.json().as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn root_admins_manage_principals_and_nobody_else_does() {
    let server = Server::start("[roles.reader]\naccess = \"read\"\n").unwrap();
    let admin = server.admin_secret.clone();
    let listed = server.api("GET", "/api/principals", &admin, None);
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(names(&listed), ["admin"]);

    let added = server.api(
        "POST",
        "/api/principals",
        &admin,
        Some(json!({"name": "bob", "grants": ["channel/main=read"], "roles": ["reader@channel/ci"]})),
    );
    assert_eq!(added.status, 201, "{}", added.body);
    let bindings = added.json()["bindings"].clone();
    for b in ["grant:channel/main=read", "role:reader@channel/ci", "grant:user/bob=manage"] {
        assert!(bindings.as_array().unwrap().iter().any(|x| x == b), "{b} in {bindings}");
    }
    assert_eq!(server.api("POST", "/api/principals", &admin, Some(json!({"name": "bob"}))).status, 409);
    for bad in
        [json!({"name": "b b"}), json!({"name": "x", "grants": ["nope"]}), json!({"name": "y", "roles": ["none"]})]
    {
        assert_eq!(server.api("POST", "/api/principals", &admin, Some(bad.clone())).status, 422, "{bad}");
    }
    assert_eq!(server.api("POST", "/api/principals", &admin, Some(json!({"name": "z", "extra": 1}))).status, 400);

    let bound =
        server.api("POST", "/api/principals/bob/bind", &admin, Some(json!({"grants": ["channel/other=write"]})));
    assert_eq!(bound.status, 200, "{}", bound.body);
    let unbound =
        server.api("POST", "/api/principals/bob/unbind", &admin, Some(json!({"grants": ["channel/main=read"]})));
    assert_eq!(unbound.status, 200, "{}", unbound.body);
    assert!(!unbound.body.contains("channel/main=read"));
    let missing = server.api("POST", "/api/principals/bob/unbind", &admin, Some(json!({"grants": ["channel/x=read"]})));
    assert_eq!(missing.status, 404);
    assert_eq!(server.api("POST", "/api/principals/bob/bind", &admin, Some(json!({}))).status, 422);
    assert_eq!(
        server.api("POST", "/api/principals/nobody/bind", &admin, Some(json!({"grants": ["a/b=read"]}))).status,
        404
    );

    // A non-admin cannot even mint a token that carries the actions; one without them is refused.
    let minted = server.cli().args(["principal", "add", "carol", "--grant", "channel/main=manage"]).output().unwrap();
    assert!(minted.status.success());
    let escalated = server
        .cli()
        .args(["token", "create", "--owner", "carol", "--name", "x", "--scope", "system.principals:edit"])
        .output()
        .unwrap();
    assert!(!escalated.status.success(), "the policy refuses the escalation");
    let user = server.issue("dave", "channel/main=manage", &["--scope", "user.token:view"]).unwrap();
    let refused = server.api("GET", "/api/principals", &user, None);
    assert_eq!((refused.status, refused.json()["code"].as_str()), (403, Some("no-grant")), "{}", refused.body);
    assert_eq!(server.api("DELETE", "/api/principals/bob", &user, None).status, 403);

    assert_eq!(server.api("DELETE", "/api/principals/bob", &admin, None).status, 204);
    assert_eq!(server.api("DELETE", "/api/principals/bob", &admin, None).status, 404);
    assert!(!names(&server.api("GET", "/api/principals", &admin, None)).contains(&"bob".to_owned()));
}

#[test]
fn a_helpdesk_manages_anothers_tokens_within_both_their_rights() {
    let server = Server::start("").unwrap();
    let cli = |args: &[&str]| {
        let out = server.cli().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    cli(&["principal", "add", "bob", "--grant", "channel/main=manage", "--grant", "channel/other=manage"]);
    cli(&["principal", "add", "helpdesk", "--grant", "user/bob=manage", "--grant", "channel/main=manage"]);
    cli(&["principal", "add", "carol", "--grant", "channel/main=read"]);
    let made: Value = serde_json::from_str(&cli(&[
        "token",
        "create",
        "--owner",
        "helpdesk",
        "--name",
        "desk",
        "--json",
        "--resource",
        "user/bob=manage",
        "--resource",
        "channel/main=manage",
    ]))
    .unwrap();
    let desk = made["secret"].as_str().unwrap().to_owned();

    // Bob's tokens: list, create within bob's and the helpdesk's rights.
    assert_eq!(server.api("GET", "/api/principals/bob/tokens", &desk, None).status, 200);
    let created = server.api(
        "POST",
        "/api/principals/bob/tokens",
        &desk,
        Some(json!({"name": "ci", "resources": ["channel/main=read"]})),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["owner_name"], "bob");
    let id = created.json()["id"].as_i64().unwrap();
    // Bob holds channel/other, the helpdesk does not: refused by the policy.
    let beyond = server.api(
        "POST",
        "/api/principals/bob/tokens",
        &desk,
        Some(json!({"name": "other", "resources": ["channel/other=read"]})),
    );
    assert_eq!(beyond.status, 403, "{}", beyond.body);
    // Edit, reissue, revoke, delete bob's token.
    let edited =
        server.api("PATCH", &format!("/api/principals/bob/tokens/{id}"), &desk, Some(json!({"reissue": true})));
    assert_eq!(edited.status, 200, "{}", edited.body);
    assert!(edited.json()["secret"].as_str().is_some_and(|s| s.starts_with("tks_")));
    assert_eq!(server.api("POST", &format!("/api/principals/bob/tokens/{id}/revoke"), &desk, None).status, 200);
    // Not under another principal's path, and not carol's tokens at all.
    assert_eq!(server.api("DELETE", &format!("/api/principals/carol/tokens/{id}"), &desk, None).status, 403);
    assert_eq!(server.api("GET", "/api/principals/carol/tokens", &desk, None).status, 403);
    assert_eq!(server.api("DELETE", &format!("/api/principals/helpdesk/tokens/{id}"), &desk, None).status, 403);
    assert_eq!(server.api("DELETE", &format!("/api/principals/bob/tokens/{id}"), &desk, None).status, 204);
    // The helpdesk loses bob: it may do nothing more for him.
    cli(&["principal", "unbind", "helpdesk", "--grant", "user/bob=manage"]);
    let after = server.api("GET", "/api/principals/bob/tokens", &desk, None);
    assert_eq!((after.status, after.json()["code"].as_str()), (403, Some("owner-lacks-right")), "{}", after.body);
}
