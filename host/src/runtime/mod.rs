//! The wasmtime embedding: one engine, policy modules compiled once, instances
//! reused, every call bounded, and faults turned into denies.

mod cache;
mod embedded;
mod engine;
mod evaluator;
mod input_limits;
mod inspect;
mod instance;
mod keyed;
mod limits;
mod module;
mod prepared;
mod rulings;
mod sections;

pub use cache::{Compiled, ModuleCache};
pub use embedded::{DEFAULT_POLICY, DEFAULT_POLICY_SOURCE};
pub use engine::Runtime;
pub use evaluator::{Evaluator, Question};
pub use input_limits::MAX_LIST_ENTRIES;
pub use inspect::{Export, Interface};
pub use instance::{CompiledGrants, HotCall, PolicyFault, PolicyInstance};
pub use keyed::{Keyed, KeyedGrants, KeyedRights};
pub use limits::Limits;
pub use module::{PolicyModule, sha256_hex};
pub use sections::{VECTORS_SECTION, embedded_vectors};
