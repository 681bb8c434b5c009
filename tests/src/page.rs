//! The token page over plain HTTP, as a browser without script would use it:
//! a client that follows no redirect and keeps no cookie, sign-in with a token
//! or a one-time link, and the CSRF token a page's forms carry.

// Assertion helpers, like `http::send`: a page that cannot be had, or a form
// that is not there, is the calling test failing, with the reason.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use crate::server::Server;

/// An HTTP client that does not follow redirects and keeps no cookies.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into()
}

/// A page request: (status, `Location`, body, headers). A form makes it a POST.
pub fn page(url: &str, cookie: Option<&str>, form: Option<&str>) -> (u16, String, String, ureq::http::HeaderMap) {
    page_with(url, cookie, form, &[])
}

/// `page` with more request headers (`Origin`, `Sec-Fetch-Site`).
pub fn page_with(
    url: &str,
    cookie: Option<&str>,
    form: Option<&str>,
    headers: &[(&str, &str)],
) -> (u16, String, String, ureq::http::HeaderMap) {
    let mut request = ureq::http::Request::builder().method(if form.is_some() { "POST" } else { "GET" }).uri(url);
    if let Some(cookie) = cookie {
        request = request.header("cookie", format!("tokenscope_session={cookie}"));
    }
    if form.is_some() {
        request = request.header("content-type", "application/x-www-form-urlencoded");
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = agent().run(request.body(form.unwrap_or("").as_bytes().to_vec()).unwrap()).unwrap();
    let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let headers = response.headers().clone();
    (response.status().as_u16(), location, response.body_mut().read_to_string().unwrap_or_default(), headers)
}

/// The session cookie's value in a sign-in's `Set-Cookie`.
fn session_of(headers: &ureq::http::HeaderMap) -> String {
    let cookie = headers.get("set-cookie").unwrap().to_str().unwrap().to_owned();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/ui"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    cookie.split(';').next().unwrap().trim_start_matches("tokenscope_session=").to_owned()
}

/// Signs in with `secret` over plain HTTP; the session cookie's value.
pub fn sign_in(server: &Server, secret: &str) -> String {
    let (status, location, _, headers) = page(&server.url("/ui/sign-in"), None, Some(&format!("token={secret}")));
    assert_eq!((status, location.as_str()), (303, "/ui/tokens"));
    session_of(&headers)
}

/// A one-time sign-in link for principal `name`, made by the CLI: its code.
pub fn link_code(server: &Server, name: &str) -> String {
    let out = server.cli().args(["principal", "sign-in-link", name, "--ttl", "15m", "--url", &server.base]).output();
    let out = out.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    url.split_once('#').unwrap().1.to_owned()
}

/// Signs principal `name` in with a fresh one-time link; the session cookie's value.
pub fn sign_in_by_link(server: &Server, name: &str) -> String {
    let code = link_code(server, name);
    let (status, location, _, headers) = page(&server.url("/ui/sign-in/link"), None, Some(&format!("code={code}")));
    assert_eq!((status, location.as_str()), (303, "/ui/tokens"));
    session_of(&headers)
}

/// The CSRF token a page's forms carry.
pub fn csrf_of(body: &str) -> String {
    let at = body.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    body[at..at + 64].to_owned()
}

/// The new secret a "shown once" page shows.
pub fn secret_shown(body: &str) -> Option<String> {
    let at = body.find("value=\"tks_")? + "value=\"".len();
    Some(body[at..at + body[at..].find('"')?].to_owned())
}
