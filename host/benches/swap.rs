//! `cargo bench --bench swap`: how long a policy swap takes, from the module's
//! bytes to the new module active: compile (or read the module cache), the gate
//! (load checks, catalog, the module's 98 vectors, the 61 safety vectors), and the
//! atomic store. `cached`: modules whose machine code is in the cache (a restart,
//! a rollback, a known module); `cold`: a module never seen, compiled by cranelift
//! and written to the cache. `signature`: what `[policy.trust]` adds to a load,
//! verifying the signed default module with one trusted key, and a cached swap
//! with the check in it.

// Benchmark setup: an unwrap that fires is a broken benchmark, reported with its message.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tokenscope::gate::{GateOptions, Trust};
use tokenscope::runtime::{DEFAULT_POLICY, Limits, PolicyModule, Runtime};
use tokenscope::swap::{PolicySlot, SwapOutcome};
use tokenscope::time::UnixTime;

/// The time the gate decides vectors at.
const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);

/// The default policy with a nonce section: the same module, another digest.
fn copy(nonce: u64) -> Vec<u8> {
    let mut bytes = DEFAULT_POLICY.to_vec();
    tokenscope_wasm_build::append_custom_section(&mut bytes, "tokenscope:bench-nonce", &nonce.to_le_bytes());
    bytes
}

fn bench_swap(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::new().unwrap().with_cache(dir.path());
    let module = PolicyModule::embedded(&runtime, Limits::default()).unwrap();
    let slot = PolicySlot::new(module, GateOptions { require_vectors: true, now: NOW, trust: Trust::Anyone }, 2);
    let mut group = c.benchmark_group("swap");
    group.measurement_time(Duration::from_secs(10));

    let (a, b) = (copy(1), copy(2));
    for bytes in [&a, &b] {
        slot.load(bytes, "warm-up", NOW);
    }
    let mut flip = false;
    group.bench_function("cached", |bench| {
        bench.iter(|| {
            flip = !flip;
            let outcome = slot.load(if flip { &a } else { &b }, "bench", NOW);
            assert!(matches!(outcome, SwapOutcome::Swapped { .. }), "{outcome:?}");
        });
    });

    group.sample_size(10);
    let mut nonce = 1_000;
    group.bench_function("cold", |bench| {
        bench.iter(|| {
            nonce += 1;
            let outcome = slot.load(&copy(nonce), "bench", NOW);
            assert!(matches!(outcome, SwapOutcome::Swapped { .. }), "{outcome:?}");
        });
    });
    group.finish();
}

fn bench_signature(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let pair = wasmsign2::KeyPair::generate();
    let (secret, public) = (dir.path().join("k.sk"), dir.path().join("k.pk"));
    std::fs::write(&secret, pair.sk.to_bytes()).unwrap();
    std::fs::write(&public, pair.pk.to_bytes()).unwrap();
    let key = tokenscope::signing::SigningKey::read(&secret).unwrap();
    let keys = std::sync::Arc::new(tokenscope::signing::TrustedKeys::load(&[public]).unwrap());
    let signed = |nonce| tokenscope::signing::sign(&copy(nonce), &key).unwrap();
    let mut group = c.benchmark_group("signature");
    group.measurement_time(Duration::from_secs(10));
    let one = signed(1);
    group.bench_function("verify", |bench| {
        bench.iter(|| tokenscope::signing::verify(&one, &keys).unwrap());
    });
    let runtime = Runtime::new().unwrap().with_cache(dir.path());
    let module = PolicyModule::embedded(&runtime, Limits::default()).unwrap();
    let options = GateOptions { require_vectors: true, now: NOW, trust: Trust::Keys(keys) };
    let slot = PolicySlot::new(module, options, 2);
    let (a, b) = (signed(1), signed(2));
    for bytes in [&a, &b] {
        slot.load(bytes, "warm-up", NOW);
    }
    let mut flip = false;
    group.bench_function("swap-cached-signed", |bench| {
        bench.iter(|| {
            flip = !flip;
            let outcome = slot.load(if flip { &a } else { &b }, "bench", NOW);
            assert!(matches!(outcome, SwapOutcome::Swapped { .. }), "{outcome:?}");
        });
    });
    group.finish();
}

criterion_group!(benches, bench_swap, bench_signature);
criterion_main!(benches);
