//! The `tokenscope` command line: the argument tree and dispatch. Each subcommand
//! lives in its own file; every error prints as `tokenscope: ...` and exits 2.

mod audit;
mod catalog;
mod check;
mod context;
mod fleet;
mod gateway;
mod init;
mod leaks;
mod logging;
mod notify;
mod oidc;
mod output;
mod policy;
mod policy_author;
mod policy_diff;
mod policy_remote;
mod policy_signing;
mod policy_vectors;
mod principal;
mod serve;
mod store;
mod token;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use crate::runtime::{Limits, PolicyModule};

/// Exit code for a usage error or a failure that prevented an answer.
pub(crate) const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(name = "tokenscope", version, about = "Access-token authorization with WebAssembly policies")]
struct Cli {
    #[command(flatten)]
    store: context::StoreArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decide one request locally: no server, no store (exit 0 allow, 1 deny, 2 error)
    Check(check::CheckArgs),
    /// List the actions the loaded policy knows
    Catalog(catalog::CatalogArgs),
    /// Work with policy modules
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Create the store, an admin principal and its first token
    Init(init::InitArgs),
    /// Manage token owners and their bindings
    #[command(subcommand)]
    Principal(principal::PrincipalCommand),
    /// Show the roles the config defines
    #[command(subcommand)]
    Role(principal::RoleCommand),
    /// Issue and manage tokens
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Serve the check endpoint for proxies and the health endpoints
    Serve(serve::ServeArgs),
    /// Log acs-style warnings for tokens about to expire (until interrupted, or `--once`)
    NotifyExpiry(notify::NotifyArgs),
    /// Decide a request for a stored token (secret from TOKENSCOPE_TOKEN or stdin; exit 0 allow, 1 deny)
    Verify(verify::VerifyArgs),
    /// Build the wasi:http gateway component for proxies that run wasm
    #[command(subcommand)]
    Gateway(gateway::GatewayCommand),
    /// Hosts sharing a PostgreSQL store: their state, and fleet-wide policy rollback
    #[command(subcommand)]
    Fleet(fleet::FleetCommand),
    /// Move a store between backends
    #[command(subcommand)]
    Store(store::StoreCommand),
    /// Trade an OIDC identity token (a CI job's) for a short-lived token at a running server
    Exchange(oidc::ExchangeArgs),
    /// Check identity tokens against this config's issuers and rules
    #[command(subcommand)]
    Oidc(oidc::OidcCommand),
    /// Leaked secrets: rules for secret scanners, and a scan of files or git history
    #[command(subcommand)]
    Leaks(leaks::LeaksCommand),
    /// The audit trail: list, follow, export, verify its hash chain, anchor, prune
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

/// Which policy module to use.
#[derive(Args, Debug)]
pub(crate) struct PolicyArg {
    /// A policy component to load instead of the embedded default
    #[arg(long, value_name = "FILE", env = "TOKENSCOPE_POLICY", global = true)]
    policy: Option<PathBuf>,
}

impl PolicyArg {
    pub(crate) fn load(&self) -> Result<Arc<PolicyModule>> {
        let runtime = context::runtime(&crate::config::PolicyConfig::default())?;
        match &self.policy {
            Some(path) => PolicyModule::from_file(&runtime, path, Limits::default()),
            None => PolicyModule::embedded(&runtime, Limits::default()),
        }
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() { ExitCode::from(EXIT_ERROR) } else { ExitCode::SUCCESS };
        }
    };
    // Long-running commands log their work; one-shot commands only warnings. The
    // server sets its own logging up once its config is read.
    match cli.command {
        Command::Serve(_) => {}
        Command::NotifyExpiry(_) => logging::init(tracing::Level::INFO),
        _ => logging::init(tracing::Level::WARN),
    }
    let result = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Catalog(args) => catalog::run(&args),
        Command::Policy(command) => policy::run(&cli.store, &command),
        Command::Init(args) => init::run(&cli.store, &args),
        Command::Principal(command) => principal::run(&cli.store, &command),
        Command::Role(command) => principal::run_role(&cli.store, &command),
        Command::Token(command) => token::run(&cli.store, &command),
        Command::Serve(args) => serve::run(&cli.store, &args),
        Command::NotifyExpiry(args) => notify::run(&cli.store, &args),
        Command::Verify(args) => verify::run(&cli.store, &args),
        Command::Gateway(command) => gateway::run(&cli.store, &command),
        Command::Fleet(command) => fleet::run(&cli.store, &command),
        Command::Store(command) => store::run(&command),
        Command::Audit(command) => audit::run(&cli.store, &command),
        Command::Exchange(args) => oidc::exchange(&cli.store, &args),
        Command::Oidc(command) => oidc::run(&cli.store, &command),
        Command::Leaks(command) => leaks::run(&command),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) if err.chain().any(|e| e.is::<crate::signing::SignatureRefusal>()) => {
            // A module refused for its signature is an answer (exit 1), like `policy verify`'s.
            eprintln!("tokenscope: {err:#}");
            ExitCode::from(1)
        }
        Err(err) => {
            eprintln!("tokenscope: {err:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Output cut short by a closed pipe (`tokenscope catalog | head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|e| e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}
