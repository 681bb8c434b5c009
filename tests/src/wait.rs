//! Waiting for a state, as every test does: poll until it holds, for as long
//! as a machine busy with other work may need, and never assert how long it
//! took. Lags a test measures on the way are printed for the benchmark that
//! holds them to their goals (`host/benches/lags.sh`, BENCHMARKS.md).

use std::time::{Duration, Instant};

/// How long a test waits for a state before it fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Polls `done` every `every` until it holds; how long that took. Panics,
/// naming `what`, past `DEADLINE`.
#[allow(clippy::panic)]
pub fn until(what: &str, every: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    loop {
        if done() {
            return started.elapsed();
        }
        if started.elapsed() > DEADLINE {
            panic!("still not {what} after {} s", DEADLINE.as_secs());
        }
        std::thread::sleep(every);
    }
}

/// Prints one measured lag as `lag NAME MICROSECONDS` on stderr, for
/// `host/benches/lags.sh` (run the tests with `--nocapture`).
pub fn report_lag(name: &str, lag: Duration) {
    eprintln!("lag {name} {}", lag.as_micros());
}
