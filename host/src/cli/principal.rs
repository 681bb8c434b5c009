//! `tokenscope principal ...` and `tokenscope role list`: token owners, the
//! grants and roles bound to them, and the roles the config defines.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::context::StoreArgs;
use super::output::print_json;
use crate::authority::{Actor, bindings_from_texts};
use crate::config::parse_duration;
use crate::store::Binding;

#[derive(Subcommand, Debug)]
pub(crate) enum PrincipalCommand {
    /// Add a principal, optionally with bindings
    Add {
        name: String,
        #[command(flatten)]
        bindings: BindingArgs,
    },
    /// Bind grants or roles to a principal
    Bind {
        name: String,
        #[command(flatten)]
        bindings: BindingArgs,
    },
    /// Remove bindings from a principal (its tokens lose those rights at once)
    Unbind {
        name: String,
        #[command(flatten)]
        bindings: BindingArgs,
    },
    /// List principals and their bindings
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a principal and all of its tokens
    Remove { name: String },
    /// Make a one-time link that signs a person in to the token page (stored hashed; used once)
    SignInLink {
        name: String,
        /// How long the link works (at most 7 days)
        #[arg(long, default_value = "15m")]
        ttl: String,
        /// Where people reach the server (default: `server.public_url`, else `http://` + `server.listen`)
        #[arg(long, value_name = "URL")]
        url: Option<String>,
    },
}

#[derive(Args, Debug)]
pub(crate) struct BindingArgs {
    /// An explicit right, e.g. `channel/main=manage` (repeatable)
    #[arg(long = "grant", value_name = "RESOURCE=ACCESS")]
    grants: Vec<String>,
    /// A role from the config at a node, e.g. `continuous-integration@channel/ci` (repeatable)
    #[arg(long = "role", value_name = "ROLE[@RESOURCE]")]
    roles: Vec<String>,
}

impl BindingArgs {
    fn bindings(&self, roles: &std::collections::BTreeMap<String, crate::config::RoleConfig>) -> Result<Vec<Binding>> {
        Ok(bindings_from_texts(&self.grants, &self.roles, roles)?)
    }
}

pub(crate) fn run(store_args: &StoreArgs, command: &PrincipalCommand) -> Result<ExitCode> {
    let authority = store_args.authority()?;
    let roles = &authority.config().roles;
    match command {
        PrincipalCommand::Add { name, bindings } => {
            let principal = authority.add_principal(Actor::Operator, name, &bindings.bindings(roles)?)?;
            println!("added principal `{name}` (id {})", principal.id);
        }
        PrincipalCommand::Bind { name, bindings } => {
            authority.bind(Actor::Operator, name, &bindings.bindings(roles)?)?;
        }
        PrincipalCommand::Unbind { name, bindings } => {
            authority.unbind(Actor::Operator, name, &bindings.bindings(roles)?)?;
        }
        PrincipalCommand::List { json } => {
            let principals = authority.principals()?;
            if *json {
                print_json(&principals)?;
            } else {
                for p in &principals {
                    let bindings: Vec<String> = p.bindings.iter().map(Binding::to_text).collect();
                    println!("{:<16} {}", p.name, bindings.join(", "));
                }
            }
        }
        PrincipalCommand::Remove { name } => {
            authority.remove_principal(Actor::Operator, name)?;
            println!("removed principal `{name}` and its tokens");
        }
        PrincipalCommand::SignInLink { name, ttl, url } => {
            let (secret, expires_at) = authority.sign_in_link(Actor::Operator, name, parse_duration(ttl)?)?;
            let server = authority.config().server.clone();
            let base = url.clone().or(server.public_url).unwrap_or_else(|| format!("http://{}", server.listen));
            // The code travels in the fragment, which browsers never send to a server or its logs.
            println!("{}/ui/sign-in/link#{}", base.trim_end_matches('/'), secret.expose());
            eprintln!("signs `{name}` in once, until {expires_at}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand, Debug)]
pub(crate) enum RoleCommand {
    /// List the roles the config defines
    List {
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run_role(store_args: &StoreArgs, command: &RoleCommand) -> Result<ExitCode> {
    let config = store_args.config()?;
    let RoleCommand::List { json } = command;
    if *json {
        print_json(&config.roles.iter().map(|(n, r)| (n, &r.access, &r.description)).collect::<Vec<_>>())?;
    } else {
        for (name, role) in &config.roles {
            println!("{name:<28} {:<48} {}", role.access, role.description);
        }
    }
    Ok(ExitCode::SUCCESS)
}
