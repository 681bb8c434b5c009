//! What the store-backed commands share: the global `--config`/`--store`
//! options, and opening config, store, runtime (with its module cache), policy
//! and authority from them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::authority::Authority;
use crate::config::{Config, PolicyConfig};
use crate::gate::admit;
use crate::observe::Recorder;
use crate::observe::Shadow;
use crate::runtime::{PolicyModule, Runtime};
use crate::store::{Store, StoreLocation};
use crate::time::SystemClock;

#[derive(Args, Debug, Clone)]
pub(crate) struct StoreArgs {
    /// The config file (default: ./tokenscope.toml when it exists)
    #[arg(long, value_name = "FILE", env = "TOKENSCOPE_CONFIG", global = true)]
    pub(crate) config: Option<PathBuf>,
    /// The store: a SQLite file or a `postgres://` URL (overrides `store.path` / `store.url` of the config)
    #[arg(long, value_name = "FILE|URL", env = "TOKENSCOPE_STORE", hide_env_values = true, global = true)]
    pub(crate) store: Option<String>,
}

impl StoreArgs {
    pub(crate) fn config(&self) -> Result<Config> {
        let mut config = Config::load(self.config.as_deref())?;
        if let Some(store) = &self.store {
            config.store.set(StoreLocation::parse(store)?);
        }
        Ok(config)
    }

    /// The store the config names, which must exist (a file) or answer (a database).
    pub(crate) fn existing_store(&self) -> Result<(Config, Arc<dyn Store>)> {
        let config = self.config()?;
        let store = crate::store::open_existing_with(&config.store.location(), &config.store.pg_options())?;
        Ok((config, store))
    }

    /// Config, an existing store, the configured policy, and the authority over them.
    pub(crate) fn authority(&self) -> Result<Authority> {
        let (config, store) = self.existing_store()?;
        Self::build(config, store)
    }

    /// Like `authority`, creating the store when it does not exist.
    pub(crate) fn authority_creating_store(&self) -> Result<Authority> {
        let config = self.config()?;
        let store = crate::store::open_with(&config.store.location(), &config.store.pg_options())?;
        Self::build(config, store)
    }

    fn build(config: Config, store: Arc<dyn Store>) -> Result<Authority> {
        let runtime = runtime(&config.policy)?;
        let limits = config.policy.limits();
        let module = match &config.policy.file {
            Some(path) => trusted_file(&runtime, path, &config.policy)?,
            None => PolicyModule::embedded(&runtime, limits)?,
        };
        Ok(Authority::new(store, module, config, Arc::new(SystemClock)))
    }

    /// The authority `serve` runs: the store (created when missing); a policy file
    /// must pass the gate before the server starts; and the shadow module and the
    /// decision recorder when the config names them.
    pub(crate) fn serving_authority(&self, config: Config) -> Result<Authority> {
        let store = crate::store::open_with(&config.store.location(), &config.store.pg_options())?;
        let runtime = runtime(&config.policy)?;
        let limits = config.policy.limits();
        let module = match &config.policy.file {
            Some(path) => gated(&runtime, path, &config)?,
            None => PolicyModule::embedded(&runtime, limits)?,
        };
        let shadow = match &config.policy.shadow {
            Some(path) => Some(Shadow::start(gated(&runtime, path, &config).context("the shadow module")?)?),
            None => None,
        };
        let recorder = match &config.record.file {
            Some(path) => Some(Recorder::open(path, config.record.every)?),
            None => None,
        };
        let host_id = config.fleet.host_id.clone();
        let mut authority = Authority::new(store, module, config, Arc::new(SystemClock));
        if let Some(id) = host_id {
            authority = authority.with_host_id(&id);
        }
        if let Some(shadow) = shadow {
            authority = authority.with_shadow(shadow);
        }
        if let Some(recorder) = recorder {
            authority = authority.with_recorder(recorder);
        }
        Ok(authority)
    }
}

/// The wasmtime runtime, with the module cache the config names.
pub(crate) fn runtime(config: &PolicyConfig) -> Result<Runtime> {
    let runtime = Runtime::new()?;
    Ok(match config.cache_dir() {
        Some(dir) => runtime.with_cache(&dir),
        None => runtime,
    })
}

/// What names the embedded default policy where a module file is expected.
pub(crate) const EMBEDDED: &str = "@default";

/// The module in `path`, or the embedded default policy for `@default`.
pub(crate) fn module_arg(runtime: &Runtime, path: &Path, config: &PolicyConfig) -> Result<Arc<PolicyModule>> {
    if path.as_os_str() == EMBEDDED {
        return PolicyModule::embedded(runtime, config.limits());
    }
    PolicyModule::from_file(runtime, path, config.limits())
}

/// The module in `path`, when `[policy.trust]` admits its signature (a command
/// that decides with the configured module runs only what `serve` would).
fn trusted_file(runtime: &Runtime, path: &Path, config: &PolicyConfig) -> Result<Arc<PolicyModule>> {
    let bytes = std::fs::read(path).with_context(|| format!("failed to read policy file `{}`", path.display()))?;
    let signature = crate::gate::Trust::of(config).signature(&bytes).map_err(|refusal| {
        anyhow::Error::new(refusal).context(format!("policy module `{}` is refused", path.display()))
    })?;
    PolicyModule::from_bytes_signed(runtime, &bytes, &path.display().to_string(), config.limits(), signature)
}

/// The module in `path`, once it passed the gate.
fn gated(runtime: &Runtime, path: &Path, config: &Config) -> Result<Arc<PolicyModule>> {
    let bytes = std::fs::read(path).with_context(|| format!("failed to read policy file `{}`", path.display()))?;
    gated_bytes(runtime, &bytes, &path.display().to_string(), config)
}

/// The module in `bytes` (named `source`), once it passed the gate.
pub(crate) fn gated_bytes(runtime: &Runtime, bytes: &[u8], source: &str, config: &Config) -> Result<Arc<PolicyModule>> {
    let options = crate::gate::GateOptions::of(&config.policy, crate::time::UnixTime::now());
    match admit(runtime, bytes, source, config.policy.limits(), &options, None) {
        (Some(module), _) => Ok(module),
        (None, report) => match report.signature_refusal {
            // Its own exit code (1), as `policy verify` gives.
            Some(refusal) => Err(anyhow::Error::new(refusal).context(format!("policy module `{source}` is refused"))),
            None => bail!("policy module `{source}` failed the gate: {}", report.reasons()),
        },
    }
}
