//! tokenscope: an access-token authorization engine whose rules live in a
//! WebAssembly policy component. This crate is the host: it runs the policy; the
//! `tokenscope` binary (`src/main.rs`, `src/cli/`) is its command line.
//!
//! Where things are, bottom up (dependencies point one way;
//! `tests/tests/all/layering.rs` fails on a cycle):
//! - [`contract`]: the WIT contract's types, wire names and versions.
//! - [`verdict`], [`grant_text`], [`time`], [`secret`]: decisions, grant text, `UnixTime`, secrets.
//! - [`runtime`]: the wasmtime engine, policy modules, instances and evaluators.
//! - [`store`]: the `Store` trait, `StoreError`, the SQLite backend and the
//!   PostgreSQL one (`store::postgres`, for fleets).
//! - [`vectors`], [`case`], [`gate`], [`swap`], [`observe`]: test vectors, the gate
//!   a module passes, hot swapping, shadow and recording.
//! - [`authority`]: every operation: the check flow, verify, token lifecycle, principals.
//! - [`oidc`]: trading a CI job's identity token for a short-lived token.
//! - [`fleet`]: a host in a fleet on PostgreSQL: the desired module, publish, heartbeats.
//! - [`server`]: HTTP, rendering the authority's answers; [`config`] and [`notify`] beside it.
//! - [`gateway_build`]: `tokenscope gateway build`, composing the wasm gateway (`host/wasm-gateway`) with a policy.

#![warn(missing_docs)]

pub mod authority;
pub mod case;
pub mod config;
pub mod contract;
pub mod fleet;
pub mod gate;
pub mod gateway_build;
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
