//! What the third outside attack found (issue 22), each replayed against a
//! real `tokenscope serve`: reissuing another's token beyond the rights of the
//! one who reissues (by a link session and by a token whose owner lost the
//! right), bindings the policy rejects, removing the last root administrator,
//! sessions that outlive their principal or are flooded away, the feed naming
//! live hashes, a foreign origin told apart by its scheme, and a mistyped
//! store URL. The gateway's and the exchange's findings are in `gateway.rs`
//! and `oidc.rs`.

use serde_json::{Value, json};
use tokenscope_tests::http::{send, send_with};
use tokenscope_tests::page::{csrf_of, page, page_with, secret_shown, sign_in, sign_in_by_link};
use tokenscope_tests::routes::ROUTES;
use tokenscope_tests::server::Server;

/// The tests' check routes and a role with manage, for binding at the root.
fn config() -> String {
    format!("[roles.project-admin]\naccess = \"manage\"\n{ROUTES}")
}

fn cli(server: &Server, args: &[&str]) -> String {
    let out = server.cli().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A token made by the CLI: (secret, id).
fn token(server: &Server, owner: &str, args: &[&str]) -> (String, i64) {
    let mut all = vec!["token", "create", "--owner", owner, "--name", "t", "--json"];
    all.extend_from_slice(args);
    let made: Value = serde_json::from_str(&cli(server, &all)).unwrap();
    (made["secret"].as_str().unwrap().to_owned(), made["id"].as_i64().unwrap())
}

/// `/v1/check` for downloading from `channel`: the status.
fn download(server: &Server, secret: &str, channel: &str) -> u16 {
    let uri = format!("/api/repo/{channel}/noarch/pkg.conda");
    let auth = format!("Bearer {secret}");
    let headers = [("x-original-method", "GET"), ("x-original-uri", uri.as_str()), ("authorization", auth.as_str())];
    send("GET", &server.url("/v1/check"), &headers).status
}

/// Bob holds `channel/secret`, the helpdesk only `user/bob`: bob's token 2.
fn bob_and_helpdesk(server: &Server) -> (String, i64) {
    cli(server, &["principal", "add", "bob", "--grant", "channel/secret=manage"]);
    cli(server, &["principal", "add", "helpdesk", "--grant", "user/bob=manage"]);
    token(server, "bob", &["--resource", "channel/secret=manage"])
}

#[test]
fn a_link_session_reissues_nothing_beyond_the_person_who_reissues() {
    let server = Server::start(&config()).unwrap();
    let (bobs, id) = bob_and_helpdesk(&server);
    let (mine, _) = token(&server, "helpdesk", &["--scope", "user.token:view"]);
    assert_eq!(download(&server, &bobs, "secret"), 200);
    assert_eq!(download(&server, &mine, "secret"), 403, "the helpdesk's own token may not");

    let cookie = sign_in_by_link(&server, "helpdesk");
    let edit = server.url(&format!("/ui/principals/bob/tokens/{id}/edit"));
    let (status, _, body, _) = page(&edit, Some(&cookie), None);
    assert_eq!(status, 200, "the helpdesk may manage bob's tokens: {body}");
    let csrf = csrf_of(&body);
    let form = format!("name=t&description=&expires=&reissue=yes&csrf={csrf}");
    let target = server.url(&format!("/ui/principals/bob/tokens/{id}"));
    let (status, location, body, _) = page(&target, Some(&cookie), Some(&form));
    assert_eq!(status, 422, "a reissue beyond the helpdesk's rights: {location} {body}");
    assert!(body.contains("escalation") || body.contains("admin-required"), "{body}");
    assert!(secret_shown(&body).is_none());
    assert_eq!(download(&server, &bobs, "secret"), 200, "a refused reissue changes nothing");

    // Holding the right, the helpdesk reissues, and the new secret works.
    cli(&server, &["principal", "bind", "helpdesk", "--grant", "channel/secret=manage"]);
    let (status, location, body, _) = page(&target, Some(&cookie), Some(&form));
    assert_eq!(status, 303, "{body}");
    let shown = page(&server.url(&location), Some(&cookie), None).2;
    let new = secret_shown(&shown).unwrap();
    assert_eq!(download(&server, &new, "secret"), 200);
    assert_eq!(download(&server, &bobs, "secret"), 401, "the old secret died with the reissue");
}

#[test]
fn a_token_whose_owner_lost_the_right_reissues_and_extends_nothing_beyond_the_owner_now() {
    let server = Server::start(&config()).unwrap();
    let (bobs, id) = bob_and_helpdesk(&server);
    cli(&server, &["principal", "bind", "helpdesk", "--grant", "channel/secret=manage"]);
    let (desk, _) =
        token(&server, "helpdesk", &["--resource", "user/bob=manage", "--resource", "channel/secret=manage"]);
    cli(&server, &["principal", "unbind", "helpdesk", "--grant", "channel/secret=manage"]);
    // The change is the CLI's, another process: wait for the server to see it.
    let started = std::time::Instant::now();
    while download(&server, &desk, "secret") != 403 {
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "the unbind never reached the server");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    let path = format!("/api/principals/bob/tokens/{id}");
    for body in [json!({"reissue": true}), json!({"ttl": "300d"}), json!({"name": "renamed", "reissue": true})] {
        let r = server.api("PATCH", &path, &desk, Some(body.clone()));
        assert_eq!(r.status, 403, "{body}: {}", r.body);
        assert!(matches!(r.json()["code"].as_str(), Some("escalation" | "admin-required")), "{body}: {}", r.body);
        assert!(r.json()["secret"].is_null());
    }
    let created = server.api(
        "POST",
        "/api/principals/bob/tokens",
        &desk,
        Some(json!({"name": "x", "resources": ["channel/secret=read"]})),
    );
    assert_eq!(created.status, 403, "creating the same is refused too: {}", created.body);
    assert_eq!(download(&server, &bobs, "secret"), 200, "bob's token is untouched");
    // What does not widen needs only the right to manage bob's tokens.
    let shortened = server.api("PATCH", &path, &desk, Some(json!({"ttl": "1d"})));
    assert_eq!(shortened.status, 403, "a token changing one that holds more than itself: {}", shortened.body);
    assert_eq!(server.api("POST", &format!("{path}/revoke"), &desk, None).status, 200);
    assert_eq!(download(&server, &bobs, "secret"), 401);
}

#[test]
fn scope_tokens_for_someone_else_need_the_action_everywhere() {
    // A scope token acts wherever its owner holds the action, so one made for
    // someone else must stay within the creator's rights everywhere.
    let server = Server::start(&config()).unwrap();
    cli(&server, &["principal", "add", "bob", "--grant", "channel/secret=read", "--grant", "channel/public=read"]);
    cli(&server, &["principal", "add", "helpdesk", "--grant", "user/bob=manage", "--grant", "channel/public=read"]);
    let cookie = sign_in_by_link(&server, "helpdesk");
    let (_, _, body, _) = page(&server.url("/ui/principals/bob/tokens/new"), Some(&cookie), None);
    let csrf = csrf_of(&body);
    let form = format!("name=s&kind=scopes&scope=artifact%3Adownload&csrf={csrf}");
    let (status, _, body, _) = page(&server.url("/ui/principals/bob/tokens"), Some(&cookie), Some(&form));
    assert_eq!(status, 422, "the token would download from channel/secret, which the helpdesk cannot: {body}");
}

#[test]
fn bindings_the_policy_rejects_are_refused_when_bound() {
    let server = Server::start(&config()).unwrap();
    let admin = server.admin_secret.clone();
    cli(&server, &["principal", "add", "fred", "--grant", "channel/main=manage"]);
    let (freds, _) = token(&server, "fred", &["--resource", "channel/main=read"]);
    for (body, what) in [
        (json!({"grants": ["channel/../zzz=read"]}), "a dot segment"),
        (json!({"roles": ["project-admin@user/../x"]}), "a role at a dot segment"),
        (json!({"grants": ["channel/main=artifact:fly"]}), "an action the catalog lacks"),
        (json!({"grants": ["nosuchkind/x=read"]}), "a kind the policy lacks"),
    ] {
        let r = server.api("POST", "/api/principals/fred/bind", &admin, Some(body.clone()));
        assert_eq!(r.status, 422, "{what}: {}", r.body);
        assert!(r.json()["message"].as_str().unwrap().contains("policy"), "{what}: the policy's reason: {}", r.body);
    }
    let r =
        server.api("POST", "/api/principals", &admin, Some(json!({"name": "gina", "grants": ["channel/../x=read"]})));
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(server.api("GET", "/api/principals/gina/tokens", &admin, None).status, 404, "nothing was added");
    let out = server.cli().args(["principal", "bind", "fred", "--grant", "channel/../zzz=read"]).output().unwrap();
    assert!(!out.status.success(), "the CLI refuses it too");
    assert!(String::from_utf8_lossy(&out.stderr).contains("policy"), "{}", String::from_utf8_lossy(&out.stderr));
    let cookie = sign_in(&server, &admin);
    let csrf = csrf_of(&page(&server.url("/ui/principals/fred"), Some(&cookie), None).2);
    let form = format!("grants=channel%2F..%2Fzzz%3Dread&csrf={csrf}");
    assert_eq!(page(&server.url("/ui/principals/fred/bind"), Some(&cookie), Some(&form)).0, 422, "the page refuses it");
    // Fred and his tokens work on: nothing was bound.
    assert_eq!(download(&server, &freds, "main"), 200);
    let made = server.api(
        "POST",
        "/api/principals/fred/tokens",
        &admin,
        Some(json!({"name": "n", "resources": ["channel/main=read"]})),
    );
    assert_eq!(made.status, 201, "fred still issues tokens: {}", made.body);
}

#[test]
fn the_last_root_administrator_cannot_be_removed_or_unbound() {
    let server = Server::start(&config()).unwrap();
    let admin = server.admin_secret.clone();
    let (principals, _) =
        token(&server, "admin", &["--scope", "system.principals:edit", "--scope", "system.principals:view"]);
    // Such a token binds only what it holds itself: no root administration.
    let r =
        server.api("POST", "/api/principals", &principals, Some(json!({"name": "mallory", "grants": ["/=manage"]})));
    assert_eq!(r.status, 403, "{}", r.body);
    let r = server.api("POST", "/api/principals", &principals, Some(json!({"name": "plain"})));
    assert_eq!(r.status, 201, "a principal without rights it does not hold: {}", r.body);

    for (method, path, body) in [
        ("DELETE", "/api/principals/admin", None),
        ("POST", "/api/principals/admin/unbind", Some(json!({"grants": ["/=manage"]}))),
    ] {
        let r = server.api(method, path, &principals, body.clone());
        assert_eq!((r.status, r.json()["code"].as_str()), (409, Some("last-administrator")), "{path}: {}", r.body);
    }
    assert_eq!(server.api("GET", "/api/principals", &admin, None).status, 200, "the admin and its token live on");
    let out = server.cli().args(["principal", "remove", "admin"]).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("manage on the root"));

    // With a second administrator, the first may go.
    let r = server.api("POST", "/api/principals", &admin, Some(json!({"name": "root2", "grants": ["/=manage"]})));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(server.api("DELETE", "/api/principals/root2", &principals, None).status, 204);
    let r = server.api("POST", "/api/principals", &admin, Some(json!({"name": "root3", "roles": ["project-admin"]})));
    assert_eq!(r.status, 201, "a role with manage bound at the root: {}", r.body);
    assert_eq!(server.api("DELETE", "/api/principals/admin", &principals, None).status, 204);
    let r = server.api("DELETE", "/api/principals/root3", &admin, None);
    assert_eq!(r.status, 401, "the admin's tokens went with it: {}", r.body);
}

#[test]
fn a_link_session_ends_with_its_principal_and_never_acts_for_a_new_one_of_that_name() {
    let server = Server::start(&config()).unwrap();
    cli(&server, &["principal", "add", "erin", "--grant", "channel/main=manage"]);
    let first: Value = serde_json::from_str(&cli(&server, &["principal", "list", "--json"])).unwrap();
    let cookie = sign_in_by_link(&server, "erin");
    assert_eq!(page(&server.url("/ui/tokens"), Some(&cookie), None).0, 200);
    cli(&server, &["principal", "remove", "erin"]);
    cli(&server, &["principal", "add", "erin", "--grant", "/=manage"]);
    let (status, location, _, _) = page(&server.url("/ui/tokens"), Some(&cookie), None);
    assert_eq!((status, location.as_str()), (303, "/ui/sign-in"), "the old session must not act as the new erin");

    // The new erin has a new id: ids are never handed out again.
    let after: Value = serde_json::from_str(&cli(&server, &["principal", "list", "--json"])).unwrap();
    let id = |list: &Value| list.as_array().unwrap().iter().find(|p| p["name"] == "erin").unwrap()["id"].as_i64();
    assert_ne!(id(&first), id(&after));
}

#[test]
fn removing_the_newest_principal_does_not_free_its_id() {
    let server = Server::start(&config()).unwrap();
    cli(&server, &["principal", "add", "newest"]);
    let list: Value = serde_json::from_str(&cli(&server, &["principal", "list", "--json"])).unwrap();
    let old = list.as_array().unwrap().iter().find(|p| p["name"] == "newest").unwrap()["id"].as_i64().unwrap();
    cli(&server, &["principal", "remove", "newest"]);
    cli(&server, &["principal", "add", "next"]);
    let list: Value = serde_json::from_str(&cli(&server, &["principal", "list", "--json"])).unwrap();
    let new = list.as_array().unwrap().iter().find(|p| p["name"] == "next").unwrap()["id"].as_i64().unwrap();
    assert!(new > old, "id {old} was handed out again as {new}");
}

#[test]
fn a_sign_in_flood_signs_nobody_else_out() {
    let server = Server::start(&config()).unwrap();
    let (victim, _) = token(&server, "admin", &["--scope", "user.token:view"]);
    cli(&server, &["principal", "add", "mallory", "--grant", "channel/main=read"]);
    let (flood, _) = token(&server, "mallory", &["--scope", "user.token:view"]);
    let kept = sign_in(&server, &victim);
    let client = tokenscope_tests::page::agent();
    let form = format!("token={flood}").into_bytes();
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    let mut refused = 0;
    for _ in 0..10_001 {
        let r = send_with(&client, "POST", &server.url("/ui/sign-in"), &headers, form.clone()).unwrap();
        match r.status {
            303 => {}
            503 => refused += 1,
            other => panic!("a sign-in got {other}: {}", r.body),
        }
    }
    assert_eq!(refused, 0, "the flooder's own oldest sessions make room; nobody is refused");
    assert_eq!(page(&server.url("/ui/tokens"), Some(&kept), None).0, 200, "another person's session survives");
}

#[test]
fn the_feed_names_hashes_that_stopped_working_not_a_renamed_live_one() {
    let server = Server::start(&config()).unwrap();
    let (gateway, _) = token(&server, "admin", &["--scope", "system.tokens:introspect"]);
    cli(&server, &["principal", "add", "bob", "--grant", "channel/main=manage"]);
    let (bobs, id) = token(&server, "bob", &["--resource", "channel/main=read", "--ttl", "100d"]);
    let hash = tokenscope::secret::Secret::hash_of(&bobs).unwrap().to_hex();
    let feed = |since: &str| server.api("GET", &format!("/v1/revocations{since}"), &gateway, None).json();
    let head = feed("")["cursor"].as_u64().unwrap();
    let since = format!("?since={head}");
    let admin = server.admin_secret.clone();
    let path = format!("/api/principals/bob/tokens/{id}");
    assert_eq!(server.api("PATCH", &path, &admin, Some(json!({"name": "renamed", "description": "d"}))).status, 200);
    assert_eq!(server.api("PATCH", &path, &admin, Some(json!({"ttl": "300d"}))).status, 200);
    let after = feed(&since);
    assert!(!after["tokens"].as_array().unwrap().iter().any(|h| h == &json!(hash)), "a live hash in the feed: {after}");
    assert_eq!(download(&server, &bobs, "main"), 200, "it is live");
    assert_eq!(server.api("PATCH", &path, &admin, Some(json!({"ttl": "1d"}))).status, 200);
    assert!(feed(&since)["tokens"].as_array().unwrap().iter().any(|h| h == &json!(hash)), "an earlier expiry is named");
    assert_eq!(server.api("POST", &format!("{path}/revoke"), &admin, None).status, 200);
    assert!(feed(&since)["tokens"].as_array().unwrap().iter().any(|h| h == &json!(hash)), "a revocation is named");
}

#[test]
fn a_form_post_from_another_scheme_is_a_foreign_origin() {
    let server = Server::start(&config()).unwrap();
    let cookie = sign_in(&server, &server.admin_secret);
    let csrf = csrf_of(&page(&server.url("/ui/tokens/new"), Some(&cookie), None).2);
    let host = server.base.trim_start_matches("http://").to_owned();
    let form = format!("name=x&kind=scopes&scope=artifact%3Adownload&csrf={csrf}");
    for origin in [format!("https://{host}"), "http://evil.example".to_owned(), format!("http://{host}.evil.example")] {
        let (status, _, body, headers) =
            page_with(&server.url("/ui/tokens"), Some(&cookie), Some(&form), &[("origin", &origin)]);
        assert_eq!(status, 403, "{origin}: {body}");
        assert_eq!(headers.get("x-tokenscope-deny-code").and_then(|v| v.to_str().ok()), Some("foreign-origin"));
        assert!(body.contains("foreign-origin"), "{origin}: {body}");
    }
    let same = format!("http://{host}");
    assert_eq!(page_with(&server.url("/ui/tokens"), Some(&cookie), Some(&form), &[("origin", &same)]).0, 303);
}

#[test]
fn a_mistyped_postgres_url_is_an_error_not_a_new_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    for url in ["postgress://u@127.0.0.1/db", "mysql://u@h/db", "Postgres://u@h/db", "file://x.db"] {
        let out = tokenscope_tests::binary::tokenscope()
            .unwrap()
            .current_dir(dir.path())
            .args(["--store", url, "principal", "list"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{url}: {}", String::from_utf8_lossy(&out.stdout));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("scheme"),
            "{url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file was created");
}

#[test]
fn an_https_public_url_in_any_case_makes_the_cookie_secure() {
    let server = Server::start("[server]\npublic_url = \"HTTPS://Tokens.Example\"\n").unwrap();
    let (_, _, _, headers) = page(&server.url("/ui/sign-in"), None, Some(&format!("token={}", server.admin_secret)));
    let cookie = headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}
