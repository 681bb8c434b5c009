//! `tokenscope store copy --from --to`: moves a whole store (principals,
//! bindings, tokens by hash, usage, warning times, sign-in links) between a
//! SQLite file and a PostgreSQL database, in one transaction on the target.

use crate::audit::AuditEvent;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use crate::store::StoreLocation;

#[derive(Subcommand, Debug)]
pub(crate) enum StoreCommand {
    /// Copy one store into another (a SQLite file or a postgres:// URL each)
    Copy(CopyArgs),
}

#[derive(Args, Debug)]
pub(crate) struct CopyArgs {
    /// The store to read
    #[arg(long, value_name = "FILE|URL")]
    from: String,
    /// The store to write (created when it is a missing file)
    #[arg(long, value_name = "FILE|URL")]
    to: String,
    /// Drop what the target holds instead of refusing a non-empty target
    #[arg(long)]
    replace: bool,
}

pub(crate) fn run(command: &StoreCommand) -> Result<ExitCode> {
    let StoreCommand::Copy(args) = command;
    let (from, to) = (StoreLocation::parse(&args.from)?, StoreLocation::parse(&args.to)?);
    if from == to {
        anyhow::bail!("--from and --to name the same store");
    }
    let source = crate::store::open_existing(&from).with_context(|| format!("cannot open `{from}`"))?;
    let snapshot = source.export().with_context(|| format!("cannot read `{from}`"))?;
    let target = crate::store::open(&to).with_context(|| format!("cannot open `{to}`"))?;
    let event = AuditEvent::by_operator("store.copy", "store")
        .with_change(None, Some(serde_json::json!({"from": from.to_string(), "replace": args.replace})));
    target.import(&snapshot, args.replace, &event).with_context(|| format!("cannot write `{to}`"))?;
    let (principals, tokens, links) = snapshot.counts();
    println!("copied {principals} principals, {tokens} tokens and {links} sign-in links from `{from}` to `{to}`");
    Ok(ExitCode::SUCCESS)
}
