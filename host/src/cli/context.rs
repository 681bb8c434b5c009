//! What the store-backed commands share: the global `--config`/`--store`
//! options, and opening config, store, policy and authority from them.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use clap::Args;

use crate::authority::Authority;
use crate::clock::SystemClock;
use crate::config::Config;
use crate::runtime::{PolicyModule, Runtime};
use crate::store::SqliteStore;

#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// The config file (default: ./tokenscope.toml when it exists)
    #[arg(long, value_name = "FILE", env = "TOKENSCOPE_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// The SQLite store (overrides `store.path` of the config)
    #[arg(long, value_name = "FILE", env = "TOKENSCOPE_STORE", global = true)]
    pub store: Option<PathBuf>,
}

impl StoreArgs {
    pub fn config(&self) -> Result<Config> {
        let mut config = Config::load(self.config.as_deref())?;
        if let Some(store) = &self.store {
            config.store.path.clone_from(store);
        }
        Ok(config)
    }

    /// Config, an existing store, the configured policy, and the authority over them.
    pub fn authority(&self) -> Result<Authority> {
        let config = self.config()?;
        let store = SqliteStore::open_existing(&config.store.path)?;
        Self::build(config, store)
    }

    /// Like `authority`, creating the store when it does not exist.
    pub fn authority_creating_store(&self) -> Result<Authority> {
        let config = self.config()?;
        let store = SqliteStore::open(&config.store.path)?;
        Self::build(config, store)
    }

    fn build(config: Config, store: SqliteStore) -> Result<Authority> {
        let runtime = Runtime::new()?;
        let limits = config.policy.limits();
        let module = match &config.policy.file {
            Some(path) => PolicyModule::from_file(&runtime, path, limits)?,
            None => PolicyModule::embedded(&runtime, limits)?,
        };
        Ok(Authority::new(Arc::new(store), module, config, Arc::new(SystemClock)))
    }
}
