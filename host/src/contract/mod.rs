//! The `tokenscope:policy` contract as the host speaks it, in one place: the
//! types `bindgen!` reads from `wit/policy.wit`, their wire names, the limits the
//! host holds a module's answers to, and which contract versions it can run.
//! Everything that talks to a policy (runtime, verdicts, grant text, the store's
//! grants) depends on this module and on nothing of each other's.

mod bindings;
mod version;
mod wire;

pub use bindings::{
    Access, Allowance, CatalogEntry, Decision, Denial, DenyCode, EVALUATOR, Grants, Level, ModuleInfo, Request,
    ResourceGrant, ResourceKind, Ruling, Token, TokenStatus, WORLD,
};
pub(crate) use bindings::{Evaluator, Policy, PolicyPre};
pub use version::{check_exports, compatible, host_version};
pub use wire::{
    ActionId, MAX_REASON, deny_code_name, level_name, oversized_reason, parse_level, policy_code, wit_level,
};
