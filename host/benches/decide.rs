//! `cargo bench --bench decide`: nanoseconds per decision for the same policy
//! called natively (the `tokenscope-policy` crate) and through the wasm component
//! (compiled hot path, and the one-shot path that parses grants on every call);
//! denies as the hot path rules them (a code) and explained (with the reason).

// Benchmark setup: an unwrap that fires is a broken benchmark, reported with its message.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tokenscope::contract::{Grants, Request, Token, TokenStatus};
use tokenscope::grant_text::parse_grant;
use tokenscope::runtime::{HotCall, Limits, PolicyModule, Runtime};

/// A scope token of six scopes (venafi + psm) and its owner.
const SCOPES: [&str; 6] =
    ["artifact:download,view", "channel:view", "certificate:approve,delete", "ssh", "role", "cve:view"];
const RESOURCE_GRANTS: [&str; 3] = ["channel/docs=read", "channel/main=write", "vault/acme/project/web=create-scan"];
const OWNER: [&str; 2] = ["/=write", "channel/main=manage"];
const ACTION: &str = "artifact:download";
const RESOURCE: &str = "channel/main/artifact/numpy-1.26.4-py312.conda";
const DENIED_RESOURCE: &str = "channel/other/artifact/numpy-1.26.4-py312.conda";

fn native_grants(grants: &Grants) -> tokenscope_policy::Grants {
    let resource = |g: &tokenscope::contract::ResourceGrant| tokenscope_policy::ResourceGrant {
        resource: g.resource.clone(),
        access: match &g.access {
            tokenscope::contract::Access::Level(l) => tokenscope_policy::Access::Level(match l {
                tokenscope::contract::Level::Read => tokenscope_policy::Level::Read,
                tokenscope::contract::Level::Write => tokenscope_policy::Level::Write,
                tokenscope::contract::Level::Manage => tokenscope_policy::Level::Manage,
            }),
            tokenscope::contract::Access::Actions(a) => tokenscope_policy::Access::Actions(a.clone()),
        },
    };
    match grants {
        Grants::Scopes(s) => tokenscope_policy::Grants::Scopes(s.clone()),
        Grants::Resources(r) => tokenscope_policy::Grants::Resources(r.iter().map(resource).collect()),
    }
}

fn bench_decide(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap();
    let module = PolicyModule::embedded(&runtime, Limits::default()).unwrap();
    let owner = Grants::Resources(OWNER.iter().map(|g| parse_grant(g).unwrap()).collect());
    let tokens = [
        ("scopes6", Grants::Scopes(SCOPES.iter().map(|s| (*s).to_owned()).collect())),
        ("resources3", Grants::Resources(RESOURCE_GRANTS.iter().map(|g| parse_grant(g).unwrap()).collect())),
    ];
    let status = TokenStatus { expires_at: Some(4_000_000_000), revoked: false };

    for (name, grants) in &tokens {
        let mut group = c.benchmark_group(format!("decide/{name}"));

        let native_token = tokenscope_policy::GrantSet::compile(&native_grants(grants)).unwrap();
        let native_owner = tokenscope_policy::GrantSet::compile(&native_grants(&owner)).unwrap();
        let native = |action: &str, resource: &'static str| tokenscope_policy::Query {
            token: &native_token,
            owner: &native_owner,
            status: tokenscope_policy::TokenStatus { expires_at: status.expires_at, revoked: false },
            action: tokenscope_policy::catalog::lookup(action).unwrap(),
            resource,
            now: 1,
        };
        let native_allow = native(ACTION, RESOURCE);
        assert!(tokenscope_policy::decide(&native_allow).is_allow());
        group.bench_function("native", |b| b.iter(|| tokenscope_policy::decide(black_box(&native_allow))));

        let mut instance = module.instantiate();
        let wasm_token = instance.compile(grants).unwrap().unwrap();
        let wasm_owner = instance.compile(&owner).unwrap().unwrap();
        let wasm = |action: &str, resource| HotCall {
            token: &wasm_token,
            owner: &wasm_owner,
            status,
            action: module.action_id(action).unwrap(),
            resource,
            now: 1,
        };
        let wasm_allow = wasm(ACTION, RESOURCE);
        assert!(instance.decide_compiled(&wasm_allow).is_allow());
        // The boundary alone: a call that does nothing inside the module.
        group.bench_function("wasm-call-floor", |b| b.iter(|| instance.call_floor()));
        group.bench_function("wasm-compiled", |b| b.iter(|| instance.decide_compiled(black_box(&wasm_allow))));

        // A deny of each token: scopes6 holds no upload, resources3 nothing on `channel/other`.
        let (deny_action, deny_resource) = match *name {
            "scopes6" => ("artifact:create", RESOURCE),
            _ => (ACTION, DENIED_RESOURCE),
        };
        let native_deny = native(deny_action, deny_resource);
        assert!(!tokenscope_policy::decide(&native_deny).is_allow());
        group.bench_function("native-deny", |b| b.iter(|| tokenscope_policy::decide(black_box(&native_deny))));
        let wasm_deny = wasm(deny_action, deny_resource);
        let ruling = instance.decide_compiled(&wasm_deny);
        assert!(!ruling.is_allow());
        group.bench_function("wasm-compiled-deny", |b| b.iter(|| instance.decide_compiled(black_box(&wasm_deny))));

        // The reason of that deny, built on request (what a deny answer's body shows).
        group.bench_function("native-explain", |b| b.iter(|| tokenscope_policy::explain(black_box(&native_deny))));
        group.bench_function("wasm-explain", |b| b.iter(|| instance.explain(&ruling, black_box(&wasm_deny))));

        let token = Token {
            grants: grants.clone(),
            owner_rights: match &owner {
                Grants::Resources(r) => r.clone(),
                Grants::Scopes(_) => Vec::new(),
            },
            expires_at: status.expires_at,
            revoked: false,
        };
        let request = Request { action: ACTION.to_owned(), resource: RESOURCE.to_owned(), now: 1 };
        group.bench_function("wasm-oneshot", |b| b.iter(|| instance.decide(black_box(&token), black_box(&request))));
        group.finish();
    }
}

criterion_group!(benches, bench_decide);
criterion_main!(benches);
