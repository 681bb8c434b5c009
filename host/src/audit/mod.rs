//! The audit trail: one event per state change (and per refused attempt at
//! one), written by the store in the change's own transaction and chained by
//! SHA-256, so an edited, removed or reordered event is found by `verify`.

mod chain;
mod event;
mod query;
mod refusals;
mod verify;

pub use chain::{ChainHash, GENESIS, around_seq, link, parse_anchor, seal};
pub use event::{AuditActor, AuditEvent, AuditQuery, AuditRecord, AuditRow, Client, PRUNE_ACTION};
pub use query::{AuditFilter, DEFAULT_LIMIT, MAX_LIMIT};
pub use refusals::{Refusal, RefusalBudget};
pub use verify::{Broken, Verified, Walk};
