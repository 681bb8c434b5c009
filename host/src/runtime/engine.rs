//! The one wasmtime `Engine` of a process, configured for policy modules
//! (component model, epoch interruption), the thread that advances its epoch
//! so that every call has a deadline, and the on-disk cache of compiled modules.

use std::path::Path;
use std::thread;

use anyhow::{Context, Result};
use wasmtime::{Config, Engine, OptLevel};

use super::cache::ModuleCache;
use super::limits::EPOCH_TICK;

/// Owns the engine (and the module cache, if any); cloning shares them.
#[derive(Clone)]
pub struct Runtime {
    engine: Engine,
    cache: Option<ModuleCache>,
}

impl Runtime {
    /// One engine with epoch interruption and its epoch ticker; no module cache.
    pub fn new() -> Result<Runtime> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.cranelift_opt_level(OptLevel::Speed);
        config.max_wasm_stack(512 << 10);
        // `perf` names a module's functions from /tmp/perf-PID.map (BENCHMARKS.md).
        if std::env::var_os("TOKENSCOPE_PERFMAP").is_some() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine =
            Engine::new(&config).map_err(anyhow::Error::from).context("failed to create the wasmtime engine")?;
        start_epoch_ticker(&engine)?;
        Ok(Runtime { engine, cache: None })
    }

    /// Caches compiled modules in `dir`; when the directory cannot be used safely
    /// the runtime works on without a cache, and says why.
    pub fn with_cache(mut self, dir: &Path) -> Runtime {
        match ModuleCache::open(dir, &self.engine) {
            Ok(cache) => self.cache = Some(cache),
            Err(err) => tracing::warn!("compiled modules will not be cached: {err:#}"),
        }
        self
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The module cache, if there is one.
    pub fn cache(&self) -> Option<&ModuleCache> {
        self.cache.as_ref()
    }
}

/// Advances the epoch every tick until the engine is dropped.
fn start_epoch_ticker(engine: &Engine) -> Result<()> {
    let weak = engine.weak();
    thread::Builder::new()
        .name("tokenscope-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                thread::sleep(EPOCH_TICK);
            }
        })
        .context("failed to start the epoch thread")?;
    Ok(())
}
