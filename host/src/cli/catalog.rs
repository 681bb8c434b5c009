//! `tokenscope catalog`: the loaded policy's actions, as a table or `--json`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::PolicyArg;
use crate::contract::level_name;

#[derive(Args, Debug)]
pub(crate) struct CatalogArgs {
    #[command(flatten)]
    policy: PolicyArg,
    /// Print the catalog as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Entry<'a> {
    action: &'a str,
    level: &'static str,
    targets: &'a [String],
    on_parent: bool,
    description: &'a str,
}

pub(crate) fn run(args: &CatalogArgs) -> Result<ExitCode> {
    let module = args.policy.load()?;
    let entries: Vec<Entry<'_>> = module
        .catalog()
        .iter()
        .map(|e| Entry {
            action: &e.action,
            level: level_name(e.level),
            targets: &e.targets,
            on_parent: e.on_parent,
            description: &e.description,
        })
        .collect();
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &entries)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let on = |e: &Entry<'_>| {
        let targets = e.targets.join("|");
        if e.on_parent { format!("parent of {targets}") } else { targets }
    };
    let width = entries.iter().map(|e| e.action.len()).max().unwrap_or(6).max(6);
    let on_width = entries.iter().map(|e| on(e).len()).max().unwrap_or(2).max(2);
    writeln!(out, "{:width$}  {:6}  {:on_width$}  DESCRIPTION", "ACTION", "LEVEL", "ON")?;
    for e in &entries {
        writeln!(out, "{:width$}  {:6}  {:on_width$}  {}", e.action, e.level, on(e), e.description)?;
    }
    writeln!(out, "\n{} actions from {}", entries.len(), module.label())?;
    Ok(ExitCode::SUCCESS)
}
