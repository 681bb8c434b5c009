//! The original request a proxy asks about, read by one explicit convention:
//! nginx `auth_request` (`X-Original-Method`/`X-Original-URI`), the forward-auth
//! proxies (Traefik `forwardAuth`, Caddy `forward_auth`: `X-Forwarded-Method`/
//! `X-Forwarded-Uri`), or Envoy `ext_authz` in HTTP mode (the check request's own
//! method, and the original path appended to the check prefix). Only the
//! configured convention's headers are read; `auto` refuses a request that
//! carries the marks of more than one, so a client cannot choose what is checked.
//! `direct` (the wasm gateway's filter mode, never a config value) takes the
//! request itself as the original.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::canonical::CanonicalPath;
use crate::headers::{Headers, Sent, single};
use crate::refusal::Refusal;

/// Which proxy convention the check endpoint reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Convention {
    /// nginx `auth_request`: `X-Original-Method` and `X-Original-URI`.
    Nginx,
    /// Traefik `forwardAuth`, Caddy `forward_auth`: `X-Forwarded-Method` and `X-Forwarded-Uri`.
    Forwarded,
    /// Envoy `ext_authz` (HTTP service): the check request's method, and the path under the prefix.
    Envoy,
    /// Whichever one convention the request carries; more than one, or none, is refused.
    #[default]
    Auto,
    /// The request itself is the original: its own method and path (the wasm
    /// gateway in filter mode, which sits in the request's path). Not a value
    /// `[check] convention` takes: a check endpoint is never the original.
    #[serde(skip)]
    Direct,
}

impl Convention {
    /// The name used in the config, e.g. `nginx`.
    pub fn as_str(self) -> &'static str {
        match self {
            Convention::Nginx => "nginx",
            Convention::Forwarded => "forwarded",
            Convention::Envoy => "envoy",
            Convention::Auto => "auto",
            Convention::Direct => "direct",
        }
    }
}

impl fmt::Display for Convention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The original request: its method (upper case) and canonical path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Original {
    /// The method, upper case.
    pub method: String,
    /// The path, canonical (the query cut off).
    pub path: CanonicalPath,
    /// The convention that supplied it (never `Auto`).
    pub convention: Convention,
}

const NGINX: [&str; 2] = ["x-original-method", "x-original-uri"];
const FORWARDED: [&str; 2] = ["x-forwarded-method", "x-forwarded-uri"];

fn carries(headers: &impl Headers, names: [&str; 2]) -> bool {
    names.iter().any(|name| headers.values(name) != Sent::Not)
}

/// Reads the original request by `convention`. `own_method` and `own_path` are
/// the check request's own (the path as received, undecoded); `prefix` is the
/// check endpoint's path.
pub fn read_original(
    convention: Convention,
    prefix: &str,
    own_method: &str,
    own_path: &str,
    headers: &impl Headers,
) -> Result<Original, Refusal> {
    let under_prefix = own_path.strip_prefix(prefix).filter(|rest| !rest.is_empty());
    let convention = match convention {
        Convention::Auto => {
            let marks = [
                (Convention::Nginx, carries(headers, NGINX)),
                (Convention::Forwarded, carries(headers, FORWARDED)),
                (Convention::Envoy, under_prefix.is_some()),
            ];
            let present: Vec<Convention> = marks.iter().filter(|(_, on)| *on).map(|(c, _)| *c).collect();
            match present.as_slice() {
                [one] => *one,
                [] => return Err(Refusal::new("the request carries no original request (no proxy convention)")),
                _ => {
                    let names: Vec<&str> = present.iter().map(|c| c.as_str()).collect();
                    return Err(Refusal::new(format!(
                        "the request carries the headers of more than one proxy convention ({}); \
                         set check.convention",
                        names.join(", ")
                    )));
                }
            }
        }
        explicit => explicit,
    };
    let (method, uri) = match convention {
        Convention::Nginx | Convention::Auto => from_headers(headers, NGINX)?,
        Convention::Forwarded => from_headers(headers, FORWARDED)?,
        Convention::Envoy => {
            let rest = under_prefix
                .filter(|rest| rest.starts_with('/'))
                .ok_or_else(|| Refusal::new(format!("no original path under `{prefix}` (Envoy path_prefix)")))?;
            (own_method, rest)
        }
        Convention::Direct => (own_method, own_path),
    };
    let method = method_of(method)?;
    let path = CanonicalPath::parse(uri).map_err(|e| Refusal::new(format!("the original path is refused: {e}")))?;
    Ok(Original { method, path, convention })
}

fn from_headers<'h>(
    headers: &'h impl Headers,
    [method, uri]: [&'static str; 2],
) -> Result<(&'h str, &'h str), Refusal> {
    let method_value = single(headers, method)?.ok_or_else(|| Refusal::new(format!("header `{method}` is missing")))?;
    let uri_value = single(headers, uri)?.ok_or_else(|| Refusal::new(format!("header `{uri}` is missing")))?;
    Ok((method_value, uri_value))
}

/// An HTTP method: 1 to 16 letters, upper-cased.
fn method_of(text: &str) -> Result<String, Refusal> {
    if text.is_empty() || text.len() > 16 || !text.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(Refusal::new("the original method is not an HTTP method"));
    }
    Ok(text.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::tests::list;

    fn read(
        c: Convention,
        own: (&str, &str),
        pairs: &[(&'static str, &str)],
    ) -> Result<(String, String, Convention), String> {
        read_original(c, "/v1/check", own.0, own.1, &list(pairs))
            .map(|o| (o.method, o.path.as_str().to_owned(), o.convention))
            .map_err(|r| r.message)
    }

    const NGINX_PAIR: [(&str, &str); 2] = [("x-original-method", "POST"), ("x-original-uri", "/api/a?x=1")];
    const FORWARDED_PAIR: [(&str, &str); 2] = [("x-forwarded-method", "delete"), ("x-forwarded-uri", "/api/b")];

    #[test]
    fn each_convention_reads_its_own_headers() {
        let own = ("GET", "/v1/check");
        assert_eq!(read(Convention::Nginx, own, &NGINX_PAIR), Ok(("POST".into(), "/api/a".into(), Convention::Nginx)));
        assert_eq!(
            read(Convention::Forwarded, own, &FORWARDED_PAIR),
            Ok(("DELETE".into(), "/api/b".into(), Convention::Forwarded))
        );
        assert_eq!(
            read(Convention::Envoy, ("PUT", "/v1/check/api/c"), &[]),
            Ok(("PUT".into(), "/api/c".into(), Convention::Envoy))
        );
        assert_eq!(read(Convention::Auto, own, &NGINX_PAIR).map(|r| r.2), Ok(Convention::Nginx));
        assert_eq!(read(Convention::Auto, own, &FORWARDED_PAIR).map(|r| r.2), Ok(Convention::Forwarded));
        assert_eq!(read(Convention::Auto, ("GET", "/v1/check/x"), &[]).map(|r| r.2), Ok(Convention::Envoy));
    }

    #[test]
    fn an_explicit_convention_ignores_what_a_client_adds() {
        let mut both = FORWARDED_PAIR.to_vec();
        both.extend_from_slice(&NGINX_PAIR);
        // Caddy/Traefik set X-Forwarded-*; a client's X-Original-URI is not read.
        assert_eq!(read(Convention::Forwarded, ("GET", "/v1/check"), &both).map(|r| r.1), Ok("/api/b".into()));
        assert_eq!(read(Convention::Nginx, ("GET", "/v1/check"), &both).map(|r| r.1), Ok("/api/a".into()));
        assert_eq!(read(Convention::Envoy, ("GET", "/v1/check/api/c"), &both).map(|r| r.1), Ok("/api/c".into()));
    }

    #[test]
    fn auto_refuses_mixed_or_missing_conventions() {
        let mut both = FORWARDED_PAIR.to_vec();
        both.push(("x-original-uri", "/api/a"));
        assert!(read(Convention::Auto, ("GET", "/v1/check"), &both).unwrap_err().contains("more than one"));
        assert!(read(Convention::Auto, ("GET", "/v1/check/api/x"), &NGINX_PAIR).is_err());
        assert!(read(Convention::Auto, ("GET", "/v1/check"), &[]).is_err());
    }

    #[test]
    fn missing_or_doubled_parts_are_refused() {
        let own = ("GET", "/v1/check");
        assert!(read(Convention::Nginx, own, &[("x-original-uri", "/a")]).unwrap_err().contains("x-original-method"));
        assert!(read(Convention::Forwarded, own, &[("x-forwarded-method", "GET")]).is_err());
        let twice = [("x-original-method", "GET"), ("x-original-uri", "/a"), ("x-original-uri", "/b")];
        assert!(read(Convention::Nginx, own, &twice).unwrap_err().contains("more than once"));
        assert!(read(Convention::Nginx, own, &[("x-original-method", "GE T"), ("x-original-uri", "/")]).is_err());
        assert!(read(Convention::Envoy, ("GET", "/v1/check"), &[]).is_err());
        assert!(
            read(Convention::Nginx, own, &[("x-original-method", "GET"), ("x-original-uri", "/public/../a")]).is_err()
        );
    }
}
