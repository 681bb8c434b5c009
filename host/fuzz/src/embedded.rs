//! The embedded default policy component, compiled once per fuzzing process and
//! held in one instance that the differential targets call into.

use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use tokenscope::runtime::{Limits, PolicyInstance, PolicyModule, Runtime};

/// The component and one live instance of it.
pub struct Embedded {
    pub module: Arc<PolicyModule>,
    pub instance: PolicyInstance,
}

static EMBEDDED: LazyLock<Mutex<Embedded>> = LazyLock::new(|| {
    let loaded = Runtime::new().and_then(|runtime| PolicyModule::embedded(&runtime, Limits::default()));
    match loaded {
        Ok(module) => {
            let instance = module.instantiate();
            Mutex::new(Embedded { module, instance })
        }
        Err(e) => {
            eprintln!("the embedded policy does not load: {e:#}");
            std::process::abort()
        }
    }
});

/// The shared instance; a poisoned lock (a previous input's assertion) is taken over.
pub fn embedded() -> MutexGuard<'static, Embedded> {
    EMBEDDED.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
