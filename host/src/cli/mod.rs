//! The `tokenscope` command line: the argument tree and dispatch. Each subcommand
//! lives in its own file; every error prints as `tokenscope: ...` and exits 2.

mod catalog;
mod check;
mod check_input;
mod policy;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use crate::runtime::{Limits, PolicyModule, Runtime};

/// Exit code for a usage error or a failure that prevented an answer.
pub const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(name = "tokenscope", version, about = "Access-token authorization with WebAssembly policies")]
struct Cli {
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
}

/// Which policy module to use.
#[derive(Args, Debug)]
pub struct PolicyArg {
    /// A policy component to load instead of the embedded default
    #[arg(long, value_name = "FILE", env = "TOKENSCOPE_POLICY", global = true)]
    policy: Option<PathBuf>,
}

impl PolicyArg {
    pub fn load(&self) -> Result<Arc<PolicyModule>> {
        let runtime = Runtime::new()?;
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
    let result = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Catalog(args) => catalog::run(&args),
        Command::Policy(command) => policy::run(&command),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
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
