//! A host's part in a fleet sharing one PostgreSQL store: it follows the
//! fleet's desired policy module (fetched by digest, run through its own gate,
//! refused modules reported, never run), publishes and rolls back for the whole
//! fleet, and writes a heartbeat every `fleet.heartbeat` and whenever the
//! desired module changes.

mod identity;
mod member;

pub use identity::host_id;
pub use member::{Member, Status};
