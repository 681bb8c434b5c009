//! `tokenscope audit list|tail|export|verify|anchor|prune`: reading the audit
//! trail from the store (filtered, followed, or whole as JSON lines a SIEM
//! takes), walking its hash chain, printing its head to keep elsewhere, pruning it.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};

use super::context::StoreArgs;
use crate::audit::{AuditEvent, AuditFilter, AuditQuery, AuditRow, MAX_LIMIT, PRUNE_ACTION, parse_anchor};
use crate::authority::{AuditCheckError, verify_trail};
use crate::config::parse_duration;
use crate::store::Store;
use crate::time::UnixTime;

#[derive(Subcommand, Debug)]
pub(crate) enum AuditCommand {
    /// Events, oldest first: the newest `--limit`, or from `--since` on
    List(ListArgs),
    /// The newest events, then (`-f`) each new one as it is written, as JSON lines
    Tail(TailArgs),
    /// Every event (from `--since` on) as JSON lines, oldest first
    Export(ExportArgs),
    /// Walks the hash chain: exit 0 when it is whole, 1 naming the first event
    /// edited, removed or reordered
    Verify(VerifyArgs),
    /// Prints the chain's head as SEQ:HASH, to keep elsewhere for `verify --anchor`
    Anchor,
    /// Removes events older than `audit.retain` (or `--older-than`), leaving an
    /// event that records where they ended
    Prune(PruneArgs),
}

#[derive(Args, Debug)]
pub(crate) struct FilterArgs {
    /// From where: a sequence number (events after it) or a time (RFC 3339, a date, @UNIX)
    #[arg(long)]
    since: Option<String>,
    /// Whose acts: an actor (`token:17`, `operator:root`) or a principal's name
    #[arg(long)]
    actor: Option<String>,
    /// On what: `token/42`, `principal/alice`, `policy`, `store`
    #[arg(long)]
    target: Option<String>,
    /// Which action (`token.create`) or family (`token`)
    #[arg(long)]
    action: Option<String>,
}

impl FilterArgs {
    fn query(&self, limit: usize) -> Result<AuditQuery> {
        let filter = AuditFilter {
            since: self.since.clone(),
            actor: self.actor.clone(),
            target: self.target.clone(),
            action: self.action.clone(),
            limit: Some(limit),
        };
        filter.query().map_err(anyhow::Error::msg)
    }
}

#[derive(Args, Debug)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// How many (1 to 1000)
    #[arg(long, default_value_t = 100)]
    limit: usize,
    /// One JSON object per line instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub(crate) struct TailArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// How many of the newest to print first
    #[arg(short = 'n', long, default_value_t = 10)]
    lines: usize,
    /// Keep printing events as they are written
    #[arg(short = 'f', long)]
    follow: bool,
    /// How often to look for new events while following
    #[arg(long, default_value = "1s")]
    interval: String,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// One JSON object per line
    Jsonl,
}

#[derive(Args, Debug)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// The output format
    #[arg(long, value_enum, default_value = "jsonl")]
    format: Format,
}

#[derive(Args, Debug)]
pub(crate) struct VerifyArgs {
    /// Walk from this event on (trusting the link into it)
    #[arg(long)]
    from: Option<u64>,
    /// An anchor `audit anchor` printed (SEQ:HASH): that event must still be
    /// exactly it, and everything after it follow
    #[arg(long)]
    anchor: Option<String>,
    /// The result as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub(crate) struct PruneArgs {
    /// Remove events older than this (default: the config's `audit.retain`)
    #[arg(long)]
    older_than: Option<String>,
}

pub(crate) fn run(args: &StoreArgs, command: &AuditCommand) -> Result<ExitCode> {
    let (config, store) = args.existing_store()?;
    let store = store.as_ref();
    match command {
        AuditCommand::List(list) => {
            if !(1..=MAX_LIMIT).contains(&list.limit) {
                bail!("--limit is 1 to {MAX_LIMIT}");
            }
            let rows = store.audit_events(&list.filter.query(list.limit)?)?;
            for row in &rows {
                if list.json {
                    println!("{}", json_line(row)?);
                } else {
                    println!("{}", table_line(row)?);
                }
            }
        }
        AuditCommand::Tail(tail) => {
            let interval = parse_duration(&tail.interval)?;
            follow(store, tail, interval)?;
        }
        AuditCommand::Export(export) => {
            let Format::Jsonl = export.format;
            let mut query = export.filter.query(MAX_LIMIT)?;
            if !query.oldest_first() {
                query.after_seq = Some(0);
            }
            let mut out = std::io::stdout().lock();
            loop {
                let rows = store.audit_events(&query)?;
                for row in &rows {
                    writeln!(out, "{}", json_line(row)?)?;
                }
                match rows.last() {
                    Some(last) if rows.len() == MAX_LIMIT => {
                        query.after_seq = Some(last.seq);
                        query.since = None;
                    }
                    _ => break,
                }
            }
        }
        AuditCommand::Verify(verify) => {
            let anchor = verify.anchor.as_deref().map(parse_anchor).transpose().map_err(anyhow::Error::msg)?;
            return match verify_trail(store, verify.from, anchor) {
                Ok(verified) => {
                    if verify.json {
                        println!("{}", serde_json::json!({"verified": true, "chain": verified}));
                    } else {
                        let range = match (verified.first, verified.last) {
                            (Some(first), Some(last)) => format!("events {first} to {last}"),
                            _ => "no events".to_owned(),
                        };
                        println!(
                            "the audit trail verifies: {range} ({} checked), head {}",
                            verified.events, verified.head
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(AuditCheckError::Broken(broken)) => {
                    if verify.json {
                        println!(
                            "{}",
                            serde_json::json!({"verified": false, "broken": broken, "message": broken.to_string()})
                        );
                    } else {
                        eprintln!("tokenscope: the audit trail does not verify: {broken}");
                    }
                    Ok(ExitCode::from(1))
                }
                Err(err) => Err(err.into()),
            };
        }
        AuditCommand::Anchor => {
            let (seq, hash) = store.audit_head()?;
            println!("{seq}:{}", hex::encode(hash));
        }
        AuditCommand::Prune(prune) => {
            let retain = match &prune.older_than {
                Some(text) => parse_duration(text)?,
                None => config.audit.retain,
            };
            let now = UnixTime::now();
            let before = UnixTime::from_secs(now.secs().saturating_sub(retain.as_secs()));
            let event = AuditEvent::by_operator(PRUNE_ACTION, "audit");
            let removed = store.prune_audit(before, &event).context("cannot prune the audit trail")?;
            println!("removed {removed} events older than {before}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the newest `tail.lines` events, then new ones every `interval` when following.
fn follow(store: &dyn Store, tail: &TailArgs, interval: Duration) -> Result<()> {
    let lines = tail.lines.clamp(1, MAX_LIMIT);
    let mut query = tail.filter.query(lines)?;
    let mut out = std::io::stdout().lock();
    loop {
        let rows = store.audit_events(&query)?;
        for row in &rows {
            writeln!(out, "{}", json_line(row)?)?;
        }
        out.flush()?;
        if !tail.follow {
            return Ok(());
        }
        if let Some(last) = rows.last() {
            query.after_seq = Some(last.seq);
            query.since = None;
        } else if !query.oldest_first() {
            // Nothing yet: from the head on.
            query.after_seq = Some(store.audit_head()?.0);
        }
        query.limit = MAX_LIMIT;
        if rows.len() < MAX_LIMIT {
            std::thread::sleep(interval);
        }
    }
}

/// One event as a JSON line: the record, its chain fields included.
fn json_line(row: &AuditRow) -> Result<String> {
    let record = row.record().with_context(|| format!("event {} is unreadable", row.seq))?;
    Ok(serde_json::to_string(&record)?)
}

fn table_line(row: &AuditRow) -> Result<String> {
    let record = row.record().with_context(|| format!("event {} is unreadable", row.seq))?;
    let refused = record.event.refused.as_deref().map(|code| format!("  refused: {code}")).unwrap_or_default();
    Ok(format!(
        "{:>6}  {}  {:<24}  {:<22}  {}{refused}",
        record.seq,
        record.event.at,
        record.event.actor.label(),
        record.event.action,
        record.event.target
    ))
}
