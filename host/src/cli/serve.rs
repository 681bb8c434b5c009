//! `tokenscope serve`: runs the HTTP server (the check endpoint for proxies and
//! the health endpoints) over the configured store and policy.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;

use super::context::StoreArgs;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The address to listen on (overrides `server.listen`), e.g. `127.0.0.1:0`
    #[arg(long, value_name = "ADDR")]
    listen: Option<std::net::SocketAddr>,
}

pub fn run(store_args: &StoreArgs, args: &ServeArgs) -> Result<ExitCode> {
    let mut authority = store_args.serving_authority()?;
    if let Some(listen) = args.listen {
        authority.config_mut().server.listen = listen;
    }
    let runtime = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    runtime.block_on(crate::server::serve(Arc::new(authority)))?;
    Ok(ExitCode::SUCCESS)
}
