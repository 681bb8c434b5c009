//! `[policy]`: which module decides, its limits, and how modules are swapped and cached.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Deserialize;

use super::duration::duration;
use crate::runtime::Limits;
use crate::signing::TrustedKeys;

/// Which policy module decides, its limits, and how modules are swapped and cached.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// A policy component to load instead of the embedded default.
    pub file: Option<PathBuf>,
    /// The longest one policy call may run.
    #[serde(deserialize_with = "duration")]
    pub call_timeout: Duration,
    /// The most linear memory one policy instance may use, in MiB.
    pub memory_mib: usize,
    /// Reload `file` when it changes on disk (`serve`; SIGHUP reloads it always).
    pub watch: bool,
    /// How long a changed file must stay the same before it is read.
    #[serde(deserialize_with = "duration")]
    pub settle: Duration,
    /// Refuse modules that ship no test vectors.
    pub require_vectors: bool,
    /// Instances deciding in parallel; 0 means one per core.
    pub evaluators: usize,
    /// Cache compiled modules on disk, so a restart or a known module does not recompile.
    pub cache: bool,
    /// Where compiled modules are cached (default: `$XDG_CACHE_HOME/tokenscope`, or `~/.cache/tokenscope`).
    pub cache_dir: Option<PathBuf>,
    /// A candidate module to run beside the active one on live traffic, never affecting an answer.
    pub shadow: Option<PathBuf>,
    /// The largest module `POST /api/system/policy` accepts, in bytes.
    pub max_module_bytes: usize,
    /// `[policy.trust]`: when present, only modules signed by one of its keys go live or run.
    pub trust: Option<TrustTable>,
}

/// `[policy.trust]`: the public keys whose signatures admit a policy module.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustTable {
    /// Public key files (PEM, DER, OpenSSH or wasmsign2's raw form), relative to the config file.
    pub keys: Vec<PathBuf>,
    /// The keys, once `Config::from_file` has read them.
    #[serde(skip)]
    pub loaded: Option<Arc<TrustedKeys>>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        let limits = Limits::default();
        PolicyConfig {
            file: None,
            call_timeout: limits.call_timeout,
            memory_mib: limits.memory_bytes >> 20,
            watch: true,
            settle: Duration::from_millis(100),
            require_vectors: true,
            evaluators: 0,
            cache: true,
            cache_dir: None,
            shadow: None,
            max_module_bytes: 16 << 20,
            trust: None,
        }
    }
}

impl PolicyConfig {
    /// The runtime limits of every policy call.
    pub fn limits(&self) -> Limits {
        Limits { call_timeout: self.call_timeout, memory_bytes: self.memory_mib << 20 }
    }

    /// How many evaluators decide in parallel.
    pub fn evaluators(&self) -> usize {
        match self.evaluators {
            0 => std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
            n => n,
        }
    }

    /// Reads the keys of `[policy.trust]`, each path taken relative to `base` (the
    /// config file's folder): a key that cannot be read, or a table with none,
    /// stops the config from loading.
    pub fn load_trust(&mut self, base: &Path) -> Result<()> {
        if let Some(table) = &mut self.trust {
            for key in &mut table.keys {
                if key.is_relative() {
                    *key = base.join(&*key);
                }
            }
            table.loaded = Some(Arc::new(TrustedKeys::load(&table.keys).context("[policy.trust]")?));
        }
        Ok(())
    }

    /// The module cache directory, if caching is on and one can be named.
    pub fn cache_dir(&self) -> Option<PathBuf> {
        if !self.cache {
            return None;
        }
        if let Some(dir) = &self.cache_dir {
            return Some(dir.clone());
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
        Some(base.join("tokenscope"))
    }
}
