//! Policy modules for the tests, each compiled once per test process: the
//! default policy embedded in the host, and the fixture components built by
//! `build.rs` from `tests/fixtures/`.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use anyhow::Result;
use tokenscope::runtime::{Limits, PolicyModule, Runtime};

/// The variant: the default policy, but tokens without an expiry are refused.
pub const VARIANT: &str = env!("TOKENSCOPE_FIXTURE_VARIANT");
/// Passes the gate, then loops, traps, grows memory or answers 16 MiB on
/// resources naming `hostile-loop`, `hostile-trap`, `hostile-grow`, `hostile-huge`.
pub const HOSTILE: &str = env!("TOKENSCOPE_FIXTURE_HOSTILE");
/// Loops on every decision.
pub const HOSTILE_LOOP: &str = env!("TOKENSCOPE_FIXTURE_HOSTILE_LOOP");
/// Traps on every decision.
pub const HOSTILE_TRAP: &str = env!("TOKENSCOPE_FIXTURE_HOSTILE_TRAP");
/// Grows memory without end on every decision.
pub const HOSTILE_GROW: &str = env!("TOKENSCOPE_FIXTURE_HOSTILE_GROW");
/// Names itself with 8 MiB.
pub const HOSTILE_HUGE_INFO: &str = env!("TOKENSCOPE_FIXTURE_HOSTILE_HUGE_INFO");
/// Ignores expiry and revocation; its own vectors pass.
pub const HOSTILE_LENIENT: &str = env!("TOKENSCOPE_FIXTURE_HOSTILE_LENIENT");
/// Exports another world.
pub const HOSTILE_WRONG_WORLD: &str = env!("TOKENSCOPE_FIXTURE_HOSTILE_WRONG_WORLD");

static RUNTIME: OnceLock<Runtime> = OnceLock::new();
static DEFAULT: OnceLock<Arc<PolicyModule>> = OnceLock::new();
static HOSTILE_MODULE: OnceLock<Arc<PolicyModule>> = OnceLock::new();

/// The tests' one wasmtime runtime (engines are costly: made once).
pub fn runtime() -> Result<Runtime> {
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime.clone());
    }
    let runtime = Runtime::new()?;
    Ok(RUNTIME.get_or_init(|| runtime).clone())
}

/// The default policy exactly as the host embeds it.
pub fn default_policy() -> Result<Arc<PolicyModule>> {
    cached(&DEFAULT, || PolicyModule::embedded(&runtime()?, Limits::default()))
}

/// The hostile fixture with the default limits.
pub fn hostile_policy() -> Result<Arc<PolicyModule>> {
    cached(&HOSTILE_MODULE, || PolicyModule::from_file(&runtime()?, Path::new(HOSTILE), Limits::default()))
}

/// The bytes of a fixture module.
pub fn bytes(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

fn cached(
    slot: &OnceLock<Arc<PolicyModule>>,
    load: impl FnOnce() -> Result<Arc<PolicyModule>>,
) -> Result<Arc<PolicyModule>> {
    if let Some(module) = slot.get() {
        return Ok(Arc::clone(module));
    }
    let module = load()?;
    Ok(Arc::clone(slot.get_or_init(|| module)))
}
