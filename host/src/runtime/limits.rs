//! The bounds every policy call runs within: a wall-clock budget enforced with
//! wasmtime epochs, and a cap on linear memory. A module that exceeds either
//! traps, and the host turns the trap into a `policy-fault` deny.

use std::time::Duration;

/// How often the engine's epoch advances; the time budget is counted in ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// What one policy call may take: wall-clock time and linear memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest one call into the policy may run.
    pub call_timeout: Duration,
    /// The most linear memory one policy instance may hold.
    pub memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { call_timeout: Duration::from_millis(100), memory_bytes: 32 << 20 }
    }
}

impl Limits {
    /// The deadline in epoch ticks (at least two, so a tick that lands just
    /// after the call starts does not cut it short).
    pub fn deadline_ticks(&self) -> u64 {
        let ticks = self.call_timeout.as_nanos() / EPOCH_TICK.as_nanos().max(1);
        u64::try_from(ticks).unwrap_or(u64::MAX).max(2)
    }
}
