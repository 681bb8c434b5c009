//! The route map: turns a proxied request's (method, path) into the (action,
//! resource) a token is checked for, as configured in `[[check.routes]]` —
//! venafi's "scope map for endpoints". Patterns use `{name}` for one segment and
//! `{*name}` for the rest of the path; the resource is a template over the same
//! names. A route may name the path parameter that carries the token (psm's
//! `/api/repo/t/<TOKEN>/<CHANNEL>/...`).

use crate::secret::Presented;
use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// One configured route.
#[derive(Clone, Debug, Deserialize)]
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

/// What a matched route asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub action: String,
    pub resource: String,
    /// The token found in the path, when the route has a `token_param`.
    pub token: Option<Presented>,
    /// The matched pattern, for logs and metrics (never the raw path, which may hold a token).
    pub pattern: String,
}

pub struct RouteMap {
    by_method: HashMap<String, matchit::Router<usize>>,
    any: matchit::Router<usize>,
    routes: Vec<RouteConfig>,
}

impl RouteMap {
    pub fn new(routes: &[RouteConfig]) -> Result<RouteMap> {
        let mut map = RouteMap { by_method: HashMap::new(), any: matchit::Router::new(), routes: routes.to_vec() };
        for (index, route) in routes.iter().enumerate() {
            let names = pattern_names(&route.path);
            for used in template_names(&route.resource) {
                if !names.contains(&used) {
                    bail!(
                        "route `{} {}`: resource template uses `{{{used}}}`, which the path does not capture",
                        route.method,
                        route.path
                    );
                }
            }
            if let Some(param) = &route.token_param
                && !names.contains(param)
            {
                bail!("route `{} {}`: token_param `{param}` is not captured by the path", route.method, route.path);
            }
            let router = if route.method == "*" {
                &mut map.any
            } else {
                map.by_method.entry(route.method.to_ascii_uppercase()).or_default()
            };
            router
                .insert(route.path.clone(), index)
                .with_context(|| format!("route `{} {}` cannot be added", route.method, route.path))?;
        }
        Ok(map)
    }

    /// The route for `method` and `path` (method-specific routes first), if any.
    pub fn resolve(&self, method: &str, path: &str) -> Option<Resolved> {
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
    template_names(pattern).into_iter().map(|n| n.trim_start_matches('*').to_owned()).collect()
}

fn template_names(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest.get(start..).and_then(|r| r.find('}')) else { break };
        if let Some(name) = rest.get(start + 1..start + len) {
            names.push(name.to_owned());
        }
        rest = rest.get(start + len + 1..).unwrap_or("");
    }
    names
}

/// Replaces `{name}` in `template` with the captured values.
fn fill(template: &str, params: &HashMap<&str, &str>) -> String {
    let mut out = template.to_owned();
    for (name, value) in params {
        out = out.replace(&format!("{{{name}}}"), value);
    }
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

    #[test]
    fn venafi_style_scope_map_resolves_action_and_resource() {
        let r = map().resolve("post", "/api/v2/vaults/acme/projects/web/scans").unwrap();
        assert_eq!((r.action.as_str(), r.resource.as_str(), r.token), ("create-scan", "vault/acme/project/web", None));
        assert!(map().resolve("GET", "/api/v2/vaults/acme/projects/web/scans").is_none(), "method matters");
        assert!(map().resolve("POST", "/api/v2/vaults/acme/projects/web/scans/extra").is_none());
        assert_eq!(
            map().resolve("DELETE", "/api/system/settings").map(|r| r.action),
            Some("system.settings:edit".into())
        );
    }

    #[test]
    fn psm_path_token_is_taken_from_the_path() {
        let r = map().resolve("GET", "/api/repo/t/tks_abc/main/noarch/pkg-1.0.conda").unwrap();
        assert_eq!(r.token.as_ref().map(Presented::as_str), Some("tks_abc"));
        assert_eq!(r.resource, "channel/main/artifact/pkg-1.0.conda");
        assert_eq!(r.pattern, "/api/repo/t/{token}/{channel}/{subdir}/{file}");
    }

    #[test]
    fn templates_must_use_captured_names() {
        assert!(RouteMap::new(&[route("GET", "/a/{x}", "artifact:view", "channel/{y}", None)]).is_err());
        assert!(RouteMap::new(&[route("GET", "/a/{x}", "artifact:view", "channel/{x}", Some("t"))]).is_err());
    }
}
