//! `tokenscope policy load FILE`, `policy rollback` and `policy status`: the
//! policy endpoints of a running `tokenscope serve` (`--to URL`, default the
//! configured listen address). The caller's token comes from `TOKENSCOPE_TOKEN`
//! or stdin and needs `system.policy:edit` (`:view` for status). Exit 0 when the
//! module is active, 1 when the server refused it, 2 when it could not be asked.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::Value;

use super::context::StoreArgs;
use super::verify::read_secret;

#[derive(Args, Debug)]
pub(crate) struct RemoteArgs {
    /// The server (default: `http://` + the config's `server.listen`)
    #[arg(long, value_name = "URL")]
    to: Option<String>,
    /// Print the server's answer as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub(crate) struct LoadArgs {
    /// The module to load (`@default`: the embedded default policy)
    file: PathBuf,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// What to ask the server.
pub(crate) enum Call<'a> {
    Load(&'a LoadArgs),
    Rollback(&'a RemoteArgs),
    Status(&'a RemoteArgs),
}

pub(crate) fn run(store: &StoreArgs, call: &Call<'_>) -> Result<ExitCode> {
    let remote = match call {
        Call::Load(args) => &args.remote,
        Call::Rollback(remote) | Call::Status(remote) => remote,
    };
    let base = match &remote.to {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("http://{}", store.config()?.server.listen),
    };
    let secret = read_secret()?.context("no token: set TOKENSCOPE_TOKEN or pipe it on stdin")?;
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let auth = format!("Bearer {secret}");
    let url = format!("{base}/api/system/policy");
    let response = match call {
        Call::Load(args) => {
            let bytes = if args.file.as_os_str() == super::context::EMBEDDED {
                crate::runtime::DEFAULT_POLICY.to_vec()
            } else {
                std::fs::read(&args.file)
                    .with_context(|| format!("failed to read policy file `{}`", args.file.display()))?
            };
            agent.post(&url).header("authorization", &auth).content_type("application/wasm").send(&bytes[..])
        }
        Call::Rollback(_) => agent.post(&format!("{url}/rollback")).header("authorization", &auth).send_empty(),
        Call::Status(_) => agent.get(&url).header("authorization", &auth).call(),
    };
    let mut response = response.with_context(|| format!("failed to reach `{base}`"))?;
    let status = response.status().as_u16();
    let body: Value =
        response.body_mut().read_json().with_context(|| format!("`{base}` answered {status} without a JSON body"))?;
    super::output::print_report(&body, remote.json, |out, body| print_text(out, status, body))?;
    match status {
        200 => Ok(ExitCode::SUCCESS),
        409 | 422 => Ok(ExitCode::from(1)),
        _ if remote.json => Ok(ExitCode::from(super::EXIT_ERROR)),
        _ => bail!("the server answered {status}: {}", text(at(&body, "/message"))),
    }
}

/// The value at JSON pointer `path`, or null.
fn at<'a>(value: &'a Value, path: &str) -> &'a Value {
    value.pointer(path).unwrap_or(&Value::Null)
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

fn module(value: &Value) -> String {
    let sha = text(at(value, "/sha256"));
    let signers: Vec<&str> = at(value, "/signers").as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let signed = match text(at(value, "/signature")) {
        "verified" => format!("signed by {}", signers.join(", ")),
        "not-checked" if !signers.is_empty() => format!("signature of {} not checked", signers.join(", ")),
        "" => "signature unknown".to_owned(),
        other => other.to_owned(),
    };
    format!(
        "{} {} (sha256:{}, {signed})",
        text(at(value, "/name")),
        text(at(value, "/version")),
        sha.get(..12).unwrap_or(sha)
    )
}

fn print_text(out: &mut impl Write, status: u16, body: &Value) -> Result<()> {
    if status != 200 && status != 409 && status != 422 {
        return Ok(());
    }
    let outcome = if body.get("outcome").is_some_and(Value::is_object) { at(body, "/outcome") } else { body };
    match text(at(outcome, "/outcome")) {
        "swapped" => writeln!(
            out,
            "swapped: {} -> {} in {:.1} ms ({} machine code)",
            module(at(outcome, "/from")),
            module(at(outcome, "/to")),
            at(outcome, "/elapsed_ms").as_f64().unwrap_or(0.0),
            text(at(outcome, "/to/machine_code"))
        )?,
        "unchanged" => writeln!(out, "unchanged: {} is active already", module(at(outcome, "/active")))?,
        "rolled-back" => {
            writeln!(out, "rolled back: {} -> {}", module(at(outcome, "/from")), module(at(outcome, "/to")))?
        }
        "no-previous" => writeln!(out, "no earlier module; {} stays active", module(at(outcome, "/active")))?,
        "refused" => {
            match body.get("code").and_then(Value::as_str).filter(|c| *c != "gate-refused") {
                Some(code) => writeln!(out, "refused ({code}); {} stays active", module(at(outcome, "/active")))?,
                None => writeln!(out, "refused by the gate; {} stays active", module(at(outcome, "/active")))?,
            }
            for check in at(outcome, "/report/checks").as_array().into_iter().flatten() {
                let mark = if at(check, "/passed").as_bool() == Some(true) { "ok  " } else { "FAIL" };
                writeln!(out, "  {mark} {}: {}", text(at(check, "/name")), text(at(check, "/summary")))?;
                for failure in at(check, "/failures").as_array().into_iter().flatten() {
                    writeln!(out, "         {}", text(failure))?;
                }
            }
        }
        _ => {
            writeln!(out, "active: {}", module(at(body, "/active")))?;
            let trusted: Vec<&str> =
                at(body, "/trust/keys").as_array().into_iter().flatten().filter_map(|k| k["id"].as_str()).collect();
            match at(body, "/trust/required").as_bool() {
                Some(true) => writeln!(out, "trust:  only modules signed by {}", trusted.join(", "))?,
                _ => writeln!(out, "trust:  signatures not required (no [policy.trust])")?,
            }
            for previous in at(body, "/previous").as_array().into_iter().flatten() {
                writeln!(out, "before: {}", module(previous))?;
            }
            let swaps = at(body, "/swaps");
            writeln!(
                out,
                "swaps:  {} swapped, {} refused, {} rolled back",
                at(swaps, "/swapped"),
                at(swaps, "/refused"),
                at(swaps, "/rolled_back")
            )?;
            if at(body, "/shadow").is_object() {
                let shadow = at(body, "/shadow");
                writeln!(
                    out,
                    "shadow: {}: {} agreed, {} disagreed, {} dropped",
                    module(at(shadow, "/module")),
                    at(shadow, "/agreed"),
                    at(shadow, "/disagreed"),
                    at(shadow, "/dropped")
                )?;
            }
        }
    }
    Ok(())
}
