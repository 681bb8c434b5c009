//! `tokenscope token ...`: create, list, show, edit, reissue, revoke, delete and
//! list expiring tokens. A secret is printed only by `create` and `reissue`.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};

use super::context::StoreArgs;
use super::output::{lifecycle_exit, print_issued, print_json, token_line};
use crate::authority::{Actor, Authority, Expiry, IssueRequest, TokenChange};
use crate::config::parse_duration;
use crate::grant_text::grants_from_texts;
use crate::store::TokenId;
use crate::time::UnixTime;

#[derive(Subcommand, Debug)]
pub(crate) enum TokenCommand {
    /// Create a token (its secret is printed once)
    Create(CreateArgs),
    /// List tokens (no secrets)
    List {
        /// Only this principal's tokens
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show one token (no secret)
    Show {
        id: TokenId,
        #[arg(long)]
        json: bool,
    },
    /// Rename a token, change its description or expiry
    Edit(EditArgs),
    /// Give a token a new secret; the old one stops working at once
    Reissue {
        id: TokenId,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token: it stays listed, and every use is denied
    Revoke { id: TokenId },
    /// Delete a token
    Delete { id: TokenId },
    /// List live tokens that expire soon
    Expiring {
        /// How far ahead to look (Go-style duration)
        #[arg(long, default_value = "168h")]
        within: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub(crate) struct ExpiryArgs {
    /// Expire at this time (RFC 3339, a date, or @UNIX)
    #[arg(long, value_name = "TIME", conflicts_with_all = ["ttl", "no_expiry"])]
    expires: Option<String>,
    /// Expire this long from now, e.g. `30d`
    #[arg(long, value_name = "DURATION", conflicts_with = "no_expiry")]
    ttl: Option<String>,
    /// Never expire (only where the config allows it)
    #[arg(long)]
    no_expiry: bool,
}

impl ExpiryArgs {
    fn expiry(&self) -> Result<Option<Expiry>> {
        Ok(match (&self.expires, &self.ttl, self.no_expiry) {
            (Some(at), _, _) => Some(Expiry::At(UnixTime::parse(at)?)),
            (_, Some(ttl), _) => Some(Expiry::Ttl(parse_duration(ttl)?)),
            (_, _, true) => Some(Expiry::Never),
            _ => None,
        })
    }
}

#[derive(Args, Debug)]
pub(crate) struct CreateArgs {
    /// The principal who owns (and creates) the token
    #[arg(long)]
    owner: String,
    #[arg(long)]
    name: String,
    #[arg(long, default_value = "")]
    description: String,
    #[command(flatten)]
    expiry: ExpiryArgs,
    /// A scope, e.g. `artifact:download` (repeatable; not with --resource)
    #[arg(long = "scope", value_name = "SCOPE", conflicts_with = "resources")]
    scopes: Vec<String>,
    /// A resource grant, e.g. `channel/main=write` (repeatable)
    #[arg(long = "resource", value_name = "RESOURCE=ACCESS")]
    resources: Vec<String>,
    /// Create this many tokens, named `NAME-1`, `NAME-2`, ...; each secret is
    /// printed as soon as its token is stored
    #[arg(long, default_value_t = 1)]
    count: u32,
    /// Print JSON (one object per token, with its secret)
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
pub(crate) struct EditArgs {
    id: TokenId,
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    description: Option<String>,
    #[command(flatten)]
    expiry: ExpiryArgs,
}

pub(crate) fn run(store: &StoreArgs, command: &TokenCommand) -> Result<ExitCode> {
    let authority = store.authority()?;
    let code = run_with(&authority, command)?;
    authority.flush_usage()?;
    Ok(code)
}

fn run_with(authority: &Authority, command: &TokenCommand) -> Result<ExitCode> {
    match command {
        TokenCommand::Create(args) => create(authority, args),
        TokenCommand::List { owner, json } => {
            let owner = owner.as_deref().map(|name| authority.principal(name)).transpose()?;
            let tokens = authority.tokens(owner.as_ref())?;
            if *json {
                print_json(&tokens)?;
            } else {
                for t in &tokens {
                    println!("{}", token_line(t));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Show { id, json } => match authority.token(*id) {
            Ok(t) if *json => print_json(&t).map(|()| ExitCode::SUCCESS),
            Ok(t) => {
                println!("{}", token_line(&t));
                if !t.description.is_empty() {
                    println!("       description: {}", t.description);
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(err) => Ok(lifecycle_exit(&err)),
        },
        TokenCommand::Edit(args) => {
            let expiry = args.expiry.expiry()?;
            if args.name.is_none() && args.description.is_none() && expiry.is_none() {
                bail!("nothing to change: give --name, --description, --expires, --ttl or --no-expiry");
            }
            match authority
                .change_token(
                    Actor::Operator,
                    args.id,
                    None,
                    TokenChange {
                        name: args.name.clone(),
                        description: args.description.clone(),
                        expiry,
                        reissue: false,
                    },
                )
                .map(|(record, _)| record)
            {
                Ok(t) => {
                    println!("{}", token_line(&t));
                    Ok(ExitCode::SUCCESS)
                }
                Err(err) => Ok(lifecycle_exit(&err)),
            }
        }
        TokenCommand::Reissue { id, json } => match authority.reissue_token(Actor::Operator, *id) {
            Ok(issued) => print_issued(&issued, *json).map(|()| ExitCode::SUCCESS),
            Err(err) => Ok(lifecycle_exit(&err)),
        },
        TokenCommand::Revoke { id } => match authority.revoke_token(Actor::Operator, *id, None) {
            Ok(t) => {
                println!("{}", token_line(&t));
                Ok(ExitCode::SUCCESS)
            }
            Err(err) => Ok(lifecycle_exit(&err)),
        },
        TokenCommand::Delete { id } => match authority.delete_token(Actor::Operator, *id, None) {
            Ok(()) => {
                println!("deleted token {id}");
                Ok(ExitCode::SUCCESS)
            }
            Err(err) => Ok(lifecycle_exit(&err)),
        },
        TokenCommand::Expiring { within, json } => {
            let tokens = authority.expiring_tokens(parse_duration(within)?)?;
            if *json {
                print_json(&tokens)?;
            } else {
                let now = authority.now();
                for t in &tokens {
                    if let Some(line) = crate::notify::warning_line(t, now) {
                        println!("{line}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn create(authority: &Authority, args: &CreateArgs) -> Result<ExitCode> {
    let grants = grants_from_texts(&args.scopes, &args.resources)?;
    let expiry = args.expiry.expiry()?.unwrap_or(Expiry::Default);
    for n in 1..=args.count {
        let name = if args.count == 1 { args.name.clone() } else { format!("{}-{n}", args.name) };
        let request = IssueRequest {
            owner: args.owner.clone(),
            name,
            description: args.description.clone(),
            expiry,
            grants: grants.clone(),
            exchange: None,
        };
        match authority.create_token(Actor::Operator, &request) {
            Ok(issued) => print_issued(&issued, args.json)?,
            Err(err) => return Ok(lifecycle_exit(&err)),
        }
    }
    Ok(ExitCode::SUCCESS)
}
