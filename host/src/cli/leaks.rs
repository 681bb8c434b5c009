//! `tokenscope leaks rules` (a ready rule for secretlint, detect-secrets,
//! gitleaks or a bare regex) and `tokenscope leaks scan PATH...` (files, folders,
//! `--git` history; `--to URL` asks a server whether each find is live, by hash).
//! Scan exits 0 when nothing is found, 1 when something is, 2 on an error.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::EXIT_ERROR;
use super::verify::read_secret;
use crate::leaks::{Finding, RuleFormat, Scanned, scan_history, scan_paths};
use crate::secret::SecretHash;
use crate::time::UnixTime;

#[derive(Subcommand, Debug)]
pub(crate) enum LeaksCommand {
    /// Print a rule that makes a secret scanner find tokenscope secrets
    Rules(RulesArgs),
    /// Find tokenscope secrets in files, folders or a git repository's history (exit 0 none, 1 found, 2 error)
    Scan(ScanArgs),
}

#[derive(Args, Debug)]
pub(crate) struct RulesArgs {
    /// secretlint (a rule package), detect-secrets (a plugin file), gitleaks (a config) or regex
    #[arg(long, value_name = "FORMAT")]
    format: RuleFormat,
    /// Write the rule's files into this folder instead of printing them
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub(crate) struct ScanArgs {
    /// Files and folders to scan (with --git: repositories)
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Scan every line each commit added, on every ref, instead of the files as they are
    #[arg(long)]
    git: bool,
    /// Ask this server whether each secret found is live (its SHA-256 through
    /// `POST /v1/introspect`; the caller's token, from TOKENSCOPE_TOKEN or stdin, needs
    /// `system.tokens:introspect`)
    #[arg(long, value_name = "URL")]
    to: Option<String>,
    /// Print the findings as one JSON document
    #[arg(long)]
    json: bool,
    /// Scan binary files too (by default a file with a NUL byte in its first 8 KiB is skipped)
    #[arg(long, conflicts_with = "git")]
    binary: bool,
}

pub(crate) fn run(command: &LeaksCommand) -> Result<ExitCode> {
    match command {
        LeaksCommand::Rules(args) => rules(args),
        LeaksCommand::Scan(args) => scan(args),
    }
}

fn rules(args: &RulesArgs) -> Result<ExitCode> {
    let files = args.format.files();
    match &args.out {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            for (name, text) in &files {
                let path = dir.join(name);
                std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
                println!("{}", path.display());
            }
        }
        None => {
            let mut out = std::io::stdout().lock();
            let many = files.len() > 1;
            for (name, text) in &files {
                if many {
                    writeln!(out, "// ---- {name}")?;
                }
                out.write_all(text.as_bytes())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What a server said of a secret found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Liveness {
    Live,
    Revoked,
    Expired,
    Unknown,
}

impl Liveness {
    fn name(self) -> &'static str {
        match self {
            Liveness::Live => "live",
            Liveness::Revoked => "revoked",
            Liveness::Expired => "expired",
            Liveness::Unknown => "unknown",
        }
    }
}

fn scan(args: &ScanArgs) -> Result<ExitCode> {
    let mut scanned = Scanned::default();
    if args.git {
        for repo in &args.paths {
            let one = scan_history(repo)?;
            scanned.findings.extend(one.findings);
            scanned.files += one.files;
            scanned.bytes += one.bytes;
            scanned.binary += one.binary;
        }
    } else {
        scanned = scan_paths(&args.paths, args.binary)?;
    }
    let liveness = match &args.to {
        Some(url) => Some(ask_liveness(url, &scanned.findings)?),
        None => None,
    };
    let live_of = |f: &Finding| liveness.as_ref().and_then(|l| l.get(&f.hash.0)).copied();
    let mut out = std::io::stdout().lock();
    if args.json {
        let findings: Vec<Value> = scanned
            .findings
            .iter()
            .map(|f| {
                let mut one = serde_json::Map::new();
                one.insert("path".into(), json!(f.path));
                one.insert("line".into(), json!(f.line));
                if let Some(commit) = &f.commit {
                    one.insert("commit".into(), json!(commit));
                }
                one.insert("hint".into(), json!(f.hint));
                one.insert("sha256".into(), json!(f.hash.to_hex()));
                if let Some(live) = live_of(f) {
                    one.insert("status".into(), json!(live.name()));
                }
                Value::Object(one)
            })
            .collect();
        let doc = json!({
            "findings": findings,
            "files": scanned.files,
            "bytes": scanned.bytes,
            "binary_skipped": scanned.binary,
            "unreadable": scanned.unreadable,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        for f in &scanned.findings {
            let place = match &f.commit {
                Some(commit) => format!("{}:{}:{}", commit.get(..12).unwrap_or(commit), f.path, f.line),
                None => format!("{}:{}", f.path, f.line),
            };
            match live_of(f) {
                Some(live) => writeln!(out, "{place}: {} ({})", f.hint, live.name())?,
                None => writeln!(out, "{place}: {}", f.hint)?,
            }
        }
        for why in &scanned.unreadable {
            eprintln!("tokenscope: skipped: {why}");
        }
        eprintln!(
            "tokenscope: {} secret(s) in {} {} ({} bytes; {} binary skipped)",
            scanned.findings.len(),
            scanned.files,
            if args.git { "file changes" } else { "files" },
            scanned.bytes,
            scanned.binary
        );
    }
    if !scanned.unreadable.is_empty() && scanned.findings.is_empty() {
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    Ok(if scanned.findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Asks `base`'s introspection about every distinct hash found.
fn ask_liveness(base: &str, findings: &[Finding]) -> Result<HashMap<[u8; 32], Liveness>> {
    let secret = read_secret()?.context("no token for --to: set TOKENSCOPE_TOKEN or pipe it on stdin")?;
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let url = format!("{}/v1/introspect", base.trim_end_matches('/'));
    let auth = format!("Bearer {secret}");
    let now = UnixTime::now().secs();
    let mut answers = HashMap::new();
    for hash in findings.iter().map(|f| f.hash) {
        if answers.contains_key(&hash.0) {
            continue;
        }
        let live = introspect(&agent, &url, &auth, hash, now)?;
        answers.insert(hash.0, live);
    }
    Ok(answers)
}

fn introspect(agent: &ureq::Agent, url: &str, auth: &str, hash: SecretHash, now: u64) -> Result<Liveness> {
    let mut response = agent
        .post(url)
        .header("Authorization", auth)
        .send_json(json!({"sha256": hash.to_hex()}))
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let body: Value = response.body_mut().read_json().with_context(|| format!("{url} answered {status}, not JSON"))?;
    if !status.is_success() {
        let reason = body.get("message").or_else(|| body.get("error")).and_then(Value::as_str).unwrap_or("");
        bail!("{url} answered {status}: {reason}");
    }
    Ok(match body.get("found").and_then(Value::as_bool) {
        Some(true) if body.get("revoked").and_then(Value::as_bool) == Some(true) => Liveness::Revoked,
        Some(true) if body.get("expires_at").and_then(Value::as_u64).is_some_and(|at| at <= now) => Liveness::Expired,
        Some(true) => Liveness::Live,
        _ => Liveness::Unknown,
    })
}
