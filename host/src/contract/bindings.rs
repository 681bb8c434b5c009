//! The host side of `wit/policy.wit`: `bindgen!` output kept private, and the
//! few names the rest of the host uses re-exported under short names. The types
//! compare and hash by value, so grant lists can key caches without being printed.

// The generated code carries the WIT file's own documentation, not rustdoc for every item.
#[allow(missing_docs)]
mod generated {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "policy",
        additional_derives: [PartialEq, Eq, Hash],
    });
}

pub use generated::exports::tokenscope::policy::evaluator::Guest as Evaluator;
pub use generated::exports::tokenscope::policy::evaluator::{
    Access, Allowance, CatalogEntry, Decision, Denial, DenyCode, Grants, Level, ModuleInfo, Request, ResourceGrant,
    ResourceKind, Ruling, Token, TokenStatus,
};
pub use generated::{Policy, PolicyPre};

/// The WIT name of the world every policy module must export.
pub const WORLD: &str = "tokenscope:policy/policy@0.3.0";
/// The WIT name of the exported interface.
pub const EVALUATOR: &str = "tokenscope:policy/evaluator@0.3.0";
