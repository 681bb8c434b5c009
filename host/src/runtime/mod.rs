//! The wasmtime embedding: one engine, policy modules compiled once, instances
//! reused, every call bounded, and faults turned into denies.

mod bindings;
mod embedded;
mod engine;
mod input_limits;
mod inspect;
mod instance;
mod limits;
mod module;

pub use bindings::{
    Access, CatalogEntry, Decision, Denial, DenyCode, EVALUATOR, Grants, Level, ModuleInfo, Request, ResourceGrant,
    ResourceKind, Token, TokenStatus, WORLD,
};
pub use embedded::{DEFAULT_POLICY, DEFAULT_POLICY_SOURCE};
pub use engine::Runtime;
pub use input_limits::MAX_LIST_ENTRIES;
pub use inspect::{Export, Interface};
pub use instance::{CompiledGrants, PolicyFault, PolicyInstance};
pub use limits::Limits;
pub use module::{PolicyModule, sha256_hex};
