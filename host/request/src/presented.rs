//! The secret a request presents, from exactly one place: the `x-access-token`
//! header (cvescan), `Authorization: Bearer` (RFC 6750), or a path segment that
//! the route names (psm's `/api/repo/t/<TOKEN>/<CHANNEL>/...`). Two places, or one
//! header sent twice, is refused: the check never picks one of several secrets.

use std::fmt;

use crate::headers::{Headers, single};
use crate::refusal::Refusal;

/// A secret as a client presented it, not yet checked. Its `Debug` never shows
/// the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Presented(String);

impl Presented {
    /// Holds `text` as a presented secret.
    pub fn new(text: impl Into<String>) -> Presented {
        Presented(text.into())
    }

    /// The secret's text: for the shape check and the hash only, never for a log.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Presented {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Presented({} bytes, redacted)", self.0.len())
    }
}

/// Where a presented secret came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// The `x-access-token` header (cvescan).
    AccessTokenHeader,
    /// `Authorization: Bearer`.
    Bearer,
    /// A path segment the route names (psm's `/api/repo/t/<TOKEN>/...`).
    Path,
}

/// The secret in `x-access-token` or `Authorization: Bearer`, if any; both at
/// once, or either sent twice, is refused. Other `Authorization` schemes (Basic,
/// for the upstream) present no token.
pub fn presented_in_headers(headers: &impl Headers) -> Result<Option<(Presented, TokenSource)>, Refusal> {
    let access = single(headers, "x-access-token")?;
    let bearer = match single(headers, "authorization")? {
        None => None,
        Some(auth) => {
            let (scheme, token) = auth.split_once([' ', '\t']).unwrap_or((auth, ""));
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        }
    };
    match (access, bearer) {
        (Some(_), Some(_)) => Err(Refusal::new("a token is presented both in `x-access-token` and as a Bearer token")),
        (Some(token), None) => Ok(Some((Presented::new(token), TokenSource::AccessTokenHeader))),
        (None, Some(token)) => Ok(Some((Presented::new(token), TokenSource::Bearer))),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::tests::list;

    fn read(pairs: &[(&'static str, &str)]) -> Result<Option<(String, TokenSource)>, String> {
        presented_in_headers(&list(pairs)).map(|p| p.map(|(t, s)| (t.as_str().to_owned(), s))).map_err(|r| r.message)
    }

    #[test]
    fn one_header_presents_one_token() {
        assert_eq!(read(&[("x-access-token", " tks_a ")]), Ok(Some(("tks_a".into(), TokenSource::AccessTokenHeader))));
        assert_eq!(read(&[("authorization", "bearer  tks_b")]), Ok(Some(("tks_b".into(), TokenSource::Bearer))));
        assert_eq!(read(&[("authorization", "Basic dXNlcjpwYXNz")]), Ok(None));
        assert_eq!(read(&[]), Ok(None));
    }

    #[test]
    fn two_tokens_are_refused() {
        assert!(read(&[("x-access-token", "tks_a"), ("authorization", "Bearer tks_b")]).is_err());
        assert!(read(&[("x-access-token", "tks_a"), ("x-access-token", "tks_b")]).is_err());
        assert!(read(&[("authorization", "Bearer tks_a"), ("authorization", "Bearer tks_b")]).is_err());
        // A Basic credential for the upstream beside a token header is not a second token.
        assert!(read(&[("x-access-token", "tks_a"), ("authorization", "Basic eA==")]).is_ok());
    }

    #[test]
    fn debug_hides_the_value() {
        assert!(!format!("{:?}", Presented::new("tks_secretvalue")).contains("secret"));
    }
}
