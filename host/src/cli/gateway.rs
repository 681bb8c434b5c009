//! `tokenscope gateway build`: composes the `wasi:http` gateway with a policy
//! (the config's, a file, or `@default`) that has passed the gate, and the
//! `[check]` and `[gateway]` tables, into one component for `wasmtime serve`,
//! Spin or any `wasi:http/proxy` host. The file holds the gateway's token, so it
//! is written readable by its owner only.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use super::context::{EMBEDDED, StoreArgs, runtime};
use crate::config::{Config, origin};
use crate::gateway_build::build;
use crate::runtime::{DEFAULT_POLICY, DEFAULT_POLICY_SOURCE};
use tokenscope_wasm_gateway::{GatewaySettings, Mode, PolicyLabel};

#[derive(Subcommand, Debug)]
pub(crate) enum GatewayCommand {
    /// Compose the wasi:http gateway with a policy into one component
    Build(BuildArgs),
}

#[derive(Args, Debug)]
pub(crate) struct BuildArgs {
    /// The policy component (`@default`: the embedded one; default: the config's `policy.file`)
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// `check` (answer like /v1/check) or `filter` (forward allowed requests); default: `gateway.mode`
    #[arg(long, value_parser = ["check", "filter"])]
    mode: Option<String>,
    /// The tokenscope server to introspect at (overrides `gateway.introspect_url`)
    #[arg(long, value_name = "URL")]
    introspect_url: Option<String>,
    /// Where filter mode forwards (overrides `gateway.upstream`)
    #[arg(long, value_name = "URL")]
    upstream: Option<String>,
    /// Where to write the component
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
}

pub(crate) fn run(store: &StoreArgs, command: &GatewayCommand) -> Result<ExitCode> {
    match command {
        GatewayCommand::Build(args) => build_gateway(&store.config()?, args),
    }
}

fn policy_bytes(config: &Config, arg: Option<&Path>) -> Result<(Vec<u8>, String)> {
    let path = arg.or(config.policy.file.as_deref());
    match path {
        None => Ok((DEFAULT_POLICY.to_vec(), DEFAULT_POLICY_SOURCE.to_owned())),
        Some(path) if path.as_os_str() == EMBEDDED => Ok((DEFAULT_POLICY.to_vec(), DEFAULT_POLICY_SOURCE.to_owned())),
        Some(path) => Ok((
            std::fs::read(path).with_context(|| format!("failed to read policy file `{}`", path.display()))?,
            path.display().to_string(),
        )),
    }
}

fn build_gateway(config: &Config, args: &BuildArgs) -> Result<ExitCode> {
    let (policy, source) = policy_bytes(config, args.policy.as_deref())?;
    let module = super::context::gated_bytes(&runtime(&config.policy)?, &policy, &source, config)?;
    let gateway = &config.gateway;
    let mode = match args.mode.as_deref() {
        Some("filter") => Mode::Filter,
        Some(_) => Mode::Check,
        None => gateway.mode,
    };
    let introspect_url = args
        .introspect_url
        .as_deref()
        .or(gateway.introspect_url.as_deref())
        .context("the gateway needs gateway.introspect_url (or --introspect-url): the tokenscope server it asks")?;
    let upstream = match (mode, args.upstream.as_deref().or(gateway.upstream.as_deref())) {
        (Mode::Filter, None) => bail!("filter mode needs gateway.upstream (or --upstream): where allowed requests go"),
        (_, url) => url.map(|url| origin("gateway.upstream", url)).transpose()?,
    };
    let info = module.info();
    let settings = GatewaySettings {
        mode,
        check: config.check.written().clone(),
        introspect: origin("gateway.introspect_url", introspect_url)?,
        introspect_token: gateway.token(|key| std::env::var(key).ok())?,
        upstream,
        cache: gateway.cache()?,
        timeouts: gateway.timeouts(),
        policy: PolicyLabel {
            name: info.name.clone(),
            version: info.version.clone(),
            sha256: module.sha256().to_owned(),
        },
    };
    let built = build(&policy, &settings)?;
    write_private(&args.output, &built.bytes)?;
    println!(
        "wrote {} ({} bytes, {} mode, policy {} {} {}), composed in {} ms",
        args.output.display(),
        built.bytes.len(),
        mode.as_str(),
        info.name,
        info.version,
        module.sha256(),
        built.took.as_millis()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes `bytes` to `path` with mode 0600 (it holds the gateway's token).
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        file.write_all(bytes)?;
        file.sync_all()
    };
    write().with_context(|| format!("failed to write `{}`", path.display()))
}
