//! The token page in a real headless Chromium against a real `tokenscope serve`
//! and SQLite store: sign in with a token, generate a scope token and a resource
//! token and use their secrets at `/v1/check`, see a secret once, edit with
//! reissue, revoke, delete, sign out; a refused escalation shows the policy's
//! reason; a name holding `<script>` is text. Without a browser: CSRF, foreign
//! origins, a session that dies with its token, and the security headers.

use std::time::Duration;

use fantoccini::Locator;
use tokenscope_tests::browser::Browser;
use tokenscope_tests::http::send;
use tokenscope_tests::page::{csrf_of, page, page_with, sign_in};
use tokenscope_tests::server::Server;

const CONFIG: &str = r#"
[[check.routes]]
method = "GET"
path = "/api/repo/{channel}/{file}"
action = "artifact:download"
resource = "channel/{channel}/artifact/{file}"
"#;

/// A person holding manage on `channel/main` and a scope token to sign in with
/// (it may manage alice's tokens and mint download tokens: a token never mints
/// more than it holds).
fn person(server: &Server) -> String {
    let scopes = ["--scope", "user.token:view", "--scope", "user.token:edit", "--scope", "artifact:download"];
    server.issue("alice", "channel/main=manage", &scopes).unwrap()
}

/// A second token of alice's, bound to her nodes: it mints resource tokens.
fn resource_token(server: &Server) -> String {
    let out = server
        .cli()
        .args(["token", "create", "--owner", "alice", "--name", "main-admin", "--json"])
        .args(["--resource", "channel/main=manage", "--resource", "user/alice=manage"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    made["secret"].as_str().unwrap().to_owned()
}

/// `/v1/check` for downloading from `channel`: (status, deny code).
fn check(server: &Server, secret: &str, channel: &str) -> (u16, String) {
    let reply = send(
        "GET",
        &server.url("/v1/check"),
        &[
            ("x-original-method", "GET"),
            ("x-original-uri", &format!("/api/repo/{channel}/pkg.conda")),
            ("authorization", &format!("Bearer {secret}")),
        ],
    );
    (reply.status, reply.header("x-tokenscope-deny-code").unwrap_or("").to_owned())
}

/// The id of alice's token named `name`.
fn id_of(server: &Server, name: &str) -> i64 {
    let out = server.cli().args(["token", "list", "--owner", "alice", "--json"]).output().unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    list.as_array().unwrap().iter().find(|t| t["name"] == name).unwrap()["id"].as_i64().unwrap()
}

#[test]
fn a_person_manages_tokens_in_a_real_browser() {
    let server = Server::start(CONFIG).unwrap();
    let secret = person(&server);
    let browser = Browser::start(1280, 900).unwrap();
    let c = &browser.client;
    let shots = tokenscope_tests::binary::target_dir().unwrap().join("ui-screenshots");
    // Waits until the page's heading says `text` (a click may still show the old page).
    let heading = |text: &str| {
        let started = std::time::Instant::now();
        loop {
            let got = browser.run(async { c.find(Locator::Css("main h1")).await?.text().await });
            if got.as_ref().is_ok_and(|got| got.contains(text)) {
                return;
            }
            if started.elapsed() > tokenscope_tests::wait::DEADLINE {
                let url = browser.run(c.current_url()).map(|u| u.to_string()).unwrap_or_default();
                let page = browser.run(c.source()).unwrap_or_default();
                panic!("waiting for a page titled {text:?}, got {got:?} at {url}:\n{page}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let type_into = |css: &str, text: &str| {
        let field = browser.run(c.find(Locator::Css(css))).unwrap();
        browser.run(field.clear()).unwrap();
        browser.run(field.send_keys(text)).unwrap();
    };
    let click = |css: &str| browser.run(browser.run(c.find(Locator::Css(css))).unwrap().click()).unwrap();
    let submit = || click("main form button[type=submit]");
    let value =
        |css: &str| browser.run(browser.run(c.find(Locator::Css(css))).unwrap().prop("value")).unwrap().unwrap();
    let source = || browser.run(c.source()).unwrap();

    let sign_in_with = |secret: &str| {
        browser.run(c.goto(&server.url("/"))).unwrap();
        heading("Sign in");
        type_into("#token", secret);
        submit();
        heading("Tokens");
    };

    // Signed in with a scope token.
    sign_in_with(&secret);

    // A scope token: the secret is shown once, works at the check endpoint, and is gone on reload.
    browser.run(c.goto(&server.url("/ui/tokens/new"))).unwrap();
    heading("Generate token");
    type_into("#name", "ci download");
    type_into("#description", "CI job downloads");
    click("input[name=kind][value=scopes]");
    click("input[name=scope][value='artifact:download']");
    browser.screenshot(&shots.join("generate.png")).unwrap();
    submit();
    heading("Your new token");
    let scope_secret = value("#secret");
    assert!(scope_secret.starts_with("tks_"), "{scope_secret}");
    click("#copy");
    let copied = browser.run(async { c.find(Locator::Css("#copied")).await?.text().await }).unwrap();
    assert_eq!(copied, "Copied.", "the copy button answered");
    browser.screenshot(&shots.join("secret-once.png")).unwrap();
    assert_eq!(check(&server, &scope_secret, "main"), (200, String::new()));
    browser.run(c.refresh()).unwrap();
    heading("Tokens");
    assert!(!source().contains(&scope_secret), "a reload never shows the secret again");

    // A name with a script tag is shown as text.
    let evil = "<script>alert(1)</script>";
    browser.run(c.goto(&server.url("/ui/tokens/new"))).unwrap();
    type_into("#name", evil);
    click("input[name=kind][value=scopes]");
    click("input[name=scope][value='artifact:download']");
    submit();
    heading("Your new token");
    browser.run(c.goto(&server.url("/ui/tokens"))).unwrap();
    heading("Tokens");
    let names: Vec<String> = browser
        .run(c.find_all(Locator::Css("tbody th")))
        .unwrap()
        .iter()
        .map(|th| browser.run(th.text()).unwrap())
        .collect();
    assert!(names.iter().any(|n| n.starts_with(evil)), "{names:?}");
    assert!(browser.run(c.get_alert_text()).is_err(), "no script ran");

    // Edit with reissue: the old secret stops, the new one works.
    let ci = id_of(&server, "ci download");
    browser.run(c.goto(&server.url(&format!("/ui/tokens/{ci}/edit")))).unwrap();
    heading("Edit ci download");
    click("#reissue");
    submit();
    heading("Your new token");
    let reissued = value("#secret");
    assert_eq!(check(&server, &scope_secret, "main").0, 401, "the old secret is dead");
    assert_eq!(check(&server, &reissued, "main"), (200, String::new()));

    // Sign out: the session cookie no longer works.
    let cookie = browser.run(c.get_named_cookie("tokenscope_session")).unwrap().value().to_owned();
    click("header form button[type=submit]");
    heading("Sign in");
    let (status, location, _, _) = page(&server.url("/ui/tokens"), Some(&cookie), None);
    assert_eq!((status, location.as_str()), (303, "/ui/sign-in"));

    // Signed in with a token bound to alice's nodes: resource tokens.
    sign_in_with(&resource_token(&server));
    browser.run(c.goto(&server.url("/ui/tokens/new"))).unwrap();
    type_into("#name", "mirror");
    type_into("#node-0", "channel/main");
    submit();
    heading("Your new token");
    let resource_secret = value("#secret");
    assert_eq!(check(&server, &resource_secret, "main"), (200, String::new()));
    assert_eq!(check(&server, &resource_secret, "other").0, 403);

    // An escalation: refused by the policy, its reason next to the grants.
    browser.run(c.goto(&server.url("/ui/tokens/new"))).unwrap();
    type_into("#name", "too much");
    type_into("#node-0", "channel/other");
    browser.run(browser.run(c.find(Locator::Css("#level-0"))).unwrap().select_by_value("manage")).unwrap();
    submit();
    heading("Generate token");
    let error =
        browser.run(c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#grants-error"))).unwrap();
    let reason = browser.run(error.text()).unwrap();
    assert!(reason.contains("channel/other") && reason.contains("manage"), "{reason}");

    // Revoke, behind a confirmation.
    let mirror = id_of(&server, "mirror");
    browser.run(c.goto(&server.url(&format!("/ui/tokens/{mirror}/revoke")))).unwrap();
    heading("Revoke mirror?");
    click("main form button.danger");
    heading("Tokens");
    assert_eq!(check(&server, &resource_secret, "main"), (401, "revoked".into()));
    browser.screenshot(&shots.join("tokens.png")).unwrap();

    // At a phone's width nothing but the token table scrolls sideways.
    browser.run(c.set_window_size(390, 844)).unwrap();
    for path in ["/ui/tokens", "/ui/tokens/new"] {
        browser.run(c.goto(&server.url(path))).unwrap();
        let fits = browser
            .run(c.execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![]))
            .unwrap();
        let wide = browser
            .run(c.execute(
                "return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap')).map(e => e.tagName + '.' + e.className + ':' + Math.round(e.getBoundingClientRect().right)).slice(0, 8).join(' ');",
                vec![],
            ))
            .unwrap();
        assert_eq!(fits, serde_json::Value::Bool(true), "{path} overflows at 390 px: {wide}");
    }
    browser.screenshot(&shots.join("phone.png")).unwrap();
    browser.run(c.set_window_size(1280, 900)).unwrap();

    // Delete, behind a confirmation.
    let scripted = id_of(&server, evil);
    browser.run(c.goto(&server.url(&format!("/ui/tokens/{scripted}/delete")))).unwrap();
    heading("Delete");
    click("main form button.danger");
    heading("Tokens");
    let page = source();
    let list = page.split("id=\"activity\"").next().unwrap_or_default();
    assert!(!list.contains("&lt;script&gt;"), "the deleted token is gone from the list");
    assert!(page.contains("token.delete"), "and its deletion is under Activity");
}

#[test]
fn forms_need_the_sessions_csrf_token_and_the_same_origin_and_pages_carry_the_security_headers() {
    let server = Server::start(CONFIG).unwrap();
    let secret = person(&server);
    let cookie = sign_in(&server, &secret);
    let (status, _, body, headers) = page(&server.url("/ui/tokens/new"), Some(&cookie), None);
    assert_eq!(status, 200);
    for (name, value) in [
        ("content-security-policy", "default-src 'none'; script-src 'self'"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        let got = headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(got.starts_with(value), "{name}: {got}");
    }
    assert!(headers.get("content-security-policy").unwrap().to_str().unwrap().contains("frame-ancestors 'none'"));
    assert!(!body.contains("<script>") && !body.contains("style="), "no inline script or style");
    let csrf = csrf_of(&body);
    let form = "name=x&kind=scopes&scope=artifact%3Adownload";
    let made = |extra: &str| page(&server.url("/ui/tokens"), Some(&cookie), Some(&format!("{form}{extra}"))).0;
    assert_eq!(made(""), 403, "no CSRF token");
    assert_eq!(made(&format!("&csrf={}", "0".repeat(64))), 403, "a wrong CSRF token");
    let other = sign_in(&server, &secret);
    let other_csrf = csrf_of(&page(&server.url("/ui/tokens/new"), Some(&other), None).2);
    assert_eq!(made(&format!("&csrf={other_csrf}")), 403, "another session's CSRF token");
    // From another origin, even with the right token.
    let headers = [("origin", "http://evil.example"), ("sec-fetch-site", "cross-site")];
    let foreign = page_with(&server.url("/ui/tokens"), Some(&cookie), Some(&format!("{form}&csrf={csrf}")), &headers);
    assert_eq!(foreign.0, 403);
    assert_eq!(made(&format!("&csrf={csrf}")), 303, "the right token makes the token");
    // GET changes nothing: a revoke link only asks.
    let id = id_of(&server, "x");
    let (status, _, body, _) = page(&server.url(&format!("/ui/tokens/{id}/revoke")), Some(&cookie), None);
    assert_eq!(status, 200);
    assert!(body.contains("Revoke x?"));
    let out = server.cli().args(["token", "list", "--owner", "alice", "--json"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("\"revoked_at\":1"), "nothing was revoked");
    // Someone else's token is not found.
    let (status, _, _, _) = page(&server.url("/ui/tokens/1/edit"), Some(&cookie), None);
    assert_eq!(status, 404, "the bootstrap admin's token is not alice's");
}

#[test]
fn a_session_dies_with_the_token_that_opened_it() {
    let server = Server::start(CONFIG).unwrap();
    let secret = person(&server);
    let signed = |cookie: &str| page(&server.url("/ui/tokens"), Some(cookie), None).0;
    // The CLI is another process: its change reaches the server within the
    // documented bound (twice `cache.refresh`), usually at once by notification.
    let ended = |cookie: &str| {
        let started = std::time::Instant::now();
        loop {
            let status = signed(cookie);
            if status != 200 || started.elapsed() > std::time::Duration::from_secs(30) {
                return status;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    };

    let cookie = sign_in(&server, &secret);
    assert_eq!(signed(&cookie), 200);
    let id = id_of(&server, "t").to_string();
    let out = server.cli().args(["token", "revoke", &id]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(ended(&cookie), 303, "revoked: the session is over");
    let (status, _, body, _) = page(&server.url("/ui/sign-in"), None, Some(&format!("token={secret}")));
    assert_eq!(status, 401);
    assert!(body.contains("revoked"), "{body}");

    // Reissued, and its owner losing the right.
    let second = server.issue("bob", "channel/main=read", &["--scope", "user.token:view"]).unwrap();
    let cookie = sign_in(&server, &second);
    let bob = {
        let out = server.cli().args(["token", "list", "--owner", "bob", "--json"]).output().unwrap();
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        list[0]["id"].as_i64().unwrap().to_string()
    };
    assert!(server.cli().args(["token", "reissue", &bob]).output().unwrap().status.success());
    assert_eq!(ended(&cookie), 303, "reissued: the old secret's session is over");

    let third = server.issue("carol", "channel/main=read", &["--scope", "user.token:view"]).unwrap();
    let cookie = sign_in(&server, &third);
    assert!(server.cli().args(["principal", "remove", "carol"]).output().unwrap().status.success());
    assert_eq!(ended(&cookie), 303, "owner removed: the session is over");

    // A forged or unknown cookie is no session.
    assert_eq!(signed(&"a".repeat(64)), 303);
    assert_eq!(signed("not-hex"), 303);
}

#[test]
fn a_one_time_link_signs_a_person_in_once_with_their_own_rights() {
    let server = Server::start(CONFIG).unwrap();
    let out = server.cli().args(["principal", "add", "dana", "--grant", "channel/main=manage"]).output().unwrap();
    assert!(out.status.success());
    let link = |ttl: &str| {
        let out =
            server.cli().args(["principal", "sign-in-link", "dana", "--ttl", ttl, "--url", &server.base]).output();
        let out = out.unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let url = link("15m");
    let (page_url, code) = url.split_once('#').unwrap();
    assert_eq!(page_url, server.url("/ui/sign-in/link"), "the code travels in the fragment only");
    let (status, _, body, _) = page(page_url, None, None);
    assert_eq!(status, 200);
    assert!(body.contains("data-from-fragment"));

    let (status, location, _, headers) = page(&server.url("/ui/sign-in/link"), None, Some(&format!("code={code}")));
    assert_eq!((status, location.as_str()), (303, "/ui/tokens"));
    let cookie = headers.get("set-cookie").unwrap().to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().trim_start_matches("tokenscope_session=").to_owned();
    let (again, _, body, _) = page(&server.url("/ui/sign-in/link"), None, Some(&format!("code={code}")));
    assert_eq!(again, 401, "a link works once");
    assert!(body.contains("unknown, used or expired"));

    // With her own rights (no token to stay within): both kinds of token.
    let csrf = csrf_of(&page(&server.url("/ui/tokens/new"), Some(&cookie), None).2);
    for form in
        ["name=s&kind=scopes&scope=artifact%3Adownload", "name=r&kind=resources&node=channel%2Fmain&level=write"]
    {
        let (status, location, body, _) =
            page(&server.url("/ui/tokens"), Some(&cookie), Some(&format!("{form}&csrf={csrf}")));
        assert_eq!(status, 303, "{form}: {body}");
        assert!(location.ends_with("/secret"), "{location}");
    }
    let (status, _, body, _) = page(
        &server.url("/ui/tokens"),
        Some(&cookie),
        Some(&format!("name=x&kind=resources&node=channel%2Fother&level=read&csrf={csrf}")),
    );
    assert_eq!(status, 422, "never beyond her rights: {body}");

    // Removed: the session ends.
    assert!(server.cli().args(["principal", "remove", "dana"]).output().unwrap().status.success());
    assert_eq!(page(&server.url("/ui/tokens"), Some(&cookie), None).0, 303);

    // Expired links and bad input.
    let out = server.cli().args(["principal", "add", "erin"]).output().unwrap();
    assert!(out.status.success());
    let refused = server.cli().args(["principal", "sign-in-link", "erin", "--ttl", "30d"]).output().unwrap();
    assert!(!refused.status.success(), "at most 7 days");
    let late = server.cli().args(["principal", "sign-in-link", "erin", "--ttl", "1s", "--url", &server.base]).output();
    let late = String::from_utf8_lossy(&late.unwrap().stdout).trim().to_owned();
    std::thread::sleep(Duration::from_millis(2_100));
    let code = late.split_once('#').unwrap().1;
    assert_eq!(page(&server.url("/ui/sign-in/link"), None, Some(&format!("code={code}"))).0, 401, "expired");
    for bad in ["", "tks_nope", "x%00y"] {
        assert_eq!(page(&server.url("/ui/sign-in/link"), None, Some(&format!("code={bad}"))).0, 401, "{bad}");
    }
}

#[test]
fn a_tokens_effective_permissions_follow_its_owner_and_the_policy() {
    let server = Server::start(CONFIG).unwrap();
    let secret = person(&server);
    let cookie = sign_in(&server, &secret);
    let id = id_of(&server, "t");
    let (status, _, body, _) = page(&server.url(&format!("/ui/tokens/{id}")), Some(&cookie), None);
    assert_eq!(status, 200);
    assert!(body.contains("Effective permissions"));
    let row = |body: &str, node: &str| {
        body.split("<tr>").find(|r| r.contains(&format!("<code>{node}</code></th>"))).unwrap_or("").to_owned()
    };
    assert!(row(&body, "channel/main").contains("artifact:download"), "{body}");
    assert!(!row(&body, "channel/main").contains("artifact:create"), "not granted by the token");
    // The owner loses the channel: the page says so at once.
    let out = server.cli().args(["principal", "unbind", "alice", "--grant", "channel/main=manage"]).output().unwrap();
    assert!(out.status.success());
    let (_, _, body, _) = page(&server.url(&format!("/ui/tokens/{id}")), Some(&cookie), None);
    assert!(!row(&body, "channel/main").contains("artifact:download"), "{body}");
    assert!(row(&body, "user/alice").contains("user.token:view"), "{body}");
    // Another principal's token is not shown.
    assert_eq!(page(&server.url("/ui/tokens/1"), Some(&cookie), None).0, 404);
}

#[test]
fn the_policy_page_shows_the_module_and_rolls_back_for_policy_admins() {
    let server = Server::start(CONFIG).unwrap();
    let admin = sign_in(&server, &server.admin_secret);
    let (status, _, body, _) = page(&server.url("/ui/policy"), Some(&admin), None);
    assert_eq!(status, 200, "{body}");
    let active = tokenscope::runtime::sha256_hex(tokenscope::runtime::DEFAULT_POLICY);
    assert!(body.contains(&active) && body.contains("Loaded at"), "{body}");
    assert!(body.contains("embedded in this binary") && body.contains("Not required: no [policy.trust]"), "{body}");
    assert!(body.contains("nothing to roll back to"));

    // Load the variant through the API, then roll back in the page.
    let variant = std::fs::read(tokenscope_tests::modules::VARIANT).unwrap();
    let loaded = tokenscope_tests::http::send_with(
        &tokenscope_tests::http::agent(),
        "POST",
        &server.url("/api/system/policy"),
        &[("authorization", &format!("Bearer {}", server.admin_secret)), ("content-type", "application/wasm")],
        variant,
    )
    .unwrap();
    assert_eq!(loaded.status, 200, "{}", loaded.body);
    let (_, _, body, _) = page(&server.url("/ui/policy"), Some(&admin), None);
    assert!(body.contains("tokenscope-variant") && body.contains("Roll back to tokenscope-default"), "{body}");
    let csrf = csrf_of(&body);
    assert_eq!(page(&server.url("/ui/policy/rollback"), Some(&admin), Some("csrf=wrong")).0, 403);
    let (status, location, _, _) =
        page(&server.url("/ui/policy/rollback"), Some(&admin), Some(&format!("csrf={csrf}")));
    assert_eq!((status, location.as_str()), (303, "/ui/policy"));
    let status = send(
        "GET",
        &server.url("/api/system/policy"),
        &[("authorization", &format!("Bearer {}", server.admin_secret))],
    );
    assert_eq!(status.json()["active"]["sha256"], active.as_str(), "rolled back");

    // Without system.policy:view: refused, and no rollback either.
    let secret = person(&server);
    let cookie = sign_in(&server, &secret);
    let (status, _, body, _) = page(&server.url("/ui/policy"), Some(&cookie), None);
    assert_eq!(status, 403, "{body}");
    let csrf = csrf_of(&page(&server.url("/ui/tokens/new"), Some(&cookie), None).2);
    assert_eq!(page(&server.url("/ui/policy/rollback"), Some(&cookie), Some(&format!("csrf={csrf}"))).0, 403);
}

#[test]
fn root_admins_manage_principals_and_their_tokens_in_the_page() {
    let server = Server::start(CONFIG).unwrap();
    let admin = sign_in(&server, &server.admin_secret);
    let (status, _, body, _) = page(&server.url("/ui/principals"), Some(&admin), None);
    assert_eq!(status, 200, "{body}");
    let csrf = csrf_of(&body);
    let post = |path: &str, form: &str| page(&server.url(path), Some(&admin), Some(&format!("{form}&csrf={csrf}")));

    // Add, bind, unbind.
    let (status, location, _, _) =
        post("/ui/principals", "name=bob&grants=channel%2Fmain%3Dmanage%0Achannel%2Fother%3Dread&roles=");
    assert_eq!((status, location.as_str()), (303, "/ui/principals/bob"));
    let (_, _, body, _) = page(&server.url("/ui/principals/bob"), Some(&admin), None);
    assert!(body.contains("grant:channel/main=manage") && body.contains("grant:channel/other=read"), "{body}");
    assert_eq!(post("/ui/principals/bob/unbind", "grants=channel%2Fother%3Dread").0, 303);
    assert_eq!(post("/ui/principals/bob/bind", "grants=not-a-grant").0, 422);
    let (_, _, body, _) = page(&server.url("/ui/principals/bob"), Some(&admin), None);
    assert!(!body.contains("channel/other=read"), "{body}");
    assert_eq!(post("/ui/principals", "name=bad%20name").0, 422);

    // Bob's tokens, made by the admin: within bob's rights.
    let (status, location, body, _) =
        post("/ui/principals/bob/tokens", "name=bob-ci&kind=resources&node=channel%2Fmain&level=read");
    assert_eq!(status, 303, "{body}");
    assert!(location.starts_with("/ui/principals/bob/tokens/") && location.ends_with("/secret"), "{location}");
    let (_, _, shown, _) = page(&server.url(&location), Some(&admin), None);
    let at = shown.find("value=\"tks_").unwrap() + "value=\"".len();
    let secret = &shown[at..at + shown[at..].find('"').unwrap()];
    assert_eq!(check(&server, secret, "main"), (200, String::new()));
    let beyond = post("/ui/principals/bob/tokens", "name=x&kind=resources&node=channel%2Fother&level=read");
    assert_eq!(beyond.0, 422, "bob does not hold channel/other");
    let (_, _, list, _) = page(&server.url("/ui/principals/bob/tokens"), Some(&admin), None);
    assert!(list.contains("Tokens of bob") && list.contains("bob-ci"), "{list}");

    // Remove, behind a confirmation: bob's token goes with him.
    let (status, _, body, _) = page(&server.url("/ui/principals/bob/remove"), Some(&admin), None);
    assert_eq!(status, 200);
    assert!(body.contains("Remove bob?"));
    assert_eq!(post("/ui/principals/bob/remove", "").0, 303);
    assert_eq!(check(&server, secret, "main").0, 401);

    // Someone without the actions: refused.
    let secret = person(&server);
    let cookie = sign_in(&server, &secret);
    assert_eq!(page(&server.url("/ui/principals"), Some(&cookie), None).0, 403);
    assert_eq!(page(&server.url("/ui/principals/admin/tokens"), Some(&cookie), None).0, 403);
}

#[test]
fn the_activity_shows_a_person_their_own_events_and_an_administrator_the_whole_trail_in_a_real_browser() {
    let server = Server::start(CONFIG).unwrap();
    let secret = person(&server);
    let browser = Browser::start(1280, 900).unwrap();
    let c = &browser.client;
    let shots = tokenscope_tests::binary::target_dir().unwrap().join("ui-screenshots");
    let text_of = |css: &str| browser.run(async { c.find(Locator::Css(css)).await?.text().await }).unwrap_or_default();
    let wait_for = |css: &str, want: &str| {
        let mut got = String::new();
        tokenscope_tests::wait::until(&format!("{css} shows {want:?}"), Duration::from_millis(50), || {
            got = text_of(css);
            got.contains(want)
        });
        got
    };
    let sign_in_with = |secret: &str| {
        browser.run(c.goto(&server.url("/ui/sign-in"))).unwrap();
        let field = browser.run(c.find(Locator::Css("#token"))).unwrap();
        browser.run(field.send_keys(secret)).unwrap();
        browser.run(browser.run(c.find(Locator::Css("main form button[type=submit]"))).unwrap().click()).unwrap();
        wait_for("main h1", "Tokens");
    };

    // Alice sees what happened to her tokens under her list, and her own events only.
    sign_in_with(&secret);
    let recent = wait_for("section[aria-labelledby=activity]", "token.create");
    assert!(recent.contains("principal.add") && recent.contains("session.sign-in"), "{recent}");
    assert!(!recent.contains("principal/admin"), "another's events stay hidden: {recent}");
    browser.run(c.goto(&server.url("/ui/activity"))).unwrap();
    wait_for("main h1", "Activity");
    assert!(browser.run(c.find(Locator::Css("#actor"))).is_err(), "no actor filter for one's own events");
    let own = text_of("table.activity");
    assert!(!own.contains("admin"), "{own}");
    browser.screenshot(&shots.join("activity-own.png")).unwrap();

    // The administrator reads the whole trail and filters it.
    browser.run(c.delete_all_cookies()).unwrap();
    sign_in_with(&server.admin_secret);
    browser.run(c.goto(&server.url("/ui/activity"))).unwrap();
    wait_for("main h1", "Activity");
    let all = text_of("table.activity");
    assert!(all.contains("principal/alice") && all.contains("principal/admin"), "{all}");
    let field = browser.run(c.find(Locator::Css("#action"))).unwrap();
    browser.run(field.send_keys("principal")).unwrap();
    browser.run(browser.run(c.find(Locator::Css("form.filters button"))).unwrap().click()).unwrap();
    let filtered = wait_for("table.activity", "principal.add");
    assert!(!filtered.contains("token.create"), "{filtered}");
    browser.screenshot(&shots.join("activity-all.png")).unwrap();
    let url = browser.run(c.current_url()).unwrap();
    assert!(url.as_str().contains("action=principal"), "{url}");
}
