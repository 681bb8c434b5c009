//! `tokenscope verify`: decides a request for a stored token. The secret comes
//! from `TOKENSCOPE_TOKEN` or the first line of stdin, never from a flag (flags
//! land in shell history). Exit 0 allow, 1 deny.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;

use super::context::StoreArgs;

#[derive(Args, Debug)]
pub(crate) struct VerifyArgs {
    /// The action requested, e.g. `artifact:download`
    #[arg(long)]
    action: String,
    /// The resource acted on (default: the root)
    #[arg(long, default_value = "/")]
    resource: String,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    decision: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    token: Option<crate::store::TokenId>,
    owner: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    grant: Option<&'a str>,
}

pub(super) fn read_secret() -> Result<Option<String>> {
    if let Ok(secret) = std::env::var("TOKENSCOPE_TOKEN") {
        return Ok(Some(secret));
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("failed to read the token from stdin")?;
    Ok(Some(line.trim().to_owned()).filter(|s| !s.is_empty()))
}

pub(crate) fn run(store: &StoreArgs, args: &VerifyArgs) -> Result<ExitCode> {
    let authority = store.authority()?;
    let secret = read_secret()?;
    let verified = authority.verify(secret.as_deref(), &args.action, &args.resource);
    authority.flush_usage()?;
    let (code, message) = match &verified.verdict {
        crate::verdict::Verdict::Allow { .. } => (None, None),
        crate::verdict::Verdict::Deny { code, message } => (Some(code.as_str()), Some(&**message)),
    };
    let report = Report {
        decision: if verified.verdict.is_allow() { "allow" } else { "deny" },
        code,
        message,
        token: verified.token,
        owner: verified.owner.as_deref(),
        grant: verified.grant.as_deref(),
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
    } else {
        match (code, message) {
            (Some(code), Some(message)) => writeln!(out, "deny ({code}): {message}")?,
            _ => writeln!(out, "allow: `{}` on `{}`", args.action, args.resource)?,
        }
        if let (Some(id), Some(owner)) = (verified.token, &verified.owner) {
            writeln!(out, "  token:  {id} (owner {owner})")?;
        }
        if let Some(grant) = &verified.grant {
            writeln!(out, "  grant:  {grant}")?;
        }
    }
    out.flush()?;
    Ok(if verified.verdict.is_allow() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
