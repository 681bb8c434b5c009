//! `cargo bench --bench verify`: one verification, secret to decision (shape
//! check, SHA-256, the stored token and its owner's rights from the cache, policy
//! decision through the component, usage count), with 1k and 1M tokens in the
//! store: allowed tokens on one resource (the answer is kept for the second),
//! allowed tokens on a new resource each time (the module asked every time),
//! and a well-formed secret the store does not know.

// Benchmark setup: an unwrap that fires is a broken benchmark, reported with its message.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use tokenscope::authority::Authority;
use tokenscope::config::Config;
use tokenscope::runtime::{Limits, PolicyModule, Runtime};
use tokenscope::secret::Secret;
use tokenscope::time::SystemClock;

mod common;

const RESOURCE: &str = "channel/main/artifact/numpy-1.26.4-py312.conda";
const SAMPLE: usize = 256;
/// More distinct resources than an evaluator keeps answers for.
const RESOURCES: usize = 65_536;

fn authority_with(count: usize, dir: &std::path::Path) -> (Authority, Vec<String>) {
    let mut config = Config::default();
    config.store.path = dir.join("bench.db");
    let (store, sample) = common::store_with_tokens(&config.store.path, count, SAMPLE);
    let runtime = Runtime::new().unwrap();
    let module = PolicyModule::embedded(&runtime, Limits::default()).unwrap();
    (Authority::new(Arc::new(store), module, config, Arc::new(SystemClock)), sample)
}

fn bench_verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify");
    for (label, count) in [("1k", 1_000), ("1M", 1_000_000)] {
        let dir = tempfile::tempdir().unwrap();
        let (authority, sample) = authority_with(count, dir.path());
        for secret in &sample {
            assert!(authority.verify(Some(secret), "artifact:download", RESOURCE).verdict.is_allow());
        }
        let mut next = 0usize;
        group.bench_function(format!("{label}/allow"), |b| {
            b.iter(|| {
                next = (next + 1) % sample.len();
                authority.verify(black_box(sample.get(next).map(String::as_str)), "artifact:download", RESOURCE)
            })
        });
        let resources: Vec<String> =
            (0..RESOURCES).map(|i| format!("channel/main/artifact/numpy-1.26.{i}-py312.conda")).collect();
        let mut turn = 0usize;
        group.bench_function(format!("{label}/allow-new-resource"), |b| {
            b.iter(|| {
                turn = (turn + 1) % resources.len();
                let secret = sample.get(turn % sample.len()).map(String::as_str);
                let resource = resources.get(turn).map_or(RESOURCE, String::as_str);
                authority.verify(black_box(secret), "artifact:download", resource)
            })
        });
        let unknown = Secret::generate().unwrap().expose().to_owned();
        assert_eq!(authority.verify(Some(&unknown), "artifact:download", RESOURCE).verdict.code_str(), "unknown-token");
        group.bench_function(format!("{label}/unknown"), |b| {
            b.iter(|| authority.verify(black_box(Some(unknown.as_str())), "artifact:download", RESOURCE))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_verify);
criterion_main!(benches);
