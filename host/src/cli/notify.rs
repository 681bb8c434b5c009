//! `tokenscope notify-expiry`: runs the expiry notifier (acs's warning lines) in
//! the foreground until interrupted, or one pass with `--once`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;

use super::context::StoreArgs;
use crate::notify::ExpiryNotifier;
use crate::time::SystemClock;

#[derive(Args, Debug)]
pub(crate) struct NotifyArgs {
    /// Run one pass and exit
    #[arg(long)]
    once: bool,
}

pub(crate) fn run(store_args: &StoreArgs, args: &NotifyArgs) -> Result<ExitCode> {
    let (config, store) = store_args.existing_store()?;
    let notifier = ExpiryNotifier::new(store, config.expiry_notifier.clone(), Arc::new(SystemClock));
    if args.once {
        for line in notifier.run_once()? {
            println!("{line}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let runtime = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    runtime.block_on(async {
        let task = notifier.spawn();
        tokio::signal::ctrl_c().await.context("failed to wait for Ctrl-C")?;
        task.abort();
        Ok(ExitCode::SUCCESS)
    })
}
