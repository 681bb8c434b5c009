//! What a proxy is asking about: the original method and path, read from the
//! conventions of nginx `auth_request` (`X-Original-Method`/`X-Original-URI`),
//! Traefik `forwardAuth` (`X-Forwarded-Method`/`X-Forwarded-Uri`) and Envoy
//! `ext_authz` in HTTP mode (the original method, and the original path appended
//! to the check prefix), and the presented secret (`x-access-token`,
//! `Authorization: Bearer`, or a path segment named by the route).

use axum::http::{HeaderMap, Method};

use crate::secret::Presented;

/// The original request, as far as the check needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxied {
    pub method: String,
    /// The original path, without its query string.
    pub path: String,
    /// The secret from a header, if one was sent.
    pub header_secret: Option<Presented>,
    /// Which convention supplied the original request: `nginx`, `traefik` or `envoy`.
    pub convention: &'static str,
}

/// Why the proxied request could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable(pub String);

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, Unreadable> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => {
            value.to_str().map(Some).map_err(|_| Unreadable(format!("header `{name}` is not visible ASCII")))
        }
    }
}

fn path_only(uri: &str) -> String {
    let path = uri.split(['?', '#']).next().unwrap_or("");
    if path.is_empty() { "/".to_owned() } else { path.to_owned() }
}

/// The secret a request presents in `x-access-token` or `Authorization: Bearer`.
pub fn secret_from(headers: &HeaderMap) -> Result<Option<Presented>, Unreadable> {
    if let Some(token) = header(headers, "x-access-token")? {
        return Ok(Some(Presented::new(token.trim())));
    }
    let Some(auth) = header(headers, "authorization")? else {
        return Ok(None);
    };
    let (scheme, token) = auth.trim().split_once(' ').unwrap_or((auth, ""));
    Ok(scheme.eq_ignore_ascii_case("bearer").then(|| Presented::new(token.trim())))
}

/// Reads the proxied request from `headers`, or from the check request's own
/// method and path under `prefix`.
pub fn read(headers: &HeaderMap, method: &Method, path: &str, prefix: &str) -> Result<Proxied, Unreadable> {
    let (method, path, convention) = if let Some(uri) = header(headers, "x-original-uri")? {
        (header(headers, "x-original-method")?.unwrap_or("GET").to_owned(), path_only(uri), "nginx")
    } else if let Some(uri) = header(headers, "x-forwarded-uri")? {
        (header(headers, "x-forwarded-method")?.unwrap_or("GET").to_owned(), path_only(uri), "traefik")
    } else {
        let rest = path.strip_prefix(prefix).unwrap_or(path);
        (method.as_str().to_owned(), path_only(rest), "envoy")
    };
    if !method.bytes().all(|b| b.is_ascii_alphabetic()) || method.is_empty() || method.len() > 16 {
        return Err(Unreadable("the original method is not an HTTP method".into()));
    }
    let header_secret = secret_from(headers)?;
    Ok(Proxied { method: method.to_ascii_uppercase(), path, header_secret, convention })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn nginx_auth_request_headers() {
        let h = headers(&[
            ("x-original-method", "POST"),
            ("x-original-uri", "/api/v2/vaults/a/projects/b/scans?x=1"),
            ("x-access-token", "tks_x"),
        ]);
        let p = read(&h, &Method::GET, "/v1/check", "/v1/check").unwrap();
        assert_eq!(
            (p.method.as_str(), p.path.as_str(), p.convention),
            ("POST", "/api/v2/vaults/a/projects/b/scans", "nginx")
        );
        assert_eq!(p.header_secret.as_ref().map(Presented::as_str), Some("tks_x"));
    }

    #[test]
    fn traefik_forward_auth_headers() {
        let h = headers(&[
            ("x-forwarded-method", "DELETE"),
            ("x-forwarded-uri", "/api/account/tokens/3"),
            ("authorization", "Bearer tks_y"),
        ]);
        let p = read(&h, &Method::GET, "/v1/check", "/v1/check").unwrap();
        assert_eq!((p.method.as_str(), p.path.as_str(), p.convention), ("DELETE", "/api/account/tokens/3", "traefik"));
        assert_eq!(p.header_secret.as_ref().map(Presented::as_str), Some("tks_y"));
    }

    #[test]
    fn envoy_ext_authz_uses_the_path_under_the_prefix() {
        let p = read(&HeaderMap::new(), &Method::PUT, "/v1/check/api/repo/main?q", "/v1/check").unwrap();
        assert_eq!((p.method.as_str(), p.path.as_str(), p.convention), ("PUT", "/api/repo/main", "envoy"));
        assert_eq!(p.header_secret, None);
        assert_eq!(read(&HeaderMap::new(), &Method::GET, "/v1/check", "/v1/check").unwrap().path, "/");
    }

    #[test]
    fn other_authorization_schemes_are_not_tokens() {
        let h = headers(&[("authorization", "Basic dXNlcjpwYXNz")]);
        assert_eq!(read(&h, &Method::GET, "/v1/check/x", "/v1/check").unwrap().header_secret, None);
    }

    #[test]
    fn bad_methods_are_unreadable() {
        let h = headers(&[("x-original-method", "GE T"), ("x-original-uri", "/")]);
        assert!(read(&h, &Method::GET, "/v1/check", "/v1/check").is_err());
    }
}
