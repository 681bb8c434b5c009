//! `cargo bench --bench store`: one verification on each store backend, with
//! the verify path's caches warm (the store is read only to notice changes)
//! and cold (`cache.enabled = false`: every check reads the token and its
//! owner's rights from the store), for an allowed token and an unknown secret;
//! 10k tokens. SQLite is a temp file; PostgreSQL is the database named by
//! `TOKENSCOPE_BENCH_POSTGRES` (`host/benches/fleet_http.sh` starts one), left
//! out when that is unset.

// Benchmark setup: an unwrap that fires is a broken benchmark, reported with its message.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use tokenscope::authority::Authority;
use tokenscope::config::Config;
use tokenscope::runtime::{Limits, PolicyModule, Runtime};
use tokenscope::secret::Secret;
use tokenscope::store::{Store, StoreLocation};
use tokenscope::time::SystemClock;

mod common;

const RESOURCE: &str = "channel/main/artifact/numpy-1.26.4-py312.conda";
const TOKENS: usize = 10_000;
const SAMPLE: usize = 256;

fn bench_store(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut backends = vec![("sqlite", StoreLocation::Sqlite(dir.path().join("bench.db")))];
    match std::env::var("TOKENSCOPE_BENCH_POSTGRES") {
        Ok(url) => backends.push(("postgres", StoreLocation::Postgres(url))),
        Err(_) => {
            eprintln!("TOKENSCOPE_BENCH_POSTGRES is unset: PostgreSQL left out (host/benches/fleet_http.sh sets it)")
        }
    }
    let runtime = Runtime::new().unwrap();
    let module = PolicyModule::embedded(&runtime, Limits::default()).unwrap();
    let mut group = c.benchmark_group("store");
    for (name, location) in backends {
        let store: Arc<dyn Store> = tokenscope::store::open(&location).unwrap();
        let sample = common::fill(store.as_ref(), TOKENS, SAMPLE);
        for (cache, enabled) in [("warm", true), ("cold", false)] {
            let mut config = Config::default();
            config.cache.enabled = enabled;
            let authority = Authority::new(Arc::clone(&store), Arc::clone(&module), config, Arc::new(SystemClock));
            for secret in &sample {
                assert!(authority.verify(Some(secret), "artifact:download", RESOURCE).verdict.is_allow());
            }
            let mut next = 0usize;
            group.bench_function(format!("{name}/{cache}/allow"), |b| {
                b.iter(|| {
                    next = (next + 1) % sample.len();
                    authority.verify(black_box(sample.get(next).map(String::as_str)), "artifact:download", RESOURCE)
                })
            });
            let unknown = Secret::generate().unwrap().expose().to_owned();
            group.bench_function(format!("{name}/{cache}/unknown"), |b| {
                b.iter(|| authority.verify(black_box(Some(unknown.as_str())), "artifact:download", RESOURCE))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_store);
criterion_main!(benches);
