//! Policy modules for the tests, each compiled once per test process: the
//! default policy embedded in the host, and the fixture components built by
//! `build.rs` from `tests/fixtures/`.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use anyhow::Result;
use tokenscope::runtime::{Limits, PolicyModule, Runtime};

/// The hostile fixture: loops, traps or grows memory on `hostile:*` actions.
pub const HOSTILE: &str = env!("TOKENSCOPE_FIXTURE_HOSTILE");

static RUNTIME: OnceLock<Runtime> = OnceLock::new();
static DEFAULT: OnceLock<Arc<PolicyModule>> = OnceLock::new();
static HOSTILE_MODULE: OnceLock<Arc<PolicyModule>> = OnceLock::new();

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
