//! `tokenscope serve`: runs the HTTP server (the check endpoint for proxies, the
//! management and policy API, health and metrics) over the configured store and
//! policy; flags override the config's listen address, shadow module and
//! decision recording.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;

use super::context::StoreArgs;

#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// The address to listen on (overrides `server.listen`), e.g. `127.0.0.1:0`
    #[arg(long, value_name = "ADDR")]
    listen: Option<std::net::SocketAddr>,
    /// Decide live traffic with this candidate module too, never affecting an answer (overrides `policy.shadow`)
    #[arg(long, value_name = "FILE")]
    shadow: Option<PathBuf>,
    /// Record a sample of decisions (no secrets) to this JSON-lines file (overrides `record.file`)
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
}

pub(crate) fn run(store_args: &StoreArgs, args: &ServeArgs) -> Result<ExitCode> {
    let mut config = store_args.config()?;
    if let Some(listen) = args.listen {
        config.server.listen = listen;
    }
    if let Some(shadow) = &args.shadow {
        config.policy.shadow = Some(shadow.clone());
    }
    if let Some(record) = &args.record {
        config.record.file = Some(record.clone());
    }
    let _logs = super::logging::init_server(config.log.format);
    let authority = store_args.serving_authority(config)?;
    let runtime = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    runtime.block_on(crate::server::serve(Arc::new(authority)))?;
    Ok(ExitCode::SUCCESS)
}
