//! Printing tokens and lifecycle errors the same way in every command: a line
//! per token for people, JSON for scripts, and never a secret except the one
//! just issued.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;

use crate::authority::{Issued, LifecycleError};
use crate::store::TokenRecord;
use crate::time::UnixTime;

pub(crate) fn when(t: Option<UnixTime>) -> String {
    t.map_or_else(|| "never".to_owned(), |t| t.to_string())
}

pub(crate) fn token_line(t: &TokenRecord) -> String {
    let state = match (&t.leak, t.revoked_at) {
        (Some(leak), _) => format!(" [revoked: leaked at {}]", leak.url),
        (None, Some(_)) => " [revoked]".to_owned(),
        (None, None) => String::new(),
    };
    format!(
        "{:>5}  {:<24} owner={:<12} {}  expires={}  uses={} last-used={}{state}\n       grants: {}",
        t.id,
        t.name,
        t.owner_name,
        t.hint,
        when(t.expires_at),
        t.use_count,
        when(t.last_used_at),
        t.grants.items().join("; ")
    )
}

pub(crate) fn print_json(value: &impl Serialize) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Prints a report: pretty JSON with `json`, else the text `text` writes.
pub(crate) fn print_report<T: Serialize>(
    report: &T,
    json: bool,
    text: impl FnOnce(&mut std::io::StdoutLock<'static>, &T) -> Result<()>,
) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, report)?;
        writeln!(out)?;
    } else {
        text(&mut out, report)?;
    }
    out.flush()?;
    Ok(())
}

#[derive(Serialize)]
struct IssuedJson<'a> {
    #[serde(flatten)]
    token: &'a TokenRecord,
    secret: &'a str,
}

/// Prints a newly issued token with its secret, the only time it is shown.
pub(crate) fn print_issued(issued: &Issued, json: bool) -> Result<()> {
    if json {
        return print_json(&IssuedJson { token: &issued.record, secret: issued.secret.expose() });
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", token_line(&issued.record))?;
    writeln!(out, "secret (shown once; store it now, it cannot be recovered):")?;
    writeln!(out, "{}", issued.secret.expose())?;
    out.flush()?;
    Ok(())
}

/// Exit code and message for a lifecycle error: refusals are denies (1), the rest errors (2).
pub(crate) fn lifecycle_exit(err: &LifecycleError) -> ExitCode {
    eprintln!("tokenscope: {err}");
    match err {
        LifecycleError::Refused { .. } => ExitCode::from(1),
        _ => ExitCode::from(super::EXIT_ERROR),
    }
}
