//! The wit-bindgen glue: converts the generated types to the plain ones of
//! `model.rs` and delegates. No decision logic lives here. With the `export`
//! feature (default) this crate exports `Policy` itself; a policy that changes one
//! rule can depend on it without that feature and wrap `Policy` instead.

// The canonical-ABI exports that `wit_bindgen` generates are `unsafe` glue; this
// file holds nothing else, so the workspace's `unsafe_code = "deny"` is lifted here only.
#![allow(unsafe_code)]

use crate::catalog::CATALOG;
use crate::grant_set::GrantSet as Compiled;
use crate::resource::KINDS;
use crate::slots::Slots;
use crate::{info, model};

/// The generated bindings, public so that a wrapping policy can implement `Guest`
/// and export with `tokenscope_policy::export_policy!`. Generated from
/// `wit/policy.wit`: its items are documented there, not here.
#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "policy",
        pub_export_macro: true,
        export_macro_name: "export_policy",
        default_bindings_module: "tokenscope_policy::component::bindings",
    });
}

use bindings::exports::tokenscope::policy::evaluator as t;
use bindings::exports::tokenscope::policy::evaluator::Guest;

std::thread_local! {
    /// The grant sets this instance compiled, by the id it handed out.
    static SETS: std::cell::RefCell<Slots<Compiled>> = const { std::cell::RefCell::new(Slots::new()) };
}

/// Runs `f` on the query the hot path's arguments make; an id that is not a
/// live compiled set traps (a host bug, and the host replaces an instance that trapped).
fn with_query<R>(
    token: u32,
    owner: u32,
    status: t::TokenStatus,
    action: u32,
    resource: &str,
    now: u64,
    f: impl FnOnce(&crate::Query<'_>) -> R,
) -> R {
    let status = model::TokenStatus { expires_at: status.expires_at, revoked: status.revoked };
    let action = crate::catalog::ActionId::from_wire(action);
    SETS.with_borrow(|sets| match (sets.get(token), sets.get(owner)) {
        (Some(token), Some(owner)) => f(&crate::Query { token, owner, status, action, resource, now }),
        _ => std::process::abort(),
    })
}

/// The default policy's implementation of the contract.
pub struct Policy;

/// Inside `impl Guest for YourPolicy` of a policy that wraps this one: `catalog`,
/// `resource-kinds` and `check-grants` exactly as the default policy has them.
#[macro_export]
macro_rules! default_catalog_and_issuance {
    () => {
        fn catalog() -> Vec<$crate::component::bindings::exports::tokenscope::policy::evaluator::CatalogEntry> {
            <$crate::component::Policy as $crate::component::bindings::exports::tokenscope::policy::evaluator::Guest>::catalog()
        }

        fn resource_kinds() -> Vec<$crate::component::bindings::exports::tokenscope::policy::evaluator::ResourceKind> {
            <$crate::component::Policy as $crate::component::bindings::exports::tokenscope::policy::evaluator::Guest>::resource_kinds()
        }

        fn check_grants(
            creator: Vec<$crate::component::bindings::exports::tokenscope::policy::evaluator::ResourceGrant>,
            requested: $crate::component::bindings::exports::tokenscope::policy::evaluator::Grants,
            caller: Option<$crate::component::bindings::exports::tokenscope::policy::evaluator::Grants>,
        ) -> Result<
            $crate::component::bindings::exports::tokenscope::policy::evaluator::Grants,
            $crate::component::bindings::exports::tokenscope::policy::evaluator::Denial,
        > {
            <$crate::component::Policy as $crate::component::bindings::exports::tokenscope::policy::evaluator::Guest>::check_grants(creator, requested, caller)
        }
    };
}

impl Guest for Policy {
    fn info() -> t::ModuleInfo {
        t::ModuleInfo { name: info::NAME.into(), version: info::VERSION.into(), description: info::DESCRIPTION.into() }
    }

    fn catalog() -> Vec<t::CatalogEntry> {
        CATALOG
            .iter()
            .map(|def| t::CatalogEntry {
                action: def.name.into(),
                level: level_out(def.level),
                targets: def.targets.iter().map(|k| k.name().into()).collect(),
                on_parent: def.on_parent,
                description: def.description.into(),
            })
            .collect()
    }

    fn resource_kinds() -> Vec<t::ResourceKind> {
        KINDS
            .iter()
            .map(|def| t::ResourceKind {
                name: def.name.into(),
                parents: def.parents.iter().map(|k| k.name().into()).collect(),
                bindable: def.bindable,
                admin_at: def.admin_at.map(|k| k.name().into()),
            })
            .collect()
    }

    fn check_grants(
        creator: Vec<t::ResourceGrant>,
        requested: t::Grants,
        caller: Option<t::Grants>,
    ) -> Result<t::Grants, t::Denial> {
        let creator: Vec<model::ResourceGrant> = creator.into_iter().map(grant_in).collect();
        let caller = caller.map(grants_in);
        crate::check_grants(&creator, &grants_in(requested), caller.as_ref()).map(grants_out).map_err(denial_out)
    }

    fn decide(token: t::Token, req: t::Request) -> t::Decision {
        let token = model::Token {
            grants: grants_in(token.grants),
            owner_rights: token.owner_rights.into_iter().map(grant_in).collect(),
            expires_at: token.expires_at,
            revoked: token.revoked,
        };
        let req = model::Request { action: req.action, resource: req.resource, now: req.now };
        decision_out(crate::decide_token(&token, &req))
    }

    fn compile(grants: t::Grants) -> Result<u32, t::Denial> {
        let compiled = Compiled::compile(&grants_in(grants)).map_err(denial_out)?;
        SETS.with_borrow_mut(|sets| sets.insert(compiled)).ok_or_else(|| t::Denial {
            code: t::DenyCode::TooLarge,
            message: format!("the instance holds {} compiled grant sets already", crate::slots::MAX_SLOTS),
        })
    }

    fn normalized(set: u32) -> t::Grants {
        SETS.with_borrow(|sets| match sets.get(set) {
            Some(compiled) => grants_out(compiled.normalized()),
            None => std::process::abort(),
        })
    }

    fn release(set: u32) {
        SETS.with_borrow_mut(|sets| sets.remove(set));
    }

    fn decide_compiled(
        token: u32,
        owner: u32,
        status: t::TokenStatus,
        action: u32,
        resource: String,
        now: u64,
    ) -> t::Ruling {
        match with_query(token, owner, status, action, &resource, now, crate::decide) {
            model::Ruling::Allow(grant) => t::Ruling::Allow(grant),
            model::Ruling::Deny(code) => t::Ruling::Deny(code_out(code)),
        }
    }

    fn explain(token: u32, owner: u32, status: t::TokenStatus, action: u32, resource: String, now: u64) -> t::Decision {
        decision_out(with_query(token, owner, status, action, &resource, now, crate::explain))
    }
}

fn level_in(level: t::Level) -> model::Level {
    match level {
        t::Level::Read => model::Level::Read,
        t::Level::Write => model::Level::Write,
        t::Level::Manage => model::Level::Manage,
    }
}

fn level_out(level: model::Level) -> t::Level {
    match level {
        model::Level::Read => t::Level::Read,
        model::Level::Write => t::Level::Write,
        model::Level::Manage => t::Level::Manage,
    }
}

fn grant_in(grant: t::ResourceGrant) -> model::ResourceGrant {
    let access = match grant.access {
        t::Access::Level(level) => model::Access::Level(level_in(level)),
        t::Access::Actions(actions) => model::Access::Actions(actions),
    };
    model::ResourceGrant { resource: grant.resource, access }
}

fn grant_out(grant: model::ResourceGrant) -> t::ResourceGrant {
    let access = match grant.access {
        model::Access::Level(level) => t::Access::Level(level_out(level)),
        model::Access::Actions(actions) => t::Access::Actions(actions),
    };
    t::ResourceGrant { resource: grant.resource, access }
}

fn grants_in(grants: t::Grants) -> model::Grants {
    match grants {
        t::Grants::Resources(list) => model::Grants::Resources(list.into_iter().map(grant_in).collect()),
        t::Grants::Scopes(list) => model::Grants::Scopes(list),
    }
}

fn grants_out(grants: model::Grants) -> t::Grants {
    match grants {
        model::Grants::Resources(list) => t::Grants::Resources(list.into_iter().map(grant_out).collect()),
        model::Grants::Scopes(list) => t::Grants::Scopes(list),
    }
}

fn code_out(code: model::DenyCode) -> t::DenyCode {
    use model::DenyCode as M;
    match code {
        M::MalformedRequest => t::DenyCode::MalformedRequest,
        M::UnknownAction => t::DenyCode::UnknownAction,
        M::WrongTarget => t::DenyCode::WrongTarget,
        M::NoGrant => t::DenyCode::NoGrant,
        M::OwnerLacksRight => t::DenyCode::OwnerLacksRight,
        M::Expired => t::DenyCode::Expired,
        M::Revoked => t::DenyCode::Revoked,
        M::MalformedScope => t::DenyCode::MalformedScope,
        M::UnknownScope => t::DenyCode::UnknownScope,
        M::InvalidGrant => t::DenyCode::InvalidGrant,
        M::Escalation => t::DenyCode::Escalation,
        M::AdminRequired => t::DenyCode::AdminRequired,
        M::TooLarge => t::DenyCode::TooLarge,
    }
}

fn denial_out(denial: model::Denial) -> t::Denial {
    t::Denial { code: code_out(denial.code), message: denial.message }
}

fn decision_out(decision: model::Decision) -> t::Decision {
    match decision {
        model::Decision::Allow { grant } => t::Decision::Allow(t::Allowance { grant }),
        model::Decision::Deny(denial) => t::Decision::Deny(denial_out(denial)),
    }
}

#[cfg(feature = "export")]
bindings::export_policy!(Policy with_types_in bindings);
