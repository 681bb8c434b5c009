//! A loaded policy module: the component compiled once (or read from the module
//! cache), checked to be a pure tokenscope policy (no imports, a compatible
//! `evaluator` export), pre-instantiated, and its identity (name, version,
//! SHA-256), catalog, resource kinds and embedded test vectors read once.

use foldhash::{HashMap, HashMapExt};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use semver::Version;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};

use super::cache::Compiled;
use super::embedded::{DEFAULT_POLICY, DEFAULT_POLICY_SOURCE};
use super::engine::Runtime;
use super::inspect::{Interface, interface_of};
use super::instance::PolicyInstance;
use super::limits::Limits;
use super::prepared::{HostState, Prepared};
use super::sections::embedded_vectors;
use crate::contract::{self, ActionId, CatalogEntry, ModuleInfo, PolicyPre, ResourceKind};
use crate::signing::Signature;

/// A compiled, validated policy module, shared by every instance made from it.
pub struct PolicyModule {
    prepared: Arc<Prepared>,
    source: String,
    sha256: Arc<str>,
    size: usize,
    component: Component,
    info: ModuleInfo,
    contract: Version,
    catalog: Vec<CatalogEntry>,
    kinds: Vec<ResourceKind>,
    action_ids: HashMap<String, ActionId>,
    vectors: Option<String>,
    compiled: Compiled,
    load_time: Duration,
    signature: Signature,
}

impl PolicyModule {
    /// The default policy embedded in this binary.
    pub fn embedded(runtime: &Runtime, limits: Limits) -> Result<Arc<PolicyModule>> {
        Self::from_bytes(runtime, DEFAULT_POLICY, DEFAULT_POLICY_SOURCE, limits)
    }

    /// A policy module from a file.
    pub fn from_file(runtime: &Runtime, path: &Path, limits: Limits) -> Result<Arc<PolicyModule>> {
        let bytes = std::fs::read(path).with_context(|| format!("failed to read policy file `{}`", path.display()))?;
        Self::from_bytes(runtime, &bytes, &path.display().to_string(), limits)
    }

    /// Compiles and validates `bytes`; `source` names them in errors. Its
    /// signatures are read but not checked (the gate checks them against `[policy.trust]`).
    pub fn from_bytes(runtime: &Runtime, bytes: &[u8], source: &str, limits: Limits) -> Result<Arc<PolicyModule>> {
        let signature = if bytes == DEFAULT_POLICY { Signature::Embedded } else { crate::signing::observe(bytes) };
        Self::from_bytes_signed(runtime, bytes, source, limits, signature)
    }

    /// `from_bytes` of a module whose signature was checked: `signature` is what was found.
    pub fn from_bytes_signed(
        runtime: &Runtime,
        bytes: &[u8],
        source: &str,
        limits: Limits,
        signature: Signature,
    ) -> Result<Arc<PolicyModule>> {
        Self::load(runtime, bytes, source, limits, signature)
            .with_context(|| format!("policy module `{source}` cannot be used"))
    }

    fn load(
        runtime: &Runtime,
        bytes: &[u8],
        source: &str,
        limits: Limits,
        signature: Signature,
    ) -> Result<Arc<PolicyModule>> {
        let started = Instant::now();
        let engine = runtime.engine();
        let sha256 = sha256_hex(bytes);
        let compiled = match runtime.cache() {
            Some(cache) => cache.component(engine, bytes, &sha256),
            None => Component::new(engine, bytes).map(|c| (c, Compiled::Fresh)).map_err(anyhow::Error::from),
        };
        let (component, compiled) = compiled.context("not a valid WebAssembly component")?;
        let interface = interface_of(engine, &component);
        if let Some(import) = interface.imports.first() {
            bail!(
                "it imports `{import}` ({} imports in all), but a policy must import nothing: no WASI, no host functions",
                interface.imports.len()
            );
        }
        let contract =
            contract::check_exports(interface.exports.iter().map(|e| e.name.as_str())).with_context(|| {
                let found: Vec<&str> = interface.exports.iter().map(|e| e.name.as_str()).collect();
                format!("it exports: {}", if found.is_empty() { "nothing".to_owned() } else { found.join(", ") })
            })?;
        let vectors = embedded_vectors(bytes)?;
        let linker = Linker::<HostState>::new(engine);
        let pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .context("failed to pre-instantiate the component")?;
        let pre = PolicyPre::new(pre)
            .map_err(anyhow::Error::from)
            .context("the component does not match the `tokenscope:policy/policy` world")?;
        let prepared = Arc::new(Prepared { runtime: runtime.clone(), pre, limits });

        let mut instance = PolicyInstance::new(Arc::clone(&prepared));
        let info = instance.info().context("it failed to report its info")?;
        for (what, text, max) in
            [("name", &info.name, 128), ("version", &info.version, 128), ("description", &info.description, 4096)]
        {
            if text.len() > max {
                bail!("its {what} is {} bytes long, more than the {max} allowed", text.len());
            }
        }
        let catalog = instance.catalog().context("it failed to list its catalog")?;
        let kinds = instance.resource_kinds().context("it failed to list its resource kinds")?;
        let mut action_ids = HashMap::with_capacity(catalog.len());
        for (id, entry) in catalog.iter().enumerate() {
            let id = ActionId::from_index(id).context("its catalog is longer than the contract can number")?;
            if action_ids.insert(entry.action.clone(), id).is_some() {
                bail!("its catalog lists `{}` twice", entry.action);
            }
        }
        Ok(Arc::new(PolicyModule {
            prepared,
            source: source.to_owned(),
            sha256: sha256.into(),
            size: bytes.len(),
            component,
            info,
            contract,
            catalog,
            kinds,
            action_ids,
            vectors,
            compiled,
            load_time: started.elapsed(),
            signature,
        }))
    }

    /// A new instance with its own store; instances are meant to be reused.
    pub fn instantiate(&self) -> PolicyInstance {
        PolicyInstance::new(Arc::clone(&self.prepared))
    }

    /// The module's name, version and description.
    pub fn info(&self) -> &ModuleInfo {
        &self.info
    }

    /// Where the module came from: a file path or the embedded default.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The hex SHA-256 of the module's bytes.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The same digest, shared (for labels and headers made per request).
    pub fn sha256_shared(&self) -> &Arc<str> {
        &self.sha256
    }

    /// The module's size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Every action the module knows; an action's id is its index.
    pub fn catalog(&self) -> &[CatalogEntry] {
        &self.catalog
    }

    /// The resource kinds and their nesting.
    pub fn resource_kinds(&self) -> &[ResourceKind] {
        &self.kinds
    }

    /// The contract version the module speaks.
    pub fn contract(&self) -> &Version {
        &self.contract
    }

    /// The test vectors embedded in the module (TOML), if any.
    pub fn vectors(&self) -> Option<&str> {
        self.vectors.as_deref()
    }

    /// What its signature says: embedded, verified by trusted keys, not checked, or unsigned.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Whether the machine code came from the module cache.
    pub fn compiled(&self) -> Compiled {
        self.compiled
    }

    /// How long loading took: compile or cache read, checks, info and catalog.
    pub fn load_time(&self) -> Duration {
        self.load_time
    }

    /// The id the policy gives `action` (its catalog index).
    pub fn action_id(&self, action: &str) -> Option<ActionId> {
        self.action_ids.get(action).copied()
    }

    /// The component's imports and exports.
    pub fn interface(&self) -> Interface {
        interface_of(self.prepared.runtime.engine(), &self.component)
    }

    /// The limits every instance runs under.
    pub fn limits(&self) -> Limits {
        self.prepared.limits
    }

    /// The runtime (engine and module cache) the module was compiled on.
    pub fn runtime(&self) -> &Runtime {
        &self.prepared.runtime
    }

    /// `name version (sha256:0123abcd…)`, for logs and reports.
    pub fn label(&self) -> String {
        format!("{} {} (sha256:{})", self.info.name, self.info.version, self.sha256.get(..12).unwrap_or(&self.sha256))
    }
}

impl std::fmt::Debug for PolicyModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PolicyModule({} from {})", self.label(), self.source)
    }
}

/// The hex SHA-256 of `bytes`, as module digests are shown.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
