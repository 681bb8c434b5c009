//! The route map: turns a request's (method, canonical path) into the (action,
//! resource) a token is checked for, as configured in `[[check.routes]]` —
//! venafi's "scope map for endpoints". Patterns use `{name}` for one segment and
//! `{*name}` for the rest of the path; the resource is a template over the same
//! names, filled in one pass. A route may name the path parameter that carries
//! the token (psm's `/api/repo/t/<TOKEN>/<CHANNEL>/...`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::canonical::CanonicalPath;
use crate::presented::Presented;

/// One configured route.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// An HTTP method, or `*` for any.
    #[serde(default = "any_method")]
    pub method: String,
    /// A path pattern, e.g. `/api/v2/vaults/{vault}/projects/{project}/scans`.
    pub path: String,
    /// The action checked, e.g. `create-scan`.
    pub action: String,
    /// The resource checked, a template over the pattern's names, e.g. `vault/{vault}/project/{project}`.
    #[serde(default = "root")]
    pub resource: String,
    /// The pattern name whose segment is the token itself (psm path tokens).
    #[serde(default)]
    pub token_param: Option<String>,
}

fn any_method() -> String {
    "*".to_owned()
}

fn root() -> String {
    "/".to_owned()
}

/// Why a route cannot be added.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RouteError {
    /// The resource template names a capture the path does not have.
    #[error("route `{method} {path}`: resource template uses `{{{name}}}`, which the path does not capture")]
    UncapturedName {
        /// The route's method.
        method: String,
        /// The route's path pattern.
        path: String,
        /// The name in question.
        name: String,
    },
    /// `token_param` names a capture the path does not have.
    #[error("route `{method} {path}`: token_param `{name}` is not captured by the path")]
    UncapturedToken {
        /// The route's method.
        method: String,
        /// The route's path pattern.
        path: String,
        /// The name in question.
        name: String,
    },
    /// The method is not `*` or an HTTP method.
    #[error("route `{method} {path}`: the method is not `*` or an HTTP method")]
    BadMethod {
        /// The route's method.
        method: String,
        /// The route's path pattern.
        path: String,
    },
    /// The resource template has an unclosed `{`.
    #[error("route `{method} {path}`: the resource template has an unclosed `{{`")]
    UnclosedTemplate {
        /// The route's method.
        method: String,
        /// The route's path pattern.
        path: String,
    },
    /// The path has more than `MAX_CAPTURES` captures.
    #[error("route `{method} {path}`: more than {MAX_CAPTURES} captures")]
    TooManyCaptures {
        /// The route's method.
        method: String,
        /// The route's path pattern.
        path: String,
    },
    /// The matcher refused the pattern (a conflict with another route).
    #[error("route `{method} {path}` cannot be added: {reason}")]
    Insert {
        /// The route's method.
        method: String,
        /// The route's path pattern.
        path: String,
        /// Why the matcher refused it.
        reason: String,
    },
}

/// The most `{name}` captures one pattern may have (the matcher panics beyond 26).
pub const MAX_CAPTURES: usize = 16;

/// What a matched route asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The action to check.
    pub action: String,
    /// The resource to check it on, the template filled in.
    pub resource: String,
    /// The token found in the path, when the route has a `token_param`.
    pub token: Option<Presented>,
    /// The matched pattern, for logs and metrics (never the raw path, which may hold a token).
    pub pattern: String,
}

/// The configured routes, indexed for matching; built once when the config loads.
pub struct RouteMap {
    by_method: HashMap<String, matchit::Router<usize>>,
    any: matchit::Router<usize>,
    routes: Vec<RouteConfig>,
}

impl std::fmt::Debug for RouteMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteMap").field("routes", &self.routes).finish_non_exhaustive()
    }
}

impl RouteMap {
    /// A map with no routes.
    pub fn empty() -> RouteMap {
        RouteMap { by_method: HashMap::new(), any: matchit::Router::new(), routes: Vec::new() }
    }

    /// Validates and indexes `routes`; a bad pattern, template or method is an error.
    pub fn new(routes: &[RouteConfig]) -> Result<RouteMap, RouteError> {
        let mut map = RouteMap { by_method: HashMap::new(), any: matchit::Router::new(), routes: routes.to_vec() };
        for (index, route) in routes.iter().enumerate() {
            let (method, path) = (route.method.clone(), route.path.clone());
            if route.path.matches('{').count() > MAX_CAPTURES {
                return Err(RouteError::TooManyCaptures { method, path });
            }
            let names = pattern_names(&route.path);
            let used = template_names(&route.resource)
                .ok_or_else(|| RouteError::UnclosedTemplate { method: method.clone(), path: path.clone() })?;
            if let Some(name) = used.into_iter().find(|used| !names.contains(used)) {
                return Err(RouteError::UncapturedName { method, path, name });
            }
            if let Some(param) = &route.token_param
                && !names.contains(param)
            {
                return Err(RouteError::UncapturedToken { method, path, name: param.clone() });
            }
            let router = if route.method == "*" {
                &mut map.any
            } else {
                let valid = !route.method.is_empty()
                    && route.method.len() <= 16
                    && route.method.bytes().all(|b| b.is_ascii_alphabetic());
                if !valid {
                    return Err(RouteError::BadMethod { method, path });
                }
                map.by_method.entry(route.method.to_ascii_uppercase()).or_default()
            };
            router.insert(route.path.clone(), index).map_err(|e| RouteError::Insert {
                method,
                path,
                reason: e.to_string(),
            })?;
        }
        Ok(map)
    }

    /// The route for `method` and `path` (method-specific routes first), if any.
    pub fn resolve(&self, method: &str, path: &CanonicalPath) -> Option<Resolved> {
        let path = path.as_str();
        let matched = self
            .by_method
            .get(&method.to_ascii_uppercase())
            .and_then(|router| router.at(path).ok())
            .or_else(|| self.any.at(path).ok())?;
        let route = self.routes.get(*matched.value)?;
        let params: HashMap<&str, &str> = matched.params.iter().collect();
        let resource = fill(&route.resource, &params);
        let token = route.token_param.as_deref().and_then(|p| params.get(p)).map(|t| Presented::new(*t));
        Some(Resolved { action: route.action.clone(), resource, token, pattern: route.path.clone() })
    }
}

/// The names a pattern captures: `{name}` and `{*name}`.
fn pattern_names(pattern: &str) -> Vec<String> {
    template_names(pattern).unwrap_or_default().into_iter().map(|n| n.trim_start_matches('*').to_owned()).collect()
}

/// The `{name}`s of a template, or `None` when a `{` is never closed.
fn template_names(template: &str) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = rest.get(start + 1..)?;
        let len = after.find('}')?;
        names.push(after.get(..len)?.to_owned());
        rest = after.get(len + 1..)?;
    }
    Some(names)
}

/// Fills `{name}` in `template` with the captured values in one pass over the
/// template: a value is copied as it is and never read again, so a value that
/// itself holds `{other}` stays literal.
fn fill(template: &str, params: &HashMap<&str, &str>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(rest.get(..start).unwrap_or(""));
        let after = rest.get(start + 1..).unwrap_or("");
        let Some(len) = after.find('}') else {
            out.push_str(rest.get(start..).unwrap_or(""));
            return out;
        };
        let name = after.get(..len).unwrap_or("");
        match params.get(name) {
            Some(value) => out.push_str(value),
            None => {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
        }
        rest = after.get(len + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: &str, path: &str, action: &str, resource: &str, token: Option<&str>) -> RouteConfig {
        RouteConfig {
            method: method.into(),
            path: path.into(),
            action: action.into(),
            resource: resource.into(),
            token_param: token.map(str::to_owned),
        }
    }

    fn map() -> RouteMap {
        RouteMap::new(&[
            route(
                "POST",
                "/api/v2/vaults/{vault}/projects/{project}/scans",
                "create-scan",
                "vault/{vault}/project/{project}",
                None,
            ),
            route(
                "GET",
                "/api/repo/t/{token}/{channel}/{subdir}/{file}",
                "artifact:download",
                "channel/{channel}/artifact/{file}",
                Some("token"),
            ),
            route("*", "/api/system/settings", "system.settings:edit", "/", None),
        ])
        .unwrap()
    }

    fn resolve(method: &str, path: &str) -> Option<Resolved> {
        map().resolve(method, &CanonicalPath::parse(path).unwrap())
    }

    #[test]
    fn patterns_with_too_many_captures_are_refused_not_a_panic() {
        // Found by the route_map fuzz target: matchit panics on a pattern with more than 26 captures.
        let many: String = (0..30).map(|i| format!("/{{p{i}}}")).collect();
        let err = RouteMap::new(&[route("GET", &many, "artifact:view", "/", None)]).err();
        assert!(matches!(err, Some(RouteError::TooManyCaptures { .. })), "{err:?}");
        let fine: String = (0..MAX_CAPTURES).map(|i| format!("/{{p{i}}}")).collect();
        assert!(RouteMap::new(&[route("GET", &fine, "artifact:view", "/", None)]).is_ok());
    }

    #[test]
    fn venafi_style_scope_map_resolves_action_and_resource() {
        let r = resolve("post", "/api/v2/vaults/acme/projects/web/scans").unwrap();
        assert_eq!((r.action.as_str(), r.resource.as_str(), r.token), ("create-scan", "vault/acme/project/web", None));
        assert!(resolve("GET", "/api/v2/vaults/acme/projects/web/scans").is_none(), "method matters");
        assert!(resolve("POST", "/api/v2/vaults/acme/projects/web/scans/extra").is_none());
        assert_eq!(resolve("DELETE", "/api/system/settings").map(|r| r.action), Some("system.settings:edit".into()));
    }

    #[test]
    fn psm_path_token_is_taken_from_the_path() {
        let r = resolve("GET", "/api/repo/t/tks_abc/main/noarch/pkg-1.0.conda").unwrap();
        assert_eq!(r.token.as_ref().map(Presented::as_str), Some("tks_abc"));
        assert_eq!(r.resource, "channel/main/artifact/pkg-1.0.conda");
        assert_eq!(r.pattern, "/api/repo/t/{token}/{channel}/{subdir}/{file}");
    }

    #[test]
    fn templates_must_use_captured_names() {
        assert!(RouteMap::new(&[route("GET", "/a/{x}", "artifact:view", "channel/{y}", None)]).is_err());
        assert!(RouteMap::new(&[route("GET", "/a/{x}", "artifact:view", "channel/{x}", Some("t"))]).is_err());
        assert!(RouteMap::new(&[route("GET", "/a/{x}", "artifact:view", "channel/{x", None)]).is_err());
        assert!(RouteMap::new(&[route("G T", "/a/{x}", "artifact:view", "channel/{x}", None)]).is_err());
    }

    #[test]
    fn captured_braces_are_never_expanded_again() {
        // Whatever order the names are filled in, a value holding `{other}` stays literal.
        let map =
            RouteMap::new(&[route("GET", "/r/{a}/{b}", "artifact:view", "channel/{a}/artifact/{b}", None)]).unwrap();
        for (a, b) in [("{b}", "x"), ("x", "{a}"), ("{b}", "{a}"), ("{a}", "{b}"), ("{", "}")] {
            let path = CanonicalPath::parse(&format!("/r/{a}/{b}")).unwrap();
            let r = map.resolve("GET", &path).unwrap();
            assert_eq!(r.resource, format!("channel/{a}/artifact/{b}"));
        }
    }

    #[test]
    fn fill_is_one_pass() {
        let params: HashMap<&str, &str> = [("a", "{b}"), ("b", "B")].into_iter().collect();
        assert_eq!(fill("{a}/{b}/{c}/{", &params), "{b}/B/{c}/{");
    }
}
