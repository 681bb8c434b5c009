//! What every page request passes: security headers on every answer (a strict
//! Content-Security-Policy with no inline script, no framing, no referrer, no
//! caching), a same-origin check on every POST (`Origin`, `Sec-Fetch-Site`), and
//! reading the session cookie.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The session cookie's name.
pub const COOKIE: &str = "tokenscope_session";

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers to every answer under `/ui/`, and refuses a POST
/// from another origin.
pub async fn secure(request: Request, next: Next) -> Response {
    let foreign = request.method() == Method::POST && !same_origin(request.headers());
    let mut response = if foreign {
        (StatusCode::FORBIDDEN, "cross-origin form posts are refused").into_response()
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
/// page content cannot set); a browser that does not send it must send an
/// `Origin` naming this host, if any. (`Referrer-Policy: no-referrer` makes
/// browsers send `Origin: null` with same-origin posts, so `null` is judged by
/// `Sec-Fetch-Site` alone.)
fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return site == "same-origin" || site == "none";
    }
    match (text("origin"), text("host")) {
        (None, _) => true,
        (Some(origin), Some(host)) => {
            origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host)
        }
        (Some(_), None) => false,
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
        assert!(same_origin(&headers(&[("host", "a:1"), ("origin", "http://a:1")])));
        assert!(same_origin(&headers(&[("host", "a:1")])));
        assert!(!same_origin(&headers(&[("host", "a:1"), ("origin", "http://evil")])));
        assert!(!same_origin(&headers(&[("host", "a:1"), ("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[("host", "a:1"), ("origin", "null")])));
        assert!(same_origin(&headers(&[("host", "a:1"), ("origin", "null"), ("sec-fetch-site", "same-origin")])));
    }

    #[test]
    fn the_cookie_is_read_once_and_only_in_its_shape() {
        let good = "a".repeat(64);
        assert_eq!(session_cookie(&headers(&[("cookie", &format!("x=1; {COOKIE}={good}"))])), Some(good.clone()));
        assert_eq!(session_cookie(&headers(&[("cookie", &format!("{COOKIE}={good}; {COOKIE}={good}"))])), None);
        assert_eq!(session_cookie(&headers(&[("cookie", &format!("{COOKIE}=short"))])), None);
    }
}
