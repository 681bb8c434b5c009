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
use tokenscope::runtime::{Limits, PolicyModule, Runtime};

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
    let action = module.action_id(ACTION).unwrap();

    for (name, grants) in &tokens {
        let mut group = c.benchmark_group(format!("decide/{name}"));

        let native_token = tokenscope_policy::GrantSet::compile(&native_grants(grants)).unwrap();
        let native_owner = tokenscope_policy::GrantSet::compile(&native_grants(&owner)).unwrap();
        let native_status = tokenscope_policy::TokenStatus { expires_at: status.expires_at, revoked: false };
        let native_action = tokenscope_policy::catalog::lookup(ACTION).unwrap();
        assert!(
            tokenscope_policy::decide(&native_token, &native_owner, native_status, native_action, RESOURCE, 1)
                .is_allow()
        );
        group.bench_function("native", |b| {
            b.iter(|| {
                tokenscope_policy::decide(
                    black_box(&native_token),
                    black_box(&native_owner),
                    native_status,
                    black_box(native_action),
                    black_box(RESOURCE),
                    1,
                )
            })
        });

        let mut instance = module.instantiate();
        let wasm_token = instance.compile(grants).unwrap().unwrap();
        let wasm_owner = instance.compile(&owner).unwrap().unwrap();
        assert!(instance.decide_compiled(&wasm_token, &wasm_owner, status, action, RESOURCE, 1).is_allow());
        // The boundary alone: a call that does nothing inside the module.
        group.bench_function("wasm-call-floor", |b| b.iter(|| instance.call_floor()));
        group.bench_function("wasm-compiled", |b| {
            b.iter(|| {
                instance.decide_compiled(&wasm_token, &wasm_owner, status, black_box(action), black_box(RESOURCE), 1)
            })
        });

        // A deny of each token: scopes6 holds no upload, resources3 nothing on `channel/other`.
        let (deny_action, deny_resource) = match *name {
            "scopes6" => ("artifact:create", RESOURCE),
            _ => (ACTION, DENIED_RESOURCE),
        };
        let native_deny = tokenscope_policy::catalog::lookup(deny_action).unwrap();
        let decided =
            tokenscope_policy::decide(&native_token, &native_owner, native_status, native_deny, deny_resource, 1);
        assert!(!decided.is_allow());
        group.bench_function("native-deny", |b| {
            b.iter(|| {
                tokenscope_policy::decide(
                    black_box(&native_token),
                    black_box(&native_owner),
                    native_status,
                    black_box(native_deny),
                    black_box(deny_resource),
                    1,
                )
            })
        });
        let wasm_deny = module.action_id(deny_action).unwrap();
        assert!(!instance.decide_compiled(&wasm_token, &wasm_owner, status, wasm_deny, deny_resource, 1).is_allow());
        group.bench_function("wasm-compiled-deny", |b| {
            b.iter(|| {
                instance.decide_compiled(
                    &wasm_token,
                    &wasm_owner,
                    status,
                    black_box(wasm_deny),
                    black_box(deny_resource),
                    1,
                )
            })
        });

        // The reason of that deny, built on request (what a deny answer's body shows).
        group.bench_function("native-explain", |b| {
            b.iter(|| {
                tokenscope_policy::explain(
                    black_box(&native_token),
                    black_box(&native_owner),
                    native_status,
                    black_box(native_deny),
                    black_box(deny_resource),
                    1,
                )
            })
        });
        let ruling = instance.decide_compiled(&wasm_token, &wasm_owner, status, wasm_deny, deny_resource, 1);
        group.bench_function("wasm-explain", |b| {
            b.iter(|| {
                instance.explain(
                    &ruling,
                    &wasm_token,
                    &wasm_owner,
                    status,
                    black_box(wasm_deny),
                    black_box(deny_resource),
                    1,
                )
            })
        });

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
