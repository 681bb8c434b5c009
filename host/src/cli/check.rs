//! `tokenscope check`: decides one request with the loaded policy, locally, and
//! prints the decision and its reason (text or `--json`). Exit 0 allow, 1 deny.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;

use super::PolicyArg;
use crate::case::{CheckInput, RequestSpec, TokenSpec};
use crate::contract::Token;
use crate::grant_text::print_nth;
use crate::runtime::PolicyInstance;
use crate::verdict::{Code, Verdict};

#[derive(Args, Debug)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    policy: PolicyArg,
    /// A TOML or JSON file with `[token]` and `[request]` (instead of the flags below)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["scopes", "grants", "owner_rights", "expires_at", "revoked", "action", "resource"])]
    file: Option<PathBuf>,
    /// A scope of the token, e.g. `artifact:download` or `certificate:approve;ssh` (repeatable)
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// A resource grant of the token, e.g. `channel/main=write` or `vault/acme=create-scan` (repeatable)
    #[arg(long = "grant", value_name = "RESOURCE=ACCESS")]
    grants: Vec<String>,
    /// A right the token's owner holds now, e.g. `/=manage` (repeatable)
    #[arg(long = "owner-right", value_name = "RESOURCE=ACCESS")]
    owner_rights: Vec<String>,
    /// When the token expires (RFC 3339, a date, or @UNIX)
    #[arg(long, value_name = "TIME")]
    expires_at: Option<String>,
    /// The token was revoked
    #[arg(long)]
    revoked: bool,
    /// The action requested, e.g. `artifact:download`
    #[arg(long, required_unless_present = "file")]
    action: Option<String>,
    /// The resource acted on, e.g. `channel/main` (default: the root)
    #[arg(long, value_name = "RESOURCE")]
    resource: Option<String>,
    /// The time of the request (default: now)
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Print the decision as JSON
    #[arg(long)]
    json: bool,
}

impl CheckArgs {
    fn input(&self) -> Result<CheckInput> {
        let mut input = match &self.file {
            Some(path) => CheckInput::from_file(path)?,
            None => CheckInput {
                token: TokenSpec {
                    scopes: self.scopes.clone(),
                    grants: self.grants.clone(),
                    owner_rights: self.owner_rights.clone(),
                    expires_at: self.expires_at.clone(),
                    revoked: self.revoked,
                },
                request: RequestSpec {
                    action: self.action.clone().unwrap_or_default(),
                    resource: self.resource.clone().unwrap_or_else(|| "/".to_owned()),
                    now: None,
                },
            },
        };
        if self.now.is_some() {
            input.request.now.clone_from(&self.now);
        }
        Ok(input)
    }
}

#[derive(Serialize)]
struct Report<'a> {
    decision: &'static str,
    action: &'a str,
    resource: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    grant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<Code>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<PolicyReport<'a>>,
}

#[derive(Serialize)]
struct PolicyReport<'a> {
    name: &'a str,
    version: &'a str,
    sha256: &'a str,
    #[serde(skip)]
    label: String,
}

pub(crate) fn run(args: &CheckArgs) -> Result<ExitCode> {
    let (token, request) = args.input()?.to_contract()?;
    // A module that cannot be loaded cannot allow anything: the answer is a deny.
    let (verdict, grant, module) = match args.policy.load() {
        Ok(module) => {
            let mut instance = module.instantiate();
            let verdict = instance.decide(&token, &request);
            let grant = match verdict {
                Verdict::Allow { grant } => Some(matched_grant(&mut instance, &token, grant)),
                Verdict::Deny { .. } => None,
            };
            (verdict, grant, Some(module))
        }
        Err(err) => (Verdict::Deny { code: Code::PolicyFault, message: format!("{err:#}").into() }, None, None),
    };
    let (code, message) = match &verdict {
        Verdict::Allow { .. } => (None, None),
        Verdict::Deny { code, message } => (Some(*code), Some(&**message)),
    };
    let report = Report {
        decision: if verdict.is_allow() { "allow" } else { "deny" },
        action: &request.action,
        resource: &request.resource,
        grant,
        code,
        message,
        policy: module.as_deref().map(|m| PolicyReport {
            name: &m.info().name,
            version: &m.info().version,
            sha256: m.sha256(),
            label: m.label(),
        }),
    };
    print_report(&report, args.json)?;
    Ok(if verdict.is_allow() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The text of the grant that allowed the request, from the normalised grants.
fn matched_grant(instance: &mut PolicyInstance, token: &Token, index: u32) -> String {
    let normalized =
        instance.compile(&token.grants).ok().and_then(Result::ok).and_then(|c| instance.normalized(&c).ok());
    normalized.and_then(|g| print_nth(&g, index)).unwrap_or_else(|| format!("#{index}"))
}

fn print_report(report: &Report<'_>, json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, report)?;
        writeln!(out)?;
    } else {
        match (&report.code, report.message) {
            (Some(code), Some(message)) => writeln!(out, "deny ({}): {message}", code.as_str())?,
            _ => writeln!(out, "allow: `{}` on `{}`", report.action, report.resource)?,
        }
        if let Some(grant) = &report.grant {
            writeln!(out, "  grant:  {grant}")?;
        }
        if let Some(policy) = &report.policy {
            writeln!(out, "  policy: {}", policy.label)?;
        }
    }
    out.flush().context("failed to write the decision")
}
