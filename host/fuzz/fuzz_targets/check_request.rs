//! The check endpoint's request decoding, from (method, path, headers) to what
//! is decided: never panics, is deterministic, reads one convention only, never
//! calls a path public that a route maps or a prefix does not cover, and takes a
//! token from exactly one place.
#![no_main]

use std::sync::LazyLock;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use tokenscope::config::Config;
use tokenscope_request::{Convention, Decoded, Headers, Sent, Settings, TokenSource, decode};

/// The integration tests' routes (path tokens, captures) plus a tail wildcard, with public prefixes.
const ROUTES: &str = include_str!("../../../tests/fixtures/check-routes.toml");
const CHECK: &str = r#"
[check]
public_prefixes = ["/public/", "/static"]
"#;
const WILDCARD: &str = r#"
[[check.routes]]
path = "/vedsdk/{*rest}"
action = "certificate"
"#;

const NAMES: [&str; 9] = [
    "x-original-method",
    "x-original-uri",
    "x-forwarded-method",
    "x-forwarded-uri",
    "x-forwarded-host",
    "x-access-token",
    "authorization",
    "host",
    "X-Original-URI",
];

const VALUES: [&str; 12] = [
    "GET",
    "POST",
    "/api/repo/main/noarch/x.conda",
    "/api/repo/t/tks_abc/main/noarch/x.conda",
    "/public/app.css",
    "/public/../api/repo/main/noarch/x",
    "/api/v2/vaults/acme/projects/web/scans",
    "/vedsdk/certificates/x",
    "Bearer tks_abc",
    "tks_abc",
    "/static",
    "/public%2f..%2fapi",
];

static SETTINGS: LazyLock<[Settings; 4]> = LazyLock::new(|| {
    let config: Config = match toml::from_str(&format!("{CHECK}{ROUTES}{WILDCARD}")) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("the fuzz config does not parse: {e}");
            std::process::abort()
        }
    };
    let with = |convention| {
        let check = config.check.written();
        Settings::new(convention, &check.prefix, &check.public_prefixes, &check.routes).unwrap_or_else(|e| {
            eprintln!("the fuzz config has bad check settings: {e:#}");
            std::process::abort()
        })
    };
    [with(Convention::Auto), with(Convention::Nginx), with(Convention::Forwarded), with(Convention::Envoy)]
});

#[derive(Debug)]
struct Input {
    convention: usize,
    method: String,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
}

impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Input> {
        let pick = |u: &mut Unstructured<'a>| -> arbitrary::Result<String> {
            Ok(if u.ratio(1, 3)? { u.arbitrary()? } else { (*u.choose(&VALUES)?).to_owned() })
        };
        let convention = u.int_in_range(0..=3)?;
        let method = if u.ratio(1, 4)? { u.arbitrary()? } else { "GET".to_owned() };
        let path = if u.arbitrary()? { "/v1/check".to_owned() } else { format!("/v1/check{}", pick(u)?) };
        let count = u.int_in_range(0..=6)?;
        let mut headers = Vec::with_capacity(count);
        for _ in 0..count {
            let name = if u.ratio(1, 10)? { u.arbitrary()? } else { (*u.choose(&NAMES)?).to_owned() };
            let value = if u.ratio(1, 5)? { u.arbitrary::<Vec<u8>>()? } else { pick(u)?.into_bytes() };
            headers.push((name, value));
        }
        Ok(Input { convention, method, path, headers })
    }
}

impl Input {
    /// Every value of header `name`, for the oracle (independent of `Headers`).
    fn all(&self, name: &str) -> Vec<&[u8]> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_slice()).collect()
    }
}

impl Headers for Input {
    fn values(&self, name: &str) -> Sent<'_> {
        Sent::of(self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_slice()))
    }
}

fuzz_target!(|input: Input| {
    let Some(settings) = SETTINGS.get(input.convention) else { return };
    let decoded = decode(settings, &input.method, &input.path, &input);
    assert_eq!(decoded, decode(settings, &input.method, &input.path, &input), "not deterministic");
    let Ok(decoded) = decoded else { return };
    let original = decoded.original();
    assert_ne!(original.convention, Convention::Auto);
    if settings.convention == Convention::Auto {
        let carries = |names: [&str; 2]| names.iter().any(|n| !input.all(n).is_empty());
        let marks =
            [carries(["x-original-method", "x-original-uri"]), carries(["x-forwarded-method", "x-forwarded-uri"])];
        assert!(!(marks[0] && marks[1]), "auto read a request that carries two conventions: {input:?}");
    }
    let route = settings.routes.resolve(&original.method, &original.path);
    match &decoded {
        Decoded::Public { original } => {
            assert!(route.is_none(), "a mapped path was called public");
            assert!(settings.public.iter().any(|p| p.covers(&original.path)), "public outside every prefix");
        }
        Decoded::Unmapped { original } => {
            assert!(route.is_none());
            assert!(!settings.public.iter().any(|p| p.covers(&original.path)));
        }
        Decoded::Mapped { route: mapped, secret, .. } => {
            assert_eq!(route.as_ref(), Some(mapped));
            // `Bearer` is a whole scheme name: `Bearere x` presents nothing.
            let bearer = |v: &&[u8]| {
                let scheme = v.split(|b| *b == b' ' || *b == b'\t').next().unwrap_or(&[]);
                scheme.eq_ignore_ascii_case(b"bearer")
            };
            let in_headers = !input.all("x-access-token").is_empty() || input.all("authorization").iter().any(bearer);
            match secret {
                Some((_, TokenSource::Path)) => assert!(!in_headers, "path token taken beside a header token"),
                Some(_) => assert!(mapped.token.is_none(), "header token taken beside a path token"),
                None => assert!(mapped.token.is_none() && !in_headers, "a presented token was dropped"),
            }
        }
    }
});
