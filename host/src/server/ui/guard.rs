//! What every page request passes: security headers on every answer (a strict
//! Content-Security-Policy with no inline script, no framing, no referrer, no
//! caching), a same-origin check on every POST (`Sec-Fetch-Site`, and `Origin`
//! compared by scheme, host and port with where the page is served), and
//! reading the session cookie.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::server::error::deny;

/// The session cookie's name.
pub const COOKIE: &str = "tokenscope_session";

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Where the page is served from: `server.public_url`'s origin when it is
/// set, else plain http (what `serve` speaks) at the host the request names.
#[derive(Clone, Debug, Default)]
pub struct PageOrigin(Option<String>);

impl PageOrigin {
    /// The origin of `public_url` (validated with the config), if set.
    pub fn of(public_url: Option<&str>) -> PageOrigin {
        PageOrigin(public_url.and_then(|url| url::Url::parse(url).ok()).map(|url| url.origin().ascii_serialization()))
    }

    /// The origin a same-origin form post from a browser names.
    fn expected(&self, headers: &HeaderMap) -> Option<String> {
        if let Some(public) = &self.0 {
            return Some(public.clone());
        }
        let host = headers.get(header::HOST)?.to_str().ok()?;
        Some(url::Url::parse(&format!("http://{host}")).ok()?.origin().ascii_serialization())
    }
}

/// Adds the security headers to every answer under `/ui/`, and refuses a POST
/// from another origin (403 `foreign-origin`).
pub async fn secure(State(origin): State<PageOrigin>, request: Request, next: Next) -> Response {
    let foreign = request.method() == Method::POST && !same_origin(request.headers(), &origin);
    let mut response = if foreign {
        deny(
            StatusCode::FORBIDDEN,
            "foreign-origin",
            "form posts from another origin (scheme, host or port) are refused",
        )
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// A POST is same-origin when the browser says so (`Sec-Fetch-Site`, which
/// page content cannot set) and any `Origin` it sends names where the page is
/// served, scheme, host and port alike. (`Referrer-Policy: no-referrer` makes
/// browsers send `Origin: null` with same-origin posts, so `null` is judged by
/// `Sec-Fetch-Site` alone.) A client that sends neither header is no browser
/// page of another site.
fn same_origin(headers: &HeaderMap, page: &PageOrigin) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let site = text("sec-fetch-site");
    if site.is_some_and(|site| site != "same-origin" && site != "none") {
        return false;
    }
    match text("origin") {
        None => true,
        Some("null") => site.is_some(),
        Some(origin) => {
            let named = url::Url::parse(origin).ok().map(|url| url.origin().ascii_serialization());
            named.is_some() && named == page.expected(headers)
        }
    }
}

/// A 303 to `location` (a path of this page). `Redirect::to` panics on a
/// value that cannot be a header; this answers the page's root instead.
pub fn see_other(location: &str) -> Response {
    let value = HeaderValue::from_str(location).unwrap_or_else(|_| HeaderValue::from_static("/ui/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response()
}

/// The session cookie's value, if sent (once).
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    let mut found = None;
    for value in headers.get_all(header::COOKIE) {
        for pair in value.to_str().ok()?.split(';') {
            if let Some((name, value)) = pair.trim().split_once('=')
                && name == COOKIE
            {
                if found.is_some() {
                    return None;
                }
                found = Some(value.to_owned());
            }
        }
    }
    found.filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The `Set-Cookie` value that starts a session (`Secure` when served over https).
pub fn set_cookie(value: &str, max_age_secs: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}")
}

/// The `Set-Cookie` value that ends it.
pub fn clear_cookie(secure: bool) -> String {
    set_cookie("", 0, secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn posts_from_elsewhere_are_foreign() {
        let plain = PageOrigin::default();
        let same = |pairs: &[(&'static str, &str)]| same_origin(&headers(pairs), &plain);
        assert!(same(&[("host", "a:1"), ("origin", "http://a:1")]));
        assert!(same(&[("host", "A:1"), ("origin", "http://a:1")]), "hosts compare without case");
        assert!(same(&[("host", "a:1")]));
        assert!(!same(&[("host", "a:1"), ("origin", "http://evil")]));
        assert!(!same(&[("host", "a:1"), ("origin", "https://a:1")]), "another scheme is another origin");
        assert!(!same(&[("host", "a:1"), ("origin", "http://a:2")]), "another port is another origin");
        assert!(!same(&[("host", "a:1"), ("origin", "http://a:1.evil")]));
        assert!(!same(&[("host", "a:1"), ("sec-fetch-site", "cross-site")]));
        assert!(!same(&[("host", "a:1"), ("origin", "null")]));
        assert!(same(&[("host", "a:1"), ("origin", "null"), ("sec-fetch-site", "same-origin")]));
        assert!(!same(&[("host", "a:1"), ("origin", "http://evil"), ("sec-fetch-site", "same-origin")]));

        let public = PageOrigin::of(Some("HTTPS://Tokens.Example:443/ui"));
        let behind = |pairs: &[(&'static str, &str)]| same_origin(&headers(pairs), &public);
        assert!(behind(&[("host", "10.0.0.5:8080"), ("origin", "https://tokens.example")]));
        assert!(!behind(&[("host", "tokens.example"), ("origin", "http://tokens.example")]));
        assert!(!behind(&[("host", "10.0.0.5:8080"), ("origin", "http://10.0.0.5:8080")]));
    }

    #[test]
    fn the_cookie_is_read_once_and_only_in_its_shape() {
        let good = "a".repeat(64);
        assert_eq!(session_cookie(&headers(&[("cookie", &format!("x=1; {COOKIE}={good}"))])), Some(good.clone()));
        assert_eq!(session_cookie(&headers(&[("cookie", &format!("{COOKIE}={good}; {COOKIE}={good}"))])), None);
        assert_eq!(session_cookie(&headers(&[("cookie", &format!("{COOKIE}=short"))])), None);
    }
}
