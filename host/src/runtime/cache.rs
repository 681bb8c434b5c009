//! Compiled policy modules cached on disk by digest, so a restart or a reload of
//! a known module skips cranelift (about 20 ms) for a deserialize (about 0.1 ms).
//! Precompiled bytes are machine code: they are only ever read from this cache
//! directory, which the host creates itself (mode 0700) and refuses to use when
//! anyone else owns it or may write to it. Bytes from a user are always compiled.

// `Component::deserialize_file` is `unsafe` because wasmtime trusts precompiled
// machine code; this file is the only place that calls it, on files it wrote.
#![allow(unsafe_code)]

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// How a module's machine code was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compiled {
    /// Read from the cache.
    Cached,
    /// Compiled now (and written to the cache when there is one).
    Fresh,
}

impl Compiled {
    /// `cached` or `compiled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Compiled::Cached => "cached",
            Compiled::Fresh => "compiled",
        }
    }
}

/// A directory of `<module sha256>-<engine key>.cwasm` files.
#[derive(Clone, Debug)]
pub struct ModuleCache {
    dir: PathBuf,
    engine_key: String,
}

impl ModuleCache {
    /// Opens (creating) the cache at `dir` for modules compiled by `engine`.
    pub fn open(dir: &Path, engine: &Engine) -> Result<ModuleCache> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("failed to create the module cache `{}`", dir.display()))?;
        let meta = fs::metadata(dir).with_context(|| format!("failed to read `{}`", dir.display()))?;
        if meta.uid() != rustix::process::geteuid().as_raw() {
            bail!("the module cache `{}` belongs to another user", dir.display());
        }
        if meta.permissions().mode() & 0o022 != 0 {
            bail!("the module cache `{}` is writable by others (it must be 0700)", dir.display());
        }
        Ok(ModuleCache { dir: dir.to_path_buf(), engine_key: engine_key(engine) })
    }

    /// The cache's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}-{}.cwasm", self.engine_key))
    }

    /// The compiled component for `bytes` (whose digest is `sha256`): from the
    /// cache when it holds it, else compiled and stored.
    pub fn component(&self, engine: &Engine, bytes: &[u8], sha256: &str) -> Result<(Component, Compiled)> {
        let path = self.path_of(sha256);
        if path.is_file() {
            // SAFETY: the file is in the host's own cache directory (checked in
            // `open`), written by `store` below from `Component::serialize` of an
            // engine with the same compatibility key (part of the file name);
            // wasmtime still checks its header and refuses a mismatched engine.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => return Ok((component, Compiled::Cached)),
                Err(err) => {
                    tracing::warn!(path = %path.display(), "dropping an unusable cached module: {err:#}");
                    let _ = fs::remove_file(&path);
                }
            }
        }
        let component = Component::new(engine, bytes).map_err(anyhow::Error::from)?;
        if let Err(err) = self.store(&component, &path) {
            tracing::warn!(path = %path.display(), "could not cache a compiled module: {err:#}");
        }
        Ok((component, Compiled::Fresh))
    }

    /// Writes atomically: a temp file in the cache directory, then a rename.
    fn store(&self, component: &Component, path: &Path) -> Result<()> {
        let bytes = component.serialize().map_err(anyhow::Error::from)?;
        let temp = path.with_extension(format!("tmp{}", std::process::id()));
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)
            .with_context(|| format!("failed to create `{}`", temp.display()))?;
        file.write_all(&bytes).and_then(|()| file.sync_all())?;
        fs::rename(&temp, path).with_context(|| format!("failed to rename into `{}`", path.display()))
    }
}

/// 16 hex digits naming the engine's compatibility (wasmtime version, target,
/// settings): machine code from another engine is never even tried.
fn engine_key(engine: &Engine) -> String {
    struct Sha(Sha256);
    impl Hasher for Sha {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
    }
    let mut hasher = Sha(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hex::encode(hasher.0.finalize().get(..8).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        Engine::new(&config).unwrap()
    }

    #[test]
    fn a_module_is_compiled_once_then_read_from_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let cache = ModuleCache::open(&dir.path().join("cache"), &engine).unwrap();
        let bytes = crate::runtime::DEFAULT_POLICY;
        let sha = crate::runtime::sha256_hex(bytes);
        assert_eq!(cache.component(&engine, bytes, &sha).unwrap().1, Compiled::Fresh);
        assert_eq!(cache.component(&engine, bytes, &sha).unwrap().1, Compiled::Cached);
        let mode = fs::metadata(cache.dir()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn a_corrupt_cache_entry_is_replaced_by_a_fresh_compile() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let cache = ModuleCache::open(dir.path(), &engine).unwrap();
        let bytes = crate::runtime::DEFAULT_POLICY;
        let sha = crate::runtime::sha256_hex(bytes);
        fs::write(cache.path_of(&sha), b"\x7fELF not really").unwrap();
        assert_eq!(cache.component(&engine, bytes, &sha).unwrap().1, Compiled::Fresh);
        assert_eq!(cache.component(&engine, bytes, &sha).unwrap().1, Compiled::Cached);
    }

    #[test]
    fn a_cache_others_may_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        let err = ModuleCache::open(dir.path(), &engine()).unwrap_err();
        assert!(format!("{err:#}").contains("writable by others"), "{err:#}");
    }
}
