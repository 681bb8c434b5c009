//! `tokenscope policy ...`: commands for policy modules, and `inspect`, which
//! prints a module's identity, digest, size, catalog size, imports, exports,
//! embedded vectors and the gate's verdict; it also describes modules the host
//! would refuse, and says why. The other commands live in `policy_*.rs`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;

use super::context::StoreArgs;
use super::policy_author::{BuildArgs, NewArgs};
use super::policy_diff::DiffArgs;
use super::policy_remote::{Call, LoadArgs, RemoteArgs};
use super::policy_vectors::TestArgs;
use crate::config::PolicyConfig;
use crate::gate::admit;
use crate::runtime::{DEFAULT_POLICY, DEFAULT_POLICY_SOURCE, Interface};
use crate::vectors::Vectors;

#[derive(Subcommand, Debug)]
pub(crate) enum PolicyCommand {
    /// Show a module's info, SHA-256 digest, imports, exports, vectors and whether the gate admits it
    Inspect(InspectArgs),
    /// Run a module's test vectors and the host's safety vectors (exit 0 all pass, 1 any fails)
    Test(TestArgs),
    /// Decide recorded requests with two modules and show what changes (exit 0 none, 1 some)
    Diff(DiffArgs),
    /// Load a module into a running server (token in TOKENSCOPE_TOKEN or stdin)
    Load(LoadArgs),
    /// Make the module before the active one active again on a running server
    Rollback(RemoteArgs),
    /// Show a running server's active module, the ones before it and swap counts
    Status(RemoteArgs),
    /// Publish a module to a fleet's PostgreSQL store: every host fetches it, gates it and swaps
    Publish(super::fleet::PublishArgs),
    /// Start a policy of your own: a copy of the default policy in a new crate
    New(NewArgs),
    /// Build a policy crate into a component with its vectors embedded (and signed, with --sign)
    Build(BuildArgs),
    /// Sign a module with an Ed25519 private key (WebAssembly signatures, as wasmsign2 reads them)
    Sign(super::policy_signing::SignArgs),
    /// Verify a module's signature against public keys (exit 0 verified, 1 not, naming why)
    Verify(super::policy_signing::VerifyArgs),
}

#[derive(Args, Debug)]
pub(crate) struct InspectArgs {
    /// The module to inspect (default: the embedded policy)
    file: Option<PathBuf>,
    /// Print the report as JSON
    #[arg(long)]
    json: bool,
    /// Public keys to check its signatures against (default: the config's `[policy.trust]`)
    #[arg(long, value_name = "PUBLIC_KEY")]
    key: Vec<PathBuf>,
}

#[derive(Serialize)]
struct Report {
    source: String,
    usable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    sha256: String,
    size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    catalog_actions: Option<usize>,
    /// How many test vectors the module carries.
    #[serde(skip_serializing_if = "Option::is_none")]
    vectors: Option<usize>,
    /// The gate's verdict, check by check.
    #[serde(skip_serializing_if = "Option::is_none")]
    gate: Option<crate::gate::GateReport>,
    /// Each signature it carries and which configured key verifies it.
    signatures: Signatures,
    #[serde(flatten)]
    interface: Interface,
}

pub(crate) fn run(store: &StoreArgs, command: &PolicyCommand) -> Result<ExitCode> {
    match command {
        PolicyCommand::Inspect(args) => inspect(store, args),
        PolicyCommand::Test(args) => super::policy_vectors::run(args),
        PolicyCommand::Diff(args) => super::policy_diff::run(args),
        PolicyCommand::Load(args) => super::policy_remote::run(store, &Call::Load(args)),
        PolicyCommand::Rollback(args) => super::policy_remote::run(store, &Call::Rollback(args)),
        PolicyCommand::Status(args) => super::policy_remote::run(store, &Call::Status(args)),
        PolicyCommand::Publish(args) => super::fleet::publish(store, args),
        PolicyCommand::New(args) => super::policy_author::new(args),
        PolicyCommand::Build(args) => super::policy_author::build(args),
        PolicyCommand::Sign(args) => super::policy_signing::sign(args),
        PolicyCommand::Verify(args) => super::policy_signing::verify(args),
    }
}

/// The signatures `inspect` found, or why none can be read.
#[derive(Serialize)]
#[serde(untagged)]
enum Signatures {
    Read(Vec<crate::signing::SignatureSeen>),
    Unreadable { problem: String },
}

fn inspect(store: &StoreArgs, args: &InspectArgs) -> Result<ExitCode> {
    let (bytes, source) = match &args.file {
        Some(path) => (
            std::fs::read(path).with_context(|| format!("failed to read policy file `{}`", path.display()))?,
            path.display().to_string(),
        ),
        None => (DEFAULT_POLICY.to_vec(), DEFAULT_POLICY_SOURCE.to_owned()),
    };
    let mut config = PolicyConfig::default();
    config.trust = if args.key.is_empty() {
        store.config()?.policy.trust
    } else {
        let keys = crate::signing::TrustedKeys::load(&args.key)?;
        Some(crate::config::TrustTable { keys: args.key.clone(), loaded: Some(std::sync::Arc::new(keys)) })
    };
    let trusted = config.trust.as_ref().and_then(|t| t.loaded.clone());
    let signatures = match crate::signing::signatures(&bytes, trusted.as_deref()) {
        Ok(seen) => Signatures::Read(seen),
        Err(refusal) => Signatures::Unreadable { problem: refusal.to_string() },
    };
    let runtime = super::context::runtime(&config)?;
    let interface = Interface::of_bytes(runtime.engine(), &bytes)
        .with_context(|| format!("`{source}` is not a WebAssembly component"))?;
    let (module, gate) = admit(
        &runtime,
        &bytes,
        &source,
        config.limits(),
        &crate::gate::GateOptions::of(&config, crate::time::UnixTime::now()),
        None,
    );
    let loaded = match module {
        Some(module) => Ok(module),
        None => crate::runtime::PolicyModule::from_bytes(&runtime, &bytes, &source, config.limits()),
    };
    let vectors = crate::runtime::embedded_vectors(&bytes)
        .ok()
        .flatten()
        .map(|text| Vectors::from_toml(&text).map_or(0, |v| v.cases.len()));
    let report = match &loaded {
        Ok(module) => Report {
            source,
            usable: gate.passed,
            problem: (!gate.passed).then(|| format!("the gate refuses it: {}", gate.reasons())),
            name: Some(module.info().name.clone()),
            version: Some(module.info().version.clone()),
            description: Some(module.info().description.clone()),
            sha256: module.sha256().to_owned(),
            size: module.size(),
            catalog_actions: Some(module.catalog().len()),
            vectors,
            gate: Some(gate),
            signatures,
            interface,
        },
        Err(err) => Report {
            source,
            usable: false,
            problem: Some(format!("{err:#}")),
            name: None,
            version: None,
            description: None,
            sha256: crate::runtime::sha256_hex(&bytes),
            size: bytes.len(),
            catalog_actions: None,
            vectors,
            gate: Some(gate),
            signatures,
            interface,
        },
    };
    super::output::print_report(&report, args.json, print_text)?;
    Ok(if report.usable { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn print_text(out: &mut impl Write, r: &Report) -> Result<()> {
    writeln!(out, "source:      {}", r.source)?;
    if let (Some(name), Some(version)) = (&r.name, &r.version) {
        writeln!(out, "name:        {name}")?;
        writeln!(out, "version:     {version}")?;
    }
    if let Some(description) = &r.description {
        writeln!(out, "description: {description}")?;
    }
    writeln!(out, "sha256:      {}", r.sha256)?;
    writeln!(out, "size:        {} bytes", r.size)?;
    if let Some(n) = r.catalog_actions {
        writeln!(out, "catalog:     {n} actions")?;
    }
    match r.vectors {
        Some(n) => writeln!(out, "vectors:     {n} cases embedded")?,
        None => writeln!(out, "vectors:     none embedded")?,
    }
    match &r.signatures {
        Signatures::Read(seen) if seen.is_empty() => writeln!(out, "signatures: none")?,
        Signatures::Read(seen) => {
            writeln!(out, "signatures:")?;
            for s in seen {
                let key = s.key_id.as_deref().unwrap_or("(no key id)");
                match &s.verified_by {
                    Some(path) => writeln!(out, "  key {key}: verified by `{path}`")?,
                    None => writeln!(out, "  key {key}: not verified by any configured key")?,
                }
            }
        }
        Signatures::Unreadable { problem } => writeln!(out, "signatures: {problem}")?,
    }
    if let Some(gate) = &r.gate {
        writeln!(
            out,
            "gate:        {} ({} cases, {:.1} ms)",
            if gate.passed { "passes" } else { "refuses it" },
            { gate.cases },
            gate.elapsed.as_secs_f64() * 1000.0
        )?;
        for check in &gate.checks {
            writeln!(out, "  {} {}: {}", if check.passed { "ok  " } else { "FAIL" }, check.name, check.summary)?;
            for failure in &check.failures {
                writeln!(out, "         {failure}")?;
            }
        }
    }
    if r.interface.imports.is_empty() {
        writeln!(out, "imports:     (none)")?;
    } else {
        writeln!(out, "imports:")?;
        for import in &r.interface.imports {
            writeln!(out, "  {import}")?;
        }
    }
    writeln!(out, "exports:")?;
    for export in &r.interface.exports {
        writeln!(out, "  {}", export.name)?;
        for item in &export.items {
            writeln!(out, "    {item}")?;
        }
    }
    match &r.problem {
        Some(problem) => writeln!(out, "usable:      no: {problem}")?,
        None => writeln!(out, "usable:      yes")?,
    }
    Ok(())
}
