//! The one wasmtime `Engine` of a process, configured for policy modules
//! (component model, epoch interruption), and the thread that advances its epoch
//! so that every call has a deadline.

use std::thread;

use anyhow::{Context, Result};
use wasmtime::{Config, Engine, OptLevel};

use super::limits::EPOCH_TICK;

/// Owns the engine; cloning shares it.
#[derive(Clone)]
pub struct Runtime {
    engine: Engine,
}

impl Runtime {
    pub fn new() -> Result<Runtime> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.cranelift_opt_level(OptLevel::Speed);
        config.max_wasm_stack(512 << 10);
        let engine =
            Engine::new(&config).map_err(anyhow::Error::from).context("failed to create the wasmtime engine")?;
        start_epoch_ticker(&engine)?;
        Ok(Runtime { engine })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
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
