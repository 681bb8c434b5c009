//! `tokenscope policy diff OLD NEW --requests FILE`: decides every recorded
//! request (the JSON lines `serve` writes with `record.file`, or any vectors
//! file) with both modules, prints each request whose decision changes with both
//! reasons, and a summary. Exit 0 when nothing changes, 1 when something does.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::context::{module_arg, runtime};
use crate::config::PolicyConfig;
use crate::runtime::Evaluator;
use crate::store::TokenId;
use crate::swap::ModuleSummary;
use crate::vectors::{Decided, Vectors, decide_case};
use crate::verdict::Verdict;

#[derive(Args, Debug)]
pub(crate) struct DiffArgs {
    /// The module in force now (`@default`: the embedded default policy)
    old: PathBuf,
    /// The candidate (`@default` too)
    new: PathBuf,
    /// Recorded requests (JSON lines) or a vectors file
    #[arg(long, value_name = "FILE")]
    requests: PathBuf,
    /// Print the changes and the summary as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Change {
    request: String,
    old: String,
    new: String,
}

#[derive(Serialize, Default)]
struct Summary {
    requests: usize,
    unchanged: usize,
    changed: usize,
    /// e.g. `allow -> owner-lacks-right`: how many.
    by_transition: BTreeMap<String, usize>,
    /// Recorded requests that do not parse.
    unreadable: usize,
}

#[derive(Serialize)]
struct Report {
    old: ModuleSummary,
    new: ModuleSummary,
    changes: Vec<Change>,
    summary: Summary,
}

pub(crate) fn run(args: &DiffArgs) -> Result<ExitCode> {
    let config = PolicyConfig::default();
    let runtime = runtime(&config)?;
    let old = module_arg(&runtime, &args.old, &config)?;
    let new = module_arg(&runtime, &args.new, &config)?;
    let requests = Vectors::from_file(&args.requests)?;
    let now = requests.default_now(crate::time::UnixTime::now().secs());
    let (mut old_eval, mut new_eval) = (Evaluator::new(&old), Evaluator::new(&new));
    let mut changes = Vec::new();
    let mut summary = Summary { requests: requests.cases.len(), ..Summary::default() };
    for (i, case) in requests.cases.iter().enumerate() {
        let Ok((token, request)) = case.token.to_token().and_then(|t| Ok((t, case.request.to_request(now)?))) else {
            summary.unreadable += 1;
            continue;
        };
        let key = TokenId::new(i64::try_from(i).unwrap_or(i64::MAX));
        let a = decide_case(&old, &mut old_eval, key, &token, &request);
        let b = decide_case(&new, &mut new_eval, key, &token, &request);
        if a.verdict.code_str() == b.verdict.code_str() {
            summary.unchanged += 1;
            continue;
        }
        summary.changed += 1;
        let transition = format!("{} -> {}", a.verdict.code_str(), b.verdict.code_str());
        *summary.by_transition.entry(transition).or_default() += 1;
        changes.push(Change {
            request: match &case.name {
                Some(name) => format!("{name}: `{}` on `{}`", request.action, request.resource),
                None => format!("`{}` on `{}`", request.action, request.resource),
            },
            old: shown(&a),
            new: shown(&b),
        });
    }
    let changed = summary.changed;
    let report = Report { old: ModuleSummary::of(&old), new: ModuleSummary::of(&new), changes, summary };
    super::output::print_report(&report, args.json, print_text)?;
    Ok(if changed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn shown(decided: &Decided) -> String {
    match (&decided.verdict, &decided.grant) {
        (Verdict::Allow { .. }, Some(grant)) => format!("allow by `{grant}`"),
        (Verdict::Allow { grant }, None) => format!("allow by grant #{grant}"),
        (Verdict::Deny { code, message }, _) => format!("{}: {message}", code.as_str()),
    }
}

fn print_text(out: &mut impl Write, r: &Report) -> Result<()> {
    writeln!(out, "old: {} {} (sha256:{})", r.old.name, r.old.version, r.old.sha256)?;
    writeln!(out, "new: {} {} (sha256:{})", r.new.name, r.new.version, r.new.sha256)?;
    for change in &r.changes {
        writeln!(out, "CHANGED  {}", change.request)?;
        writeln!(out, "  old: {}", change.old)?;
        writeln!(out, "  new: {}", change.new)?;
    }
    let s = &r.summary;
    writeln!(out, "{} requests: {} changed, {} unchanged, {} unreadable", s.requests, s.changed, s.unchanged, {
        s.unreadable
    })?;
    for (transition, n) in &s.by_transition {
        writeln!(out, "  {transition}: {n}")?;
    }
    Ok(())
}
