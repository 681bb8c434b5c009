//! `tokenscope exchange --issuer-token FILE`: trades an identity token for a
//! short-lived secret at a running server (`--to URL`); and `tokenscope oidc
//! test --token FILE`: says here, with this config's issuers and rules, whether
//! the identity token is valid and which rule would match and why (or why none).
//! Exit 0 when minted / matched, 1 when refused, 2 when it could not be asked.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::Value;

use super::context::StoreArgs;
use crate::oidc::{Exchanger, OidcError};
use crate::time::UnixTime;

#[derive(Args, Debug)]
pub(crate) struct ExchangeArgs {
    /// A file holding the identity token (`-` for stdin)
    #[arg(long, value_name = "FILE")]
    issuer_token: PathBuf,
    /// The server (default: `http://` + the config's `server.listen`)
    #[arg(long, value_name = "URL")]
    to: Option<String>,
    /// Print the server's whole answer as JSON (it holds the secret)
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand, Debug)]
pub(crate) enum OidcCommand {
    /// Validate an identity token with this config and say which rule would match, and why
    Test(TestArgs),
}

#[derive(Args, Debug)]
pub(crate) struct TestArgs {
    /// A file holding the identity token (`-` for stdin)
    #[arg(long, value_name = "FILE")]
    token: PathBuf,
}

fn read_token(path: &PathBuf) -> Result<String> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("failed to read the identity token from stdin")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("failed to read `{}`", path.display()))?
    };
    Ok(text.trim().to_owned())
}

pub(crate) fn exchange(store: &StoreArgs, args: &ExchangeArgs) -> Result<ExitCode> {
    let base = match &args.to {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("http://{}", store.config()?.server.listen),
    };
    let token = read_token(&args.issuer_token)?;
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
        ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
        ("subject_token", token.as_str()),
    ];
    let mut response = agent
        .post(&format!("{base}/api/auth/exchange"))
        .send_form(form)
        .with_context(|| format!("failed to reach `{base}`"))?;
    let status = response.status().as_u16();
    let body: Value =
        response.body_mut().read_json().with_context(|| format!("`{base}` answered {status} without a JSON body"))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&body)?);
    } else if status == 200 {
        let text = |pointer: &str| body.pointer(pointer).map(|v| v.to_string()).unwrap_or_default();
        println!("secret (expires in {} s, at {}):", text("/expires_in"), text("/expires_at"));
        println!("{}", body.pointer("/access_token").and_then(Value::as_str).unwrap_or(""));
    } else {
        let text = |pointer: &str| body.pointer(pointer).and_then(Value::as_str).unwrap_or("").to_owned();
        eprintln!("refused ({status} {}): {}", text("/code"), text("/message"));
    }
    Ok(if status == 200 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

pub(crate) fn run(store: &StoreArgs, command: &OidcCommand) -> Result<ExitCode> {
    let OidcCommand::Test(args) = command;
    let config = store.config()?;
    let exchanger = Exchanger::new(&config.oidc);
    if !exchanger.configured() {
        anyhow::bail!("no OIDC issuer is configured ([[oidc.issuers]])");
    }
    let token = read_token(&args.token)?;
    match exchanger.matching(&token, UnixTime::now()) {
        Ok(matched) => {
            let rule = &matched.rule.config;
            println!(
                "valid identity token: issuer `{}`, subject `{}`",
                matched.identity.issuer, matched.identity.subject
            );
            println!("matches rule {}: every claim it names holds:", matched.rule.label());
            for (claim, pattern) in &rule.claims {
                let value = matched.identity.claims.get(claim).and_then(Value::as_str).unwrap_or("");
                println!("  {claim} = `{value}` (rule: `{pattern}`)");
            }
            let grants = rule.scopes.as_ref().or(rule.resources.as_ref()).map(|g| g.join(", ")).unwrap_or_default();
            println!("would mint a token of `{}` with {grants}, expiring at {}", rule.principal, matched.expires_at);
            println!(
                "(the policy's issuance check against `{}`'s rights runs when the token is minted)",
                rule.principal
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(err @ OidcError::NoRule(_)) => {
            println!("valid identity token, but {err}");
            Ok(ExitCode::from(1))
        }
        Err(err) => {
            println!("refused ({}): {err}", err.code());
            Ok(ExitCode::from(1))
        }
    }
}
