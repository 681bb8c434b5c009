//! `tokenscope fleet status|rollback` and `tokenscope policy publish`: the
//! fleet's shared state, read and changed straight in its PostgreSQL store
//! (no running host needed); the hosts follow within a heartbeat.

use crate::audit::AuditEvent;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use super::context::StoreArgs;
use crate::fleet::Status;
use crate::store::{Fleet, Published, RolledBack, Store};

#[derive(Subcommand, Debug)]
pub(crate) enum FleetCommand {
    /// Every live host: id, address, version, heartbeat age, active module and whether it is the desired one
    Status(StatusArgs),
    /// Make the module published before the desired one desired again, on every host
    Rollback,
}

#[derive(Args, Debug)]
pub(crate) struct StatusArgs {
    /// Print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub(crate) struct PublishArgs {
    /// The module to publish (it must pass this config's gate first)
    file: PathBuf,
}

pub(crate) fn run(store: &StoreArgs, command: &FleetCommand) -> Result<ExitCode> {
    let (config, store) = store.existing_store()?;
    let fleet = shared(store.as_ref())?;
    match command {
        FleetCommand::Status(args) => {
            let status = Status::read(fleet, config.fleet.live_within)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                print_status(&status);
            }
        }
        FleetCommand::Rollback => match fleet.roll_back(
            "cli",
            crate::time::UnixTime::now(),
            &AuditEvent::by_operator("policy.fleet-rollback", "policy"),
        )? {
            RolledBack::NothingPublished => bail!("nothing was published to the fleet"),
            RolledBack::RolledBack { from, to } => match to {
                Some(to) => println!("rolled back from sha256:{} to sha256:{}", from.sha256, to.sha256),
                None => {
                    println!("rolled back from sha256:{}: every host returns to its configured module", from.sha256)
                }
            },
        },
    }
    Ok(ExitCode::SUCCESS)
}

fn shared(store: &dyn Store) -> Result<&dyn Fleet> {
    store
        .fleet()
        .context("the store is not shared by a fleet: fleets share a PostgreSQL store (--store postgres://...)")
}

fn print_status(status: &Status) {
    match &status.desired {
        Some(d) => println!("desired: sha256:{} (published by {} at {})", d.sha256, d.published_by, d.published_at),
        None => println!("desired: none (each host runs its configured module)"),
    }
    println!(
        "{:<40} {:<22} {:<8} {:>8} {:<14} {:<26} {:<8} {:>7}  refused",
        "host", "listen", "version", "age ms", "active", "signer", "matches", "lag ms"
    );
    for h in &status.hosts {
        let b = &h.host.beat;
        println!(
            "{:<40} {:<22} {:<8} {:>8} {:<14} {:<26} {:<8} {:>7}  {}",
            b.id,
            b.listen,
            b.version,
            h.host.heartbeat_age_ms,
            b.active_sha256.get(..12).unwrap_or(&b.active_sha256),
            if b.active_signer.is_empty() { "-" } else { &b.active_signer },
            if h.matches_desired { "yes" } else { "NO" },
            b.invalidation_lag_ms.map_or_else(|| "-".to_owned(), |l| l.to_string()),
            b.refused.as_deref().unwrap_or(if b.listening { "" } else { "(not listening for changes)" }),
        );
    }
}

/// `tokenscope policy publish FILE`: gate here, then publish to the fleet's store.
pub(crate) fn publish(store: &StoreArgs, args: &PublishArgs) -> Result<ExitCode> {
    let (config, store) = store.existing_store()?;
    let fleet = shared(store.as_ref())?;
    let bytes = std::fs::read(&args.file).with_context(|| format!("failed to read `{}`", args.file.display()))?;
    let runtime = super::context::runtime(&config.policy)?;
    let module = super::context::gated_bytes(&runtime, &bytes, &args.file.display().to_string(), &config)?;
    let event = AuditEvent::by_operator("policy.publish", "policy").with_change(
        None,
        Some(serde_json::json!({"sha256": module.sha256(), "source": args.file.display().to_string()})),
    );
    match fleet.publish_module(&bytes, module.sha256(), "cli", crate::time::UnixTime::now(), &event)? {
        Published::Published(d) => {
            println!("published sha256:{} ({}): the fleet's hosts follow", d.sha256, module.label())
        }
        Published::Unchanged(d) => println!("sha256:{} is the fleet's desired module already", d.sha256),
    }
    Ok(ExitCode::SUCCESS)
}
