//! `tokenscope policy ...`: commands for policy modules. `inspect` prints a
//! module's identity, digest, size, catalog size, imports and exports; it also
//! describes modules the host would refuse, and says why.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::runtime::{DEFAULT_POLICY, DEFAULT_POLICY_SOURCE, Interface, Limits, PolicyModule, Runtime};

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Show a module's info, SHA-256 digest, imports and exports
    Inspect(InspectArgs),
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// The module to inspect (default: the embedded policy)
    file: Option<PathBuf>,
    /// Print the report as JSON
    #[arg(long)]
    json: bool,
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
    #[serde(flatten)]
    interface: Interface,
}

pub fn run(command: &PolicyCommand) -> Result<ExitCode> {
    match command {
        PolicyCommand::Inspect(args) => inspect(args),
    }
}

fn inspect(args: &InspectArgs) -> Result<ExitCode> {
    let (bytes, source) = match &args.file {
        Some(path) => (
            std::fs::read(path).with_context(|| format!("failed to read policy file `{}`", path.display()))?,
            path.display().to_string(),
        ),
        None => (DEFAULT_POLICY.to_vec(), DEFAULT_POLICY_SOURCE.to_owned()),
    };
    let runtime = Runtime::new()?;
    let interface = Interface::of_bytes(runtime.engine(), &bytes)
        .with_context(|| format!("`{source}` is not a WebAssembly component"))?;
    let loaded = PolicyModule::from_bytes(&runtime, &bytes, &source, Limits::default());
    let report = match &loaded {
        Ok(module) => Report {
            source,
            usable: true,
            problem: None,
            name: Some(module.info().name.clone()),
            version: Some(module.info().version.clone()),
            description: Some(module.info().description.clone()),
            sha256: module.sha256().to_owned(),
            size: module.size(),
            catalog_actions: Some(module.catalog().len()),
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
            interface,
        },
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        print_text(&mut out, &report)?;
    }
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
