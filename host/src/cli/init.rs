//! `tokenscope init`: creates the store, a bootstrap admin principal with manage
//! on the root, and a first token for it, whose secret is printed once.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;

use super::context::StoreArgs;
use super::output::print_issued;
use crate::authority::{Actor, Expiry, IssueRequest};
use crate::contract::{Access, Grants, Level, ResourceGrant};
use crate::store::Binding;

#[derive(Args, Debug)]
pub(crate) struct InitArgs {
    /// The bootstrap admin principal's name
    #[arg(long, default_value = "admin")]
    admin: String,
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(store_args: &StoreArgs, args: &InitArgs) -> Result<ExitCode> {
    let authority = store_args.authority_creating_store()?;
    if !authority.principals()?.is_empty() {
        bail!("the store `{}` is already initialised", authority.config().store.location());
    }
    authority.add_principal(Actor::Operator, &args.admin, &[Binding::Grant("/=manage".into())])?;
    let request = IssueRequest {
        owner: args.admin.clone(),
        name: "bootstrap".into(),
        description: "created by tokenscope init".into(),
        expiry: Expiry::Default,
        grants: Grants::Resources(vec![ResourceGrant { resource: "/".into(), access: Access::Level(Level::Manage) }]),
        exchange: None,
    };
    let issued = authority.create_token(Actor::Operator, &request)?;
    if !args.json {
        println!("initialised store `{}` with admin principal `{}`", authority.config().store.location(), args.admin);
    }
    print_issued(&issued, args.json)?;
    Ok(ExitCode::SUCCESS)
}
