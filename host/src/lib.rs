//! tokenscope: an access-token authorization engine whose rules live in a
//! WebAssembly policy component. This crate is the host: it runs the policy; the
//! `tokenscope` binary (`src/main.rs`, `src/cli/`) is its command line.
//!
//! Where things are, bottom up (dependencies point one way; `tests/all/layering.rs`
//! fails on a cycle):
//! - [`contract`]: the WIT contract's types, wire names and versions.
//! - [`verdict`], [`grant_text`], [`time`], [`secret`]: decisions, grant text, `UnixTime`, secrets.
//! - [`runtime`]: the wasmtime engine, policy modules, instances and evaluators.
//! - [`store`]: the `Store` trait, `StoreError` and the SQLite backend.
//! - [`vectors`], [`case`], [`gate`], [`swap`], [`observe`]: test vectors, the gate
//!   a module passes, hot swapping, shadow and recording.
//! - [`authority`]: every operation: the check flow, verify, token lifecycle, principals.
//! - [`server`]: HTTP, rendering the authority's answers; [`config`] and [`notify`] beside it.
//! - [`gateway`]: `tokenscope gateway build`, composing the `wasi:http` gateway with a policy.

#![warn(missing_docs)]

pub mod authority;
pub mod case;
pub mod config;
pub mod contract;
pub mod fleet;
pub mod gate;
pub mod gateway;
pub mod grant_text;
mod ids;
mod locks;
pub mod notify;
pub mod observe;
pub mod oidc;
mod periodic;
pub mod runtime;
pub mod secret;
pub mod server;
pub mod store;
pub mod swap;
pub mod time;
pub mod vectors;
pub mod verdict;
