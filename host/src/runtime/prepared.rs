//! What every instance of a module is made from: the engine, the
//! pre-instantiated component and the module's limits, and the data each
//! instance's store carries (only its limits, since a policy imports nothing).

use wasmtime::StoreLimits;

use super::engine::Runtime;
use super::limits::Limits;
use crate::contract::PolicyPre;

/// The data a policy store carries: only its limits, since a policy imports nothing.
pub(crate) struct HostState {
    pub(super) limits: StoreLimits,
}

/// What every instance of a module is made from.
pub(crate) struct Prepared {
    pub(crate) runtime: Runtime,
    pub(crate) pre: PolicyPre<HostState>,
    pub(crate) limits: Limits,
}
