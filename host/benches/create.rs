//! `cargo bench --bench create`: one token created through the authority (the
//! policy's issuance check, a new secret, the store's durable insert and,
//! since the audit trail, its event in the same transaction), on SQLite and,
//! when `TOKENSCOPE_BENCH_POSTGRES` names a database, on PostgreSQL.
//! `host/benches/audit_cost.sh` runs it here and at a commit before the trail
//! to give the create rate with and without it.

// Benchmark setup: an unwrap that fires is a broken benchmark, reported with its message.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use tokenscope::authority::{Actor, Authority, Expiry, IssueRequest};
use tokenscope::config::Config;
use tokenscope::contract::Grants;
use tokenscope::runtime::{Limits, PolicyModule, Runtime};
use tokenscope::store::{Binding, StoreLocation};
use tokenscope::time::SystemClock;

fn bench_create(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut backends = vec![("sqlite", StoreLocation::Sqlite(dir.path().join("bench.db")))];
    if let Ok(url) = std::env::var("TOKENSCOPE_BENCH_POSTGRES") {
        backends.push(("postgres", StoreLocation::Postgres(url)));
    }
    let runtime = Runtime::new().unwrap();
    let module = PolicyModule::embedded(&runtime, Limits::default()).unwrap();
    let mut group = c.benchmark_group("create");
    for (name, location) in backends {
        let mut config = Config::default();
        config.store.set(location.clone());
        let store = tokenscope::store::open(&location).unwrap();
        let authority = Authority::new(store, Arc::clone(&module), config, Arc::new(SystemClock));
        let owner = format!("bench-{}", std::process::id());
        authority.add_principal(Actor::Operator, &owner, &[Binding::Grant("channel/main=write".into())]).unwrap();
        let request = IssueRequest {
            owner,
            name: "ci".into(),
            description: "benchmark".into(),
            expiry: Expiry::Default,
            grants: Grants::Scopes(vec!["artifact:download".into(), "artifact:create".into()]),
            exchange: None,
        };
        group.bench_function(format!("{name}/token"), |b| {
            b.iter(|| authority.create_token(Actor::Operator, &request).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench_create);
criterion_main!(benches);
