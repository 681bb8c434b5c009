//! A real nginx with `auth_request` in front of an upstream, and a real
//! `tokenscope serve`, all on loopback ports chosen at runtime: allowed requests
//! reach the upstream with the identity headers; wrong scope is 403; expired,
//! revoked and garbage tokens are 401; a psm path-token download works; a
//! token revoked through the management API is refused on the very next request.

use serde_json::Value;
use tokenscope_tests::nginx::Nginx;
use tokenscope_tests::routes::ROUTES;
use tokenscope_tests::server::Server;

fn get(url: &str, method: &str, token: Option<&str>) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    if let Some(token) = token {
        request = request.header("x-access-token", token);
    }
    let mut response = agent.run(request.body(()).unwrap()).unwrap();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (response.status().as_u16(), body)
}

fn create(server: &Server, args: &[&str]) -> (String, String) {
    let mut all = vec!["token", "create", "--owner", "ci", "--name", "t", "--json"];
    all.extend_from_slice(args);
    let out = server.cli().args(&all).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    (v["secret"].as_str().unwrap().to_owned(), v["id"].to_string())
}

#[test]
fn nginx_auth_request_in_front_of_an_upstream() {
    let server = Server::start(ROUTES).unwrap();
    let out = server.cli().args(["principal", "add", "ci", "--grant", "channel/main=manage"]).output().unwrap();
    assert!(out.status.success());
    let nginx = Nginx::start(&server.base).unwrap();
    let url = |path: &str| format!("{}{path}", nginx.base);
    let (download, id) = create(&server, &["--scope", "artifact:download"]);

    // Allowed: the upstream answers and sees who the token is.
    let (status, body) = get(&url("/api/repo/main/noarch/pkg-1.0.conda"), "GET", Some(&download));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.trim(), format!("upstream GET /api/repo/main/noarch/pkg-1.0.conda token={id} owner=ci"));
    // Wrong scope: the token may download, not delete.
    assert_eq!(get(&url("/api/repo/main/noarch/pkg-1.0.conda"), "DELETE", Some(&download)).0, 403);
    // Unknown, garbage and missing tokens.
    assert_eq!(get(&url("/api/repo/main/noarch/x.conda"), "GET", Some("garbage")).0, 401);
    assert_eq!(get(&url("/api/repo/main/noarch/x.conda"), "GET", None).0, 401);
    // psm path-token download, no header.
    let (status, body) = get(&url(&format!("/api/repo/t/{download}/main/noarch/pkg-1.0.conda")), "GET", None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&format!("token={id} owner=ci")), "{body}");
    // Expired.
    let (short, _) = create(&server, &["--scope", "artifact:download", "--ttl", "1s"]);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(get(&url("/api/repo/main/noarch/x.conda"), "GET", Some(&short)).0, 401);
    // Revoked through the management API: refused on the very next request through nginx.
    let (manager, _) = create(&server, &["--scope", "user.token:edit"]);
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let revoke = ureq::http::Request::builder()
        .method("POST")
        .uri(format!("{}/api/account/tokens/{id}/revoke", server.base))
        .header("authorization", format!("Bearer {manager}"))
        .body(())
        .unwrap();
    assert_eq!(agent.run(revoke).unwrap().status().as_u16(), 200);
    assert_eq!(get(&url("/api/repo/main/noarch/pkg-1.0.conda"), "GET", Some(&download)).0, 401);
}
