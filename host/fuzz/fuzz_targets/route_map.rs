//! Route-map matching: any set of route configs is built or refused without a
//! panic, and a resolved resource is the template filled in one pass, each
//! captured value placed verbatim once (a value holding `{name}` is never
//! expanded again).
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use tokenscope_request::{CanonicalPath, RouteConfig, RouteMap};

#[derive(Debug)]
struct Input {
    routes: Vec<RouteConfig>,
    path: String,
    method: String,
}

const PATTERNS: [&str; 6] = ["/a/{x}/{y}", "/a/{x}/b", "/t/{token}/{x}", "/w/{*rest}", "/{x}", "/a/b"];
const TEMPLATES: [&str; 6] = ["channel/{x}/artifact/{y}", "vault/{x}", "{rest}", "/", "{x}{x}", "channel/{y}"];

impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Input> {
        let count = u.int_in_range(0..=4)?;
        let mut routes = Vec::with_capacity(count);
        for _ in 0..count {
            let text = |u: &mut Unstructured<'a>, list: &[&str]| -> arbitrary::Result<String> {
                Ok(if u.ratio(1, 4)? { u.arbitrary()? } else { (*u.choose(list)?).to_owned() })
            };
            routes.push(RouteConfig {
                method: text(u, &["GET", "*", "post", "G3T", ""])?,
                path: text(u, &PATTERNS)?,
                action: "artifact:download".to_owned(),
                resource: text(u, &TEMPLATES)?,
                token_param: if u.ratio(1, 4)? { Some(text(u, &["token", "x", "rest"])?) } else { None },
            });
        }
        let path = if u.arbitrary()? {
            let segments: Vec<String> = (0..u.int_in_range(1..=4)?)
                .map(|_| {
                    Ok(if u.arbitrary()? {
                        u.arbitrary()?
                    } else {
                        (*u.choose(&["a", "b", "t", "w", "{y}", "{x}"])?).to_owned()
                    })
                })
                .collect::<arbitrary::Result<_>>()?;
            format!("/{}", segments.join("/"))
        } else {
            u.arbitrary()?
        };
        Ok(Input { routes, path, method: u.arbitrary()? })
    }
}

fuzz_target!(|input: Input| {
    let Ok(map) = RouteMap::new(&input.routes) else { return };
    let Ok(path) = CanonicalPath::parse(&input.path) else { return };
    let Some(resolved) = map.resolve(&input.method, &path) else { return };
    // Several routes may share a pattern (one per method): one of them must explain the answer.
    let candidates: Vec<&RouteConfig> = input.routes.iter().filter(|r| r.path == resolved.pattern).collect();
    assert!(!candidates.is_empty(), "resolved to a pattern that is not configured");
    let mut checked = false;
    for route in candidates {
        let Some((resource, token)) = expected(route, path.as_str()) else { continue };
        checked = true;
        if resolved.resource == resource && resolved.token.as_ref().map(|t| t.as_str().to_owned()) == token {
            return;
        }
    }
    assert!(
        !checked,
        "{resolved:?} on {:?} fills no configured template in one pass: {:?}",
        path.as_str(),
        input.routes
    );
});

/// An independent fill: the pattern's segments paired with the path's, then the
/// template filled from the captures. `None` where this simple oracle does not apply.
fn expected(route: &RouteConfig, path: &str) -> Option<(String, Option<String>)> {
    let mut captured = Vec::new();
    let mut path_segments = path.split('/');
    for p in route.path.split('/') {
        if let Some(name) = p.strip_prefix("{*").and_then(|n| n.strip_suffix('}')) {
            let rest: Vec<&str> = path_segments.by_ref().collect();
            captured.push((name.to_owned(), rest.join("/")));
            break;
        }
        let s = path_segments.next()?;
        if let Some(name) = p.strip_prefix('{').and_then(|n| n.strip_suffix('}')).filter(|n| !n.contains(['{', '}'])) {
            captured.push((name.to_owned(), s.to_owned()));
        } else if p.contains(['{', '}']) {
            return None; // text beside a capture, or escaped braces
        }
    }
    let mut resource = String::new();
    let mut rest = route.resource.as_str();
    while let Some(open) = rest.find('{') {
        resource.push_str(&rest[..open]);
        let close = rest[open..].find('}')?;
        let name = &rest[open + 1..open + close];
        resource.push_str(&captured.iter().find(|(n, _)| n == name)?.1);
        rest = &rest[open + close + 1..];
    }
    resource.push_str(rest);
    let token = match &route.token_param {
        Some(param) => Some(captured.iter().find(|(n, _)| n == param)?.1.clone()),
        None => None,
    };
    Some((resource, token))
}
