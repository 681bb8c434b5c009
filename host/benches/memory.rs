//! `cargo bench --bench memory`: the host's resident memory with 1M stored
//! tokens after 1M verifications over 100k distinct tokens (caches warm and at
//! their working size), read from `/proc/self/status`. Prints one line per phase.

// Benchmark setup: an unwrap that fires is a broken benchmark, reported with its message.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Instant;

use tokenscope::authority::Authority;
use tokenscope::config::Config;
use tokenscope::runtime::{Limits, PolicyModule, Runtime};
use tokenscope::store::SqliteStore;
use tokenscope::time::SystemClock;

mod common;

const STORED: usize = 1_000_000;
const DISTINCT: usize = 100_000;
const VERIFICATIONS: usize = 1_000_000;
const RESOURCE: &str = "channel/main/artifact/numpy-1.26.4-py312.conda";

/// `VmRSS` and `VmHWM` (peak) of this process, in MiB.
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn report(phase: &str, started: Instant) {
    let (now, peak) = rss();
    println!("{phase:<44} rss {now:>5} MiB  peak {peak:>5} MiB  ({:.1} s)", started.elapsed().as_secs_f64());
}

fn main() {
    // `cargo bench` passes `--bench`; any other first argument is a filter this bench has no use for.
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.store.path = dir.path().join("memory.db");
    let (store, distinct) = common::store_with_tokens(&config.store.path, STORED, DISTINCT);
    drop(store);
    report(&format!("{STORED} tokens stored (store closed)"), started);
    let store = SqliteStore::open_existing(&config.store.path).unwrap();
    let runtime = Runtime::new().unwrap();
    let module = PolicyModule::embedded(&runtime, Limits::default()).unwrap();
    let authority = Authority::new(Arc::new(store), module, config, Arc::new(SystemClock));
    report("authority open (store, engine, policy)", started);
    let mut allowed = 0usize;
    for i in 0..VERIFICATIONS {
        let secret = distinct.get(i % DISTINCT).map(String::as_str);
        allowed += usize::from(authority.verify(secret, "artifact:download", RESOURCE).verdict.is_allow());
        if i + 1 == DISTINCT {
            report(&format!("{DISTINCT} verifications (every token once)"), started);
        }
    }
    assert_eq!(allowed, VERIFICATIONS, "every verification must allow");
    authority.flush_usage().unwrap();
    let (tokens, unknown, owners) = authority.cache_sizes();
    report(&format!("{VERIFICATIONS} verifications over {DISTINCT} tokens"), started);
    println!("cached: {tokens} tokens, {unknown} unknown secrets, {owners} owners");
}
