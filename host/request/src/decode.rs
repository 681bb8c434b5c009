//! From a check request to what is decided: the original request by the
//! configured convention, its canonical path, the presented secret (from one
//! place only) and the route, or public or unmapped. Anything ambiguous or not
//! canonical is a `Refusal` (HTTP 400), never a guess.

use thiserror::Error;

use crate::canonical::{PathError, PublicPrefix};
use crate::headers::Headers;
use crate::original::{Convention, Original, read_original};
use crate::presented::{Presented, TokenSource, presented_in_headers};
use crate::refusal::Refusal;
use crate::route_map::{Resolved, RouteConfig, RouteError, RouteMap};

/// How the check endpoint reads requests; built once from the config.
#[derive(Debug)]
pub struct Settings {
    /// Which proxy convention supplies the original request.
    pub convention: Convention,
    /// The check endpoint's path (Envoy appends the original path to it).
    pub prefix: String,
    /// Unmapped paths under these are allowed without a token.
    pub public: Vec<PublicPrefix>,
    /// (method, path) to (action, resource).
    pub routes: RouteMap,
}

/// Why the check settings are not valid.
#[derive(Debug, Error)]
pub enum SettingsError {
    /// A public prefix is not a canonical path.
    #[error("check.public_prefixes: `{prefix}` is not a canonical path: {error}")]
    Public {
        /// The prefix as configured.
        prefix: String,
        /// Why it is not canonical.
        error: PathError,
    },
    /// A route cannot be added.
    #[error("check.routes: {0}")]
    Route(#[from] RouteError),
    /// The prefix does not start with `/`, or ends with one.
    #[error("check.prefix must start with `/` and not end with one")]
    Prefix,
}

impl Settings {
    /// No routes and no public prefixes: every request is unmapped. `prefix` is
    /// taken as it is (the caller's default, known to be canonical).
    pub fn empty(convention: Convention, prefix: &str) -> Settings {
        Settings { convention, prefix: prefix.to_owned(), public: Vec::new(), routes: RouteMap::empty() }
    }

    /// Validates and builds the reading rules; a bad prefix or route is an error.
    pub fn new(
        convention: Convention,
        prefix: &str,
        public: &[String],
        routes: &[RouteConfig],
    ) -> Result<Settings, SettingsError> {
        if !prefix.starts_with('/') || prefix.ends_with('/') {
            return Err(SettingsError::Prefix);
        }
        let public = public
            .iter()
            .map(|p| PublicPrefix::parse(p).map_err(|error| SettingsError::Public { prefix: p.clone(), error }))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Settings { convention, prefix: prefix.to_owned(), public, routes: RouteMap::new(routes)? })
    }
}

/// What a check request asks, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// A route maps it: `secret` (if any) is checked for the route's action and resource.
    Mapped {
        /// The original request.
        original: Original,
        /// The route that matched, with its action and resource filled in.
        route: Resolved,
        /// The presented secret and where it came from, if one was presented.
        secret: Option<(Presented, TokenSource)>,
    },
    /// No route maps it, and it lies under a public prefix: allowed without a token.
    Public {
        /// The original request.
        original: Original,
    },
    /// No route maps it and it is not public: denied.
    Unmapped {
        /// The original request.
        original: Original,
    },
}

impl Decoded {
    /// The original request, whatever became of it.
    pub fn original(&self) -> &Original {
        match self {
            Decoded::Mapped { original, .. } | Decoded::Public { original } | Decoded::Unmapped { original } => {
                original
            }
        }
    }
}

/// Decodes a check request: its own method and (undecoded) path, and its headers.
pub fn decode(
    settings: &Settings,
    own_method: &str,
    own_path: &str,
    headers: &impl Headers,
) -> Result<Decoded, Refusal> {
    let original = read_original(settings.convention, &settings.prefix, own_method, own_path, headers)?;
    let in_headers = presented_in_headers(headers)?;
    let Some(route) = settings.routes.resolve(&original.method, &original.path) else {
        if settings.public.iter().any(|p| p.covers(&original.path)) {
            return Ok(Decoded::Public { original });
        }
        return Ok(Decoded::Unmapped { original });
    };
    let secret = match (in_headers, route.token.clone()) {
        (Some(_), Some(_)) => {
            return Err(Refusal::new("a token is presented both in a header and in the path"));
        }
        (Some(header), None) => Some(header),
        (None, Some(path)) => Some((path, TokenSource::Path)),
        (None, None) => None,
    };
    Ok(Decoded::Mapped { original, route, secret })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::tests::list;

    fn settings(convention: Convention) -> Settings {
        let routes = [
            RouteConfig {
                method: "GET".into(),
                path: "/api/repo/{channel}/{subdir}/{file}".into(),
                action: "artifact:download".into(),
                resource: "channel/{channel}/artifact/{file}".into(),
                token_param: None,
            },
            RouteConfig {
                method: "GET".into(),
                path: "/api/repo/t/{token}/{channel}/{subdir}/{file}".into(),
                action: "artifact:download".into(),
                resource: "channel/{channel}/artifact/{file}".into(),
                token_param: Some("token".into()),
            },
        ];
        Settings::new(convention, "/v1/check", &["/public/".into()], &routes).unwrap()
    }

    fn nginx(uri: &str, extra: &[(&'static str, &str)]) -> Result<Decoded, Refusal> {
        let mut pairs = vec![("x-original-method", "GET"), ("x-original-uri", uri)];
        pairs.extend_from_slice(extra);
        decode(&settings(Convention::Auto), "GET", "/v1/check", &list(&pairs))
    }

    #[test]
    fn public_prefixes_cannot_be_walked_out_of() {
        assert!(matches!(nginx("/public/app.css", &[]), Ok(Decoded::Public { .. })));
        for walk in ["/public/../api/repo/main/noarch/x", "/public/%2E%2e/api/repo/main/noarch/x", "/public//../api/x"]
        {
            assert!(nginx(walk, &[]).is_err(), "{walk}");
        }
        assert!(matches!(nginx("/api/other", &[]), Ok(Decoded::Unmapped { .. })));
    }

    #[test]
    fn routes_match_the_decoded_path() {
        let Ok(Decoded::Mapped { route, secret, .. }) =
            nginx("/api/repo/m%61in/noarch/x%20y", &[("x-access-token", "tks_a")])
        else {
            unreachable!()
        };
        assert_eq!(route.resource, "channel/main/artifact/x y");
        assert_eq!(secret.map(|s| s.1), Some(TokenSource::AccessTokenHeader));
    }

    #[test]
    fn a_path_token_and_a_header_token_are_refused() {
        let path = "/api/repo/t/tks_p/main/noarch/x";
        assert!(matches!(nginx(path, &[]), Ok(Decoded::Mapped { secret: Some((_, TokenSource::Path)), .. })));
        assert!(nginx(path, &[("authorization", "Bearer tks_h")]).is_err());
    }

    #[test]
    fn bad_settings_are_named() {
        assert!(Settings::new(Convention::Auto, "/v1/check", &["/a/../b".into()], &[]).is_err());
        assert!(Settings::new(Convention::Auto, "v1", &[], &[]).is_err());
    }
}
