//! tokenscope: an access-token authorization engine whose rules live in a
//! WebAssembly policy component. This crate is the host: it runs the policy; the
//! `tokenscope` binary (`src/main.rs`) only calls [`cli::main`], the command line.
//!
//! The public modules are what an embedder, the integration tests (`tests/`), the
//! benchmarks (`host/benches/`) and the fuzz targets use; what only the command line
//! uses (the gate's case files, fleet control, gateway builds, notices, shadow
//! recording) is private to the crate.
//!
//! Where things are, bottom up (dependencies point one way;
//! `tests/tests/all/layering.rs` fails on a cycle):
//! - [`contract`]: the WIT contract's types, wire names and versions.
//! - [`verdict`], [`grant_text`], [`time`], [`secret`]: decisions, grant text, `UnixTime`, secrets.
//! - [`signing`]: WebAssembly signatures on policy modules and the keys a host trusts.
//! - [`runtime`]: the wasmtime engine, policy modules, instances and evaluators.
//! - [`audit`]: the audit trail's events, their hash chain and its verification.
//! - [`store`]: the `Store` trait, `StoreError`, the SQLite backend and the
//!   PostgreSQL one (`store::postgres`, for fleets).
//! - [`vectors`], `case`, [`gate`], [`swap`], `observe`: test vectors, the gate
//!   a module passes, hot swapping, shadow and recording.
//! - [`authority`]: every operation: the check flow, verify, token lifecycle, principals.
//! - [`oidc`]: trading a CI job's identity token for a short-lived token.
//! - [`leaks`]: finding leaked secrets (files, git history) and rules for other scanners.
//! - `fleet`: a host in a fleet on PostgreSQL: the desired module, publish, heartbeats.
//! - [`server`]: HTTP, rendering the authority's answers; [`config`] and `notify` beside it.
//! - `gateway_build`: `tokenscope gateway build`, composing the wasm gateway (`host/wasm-gateway`) with a policy.
//! - [`cli`]: the `tokenscope` command line, one file per subcommand, on top of all of it.

#![warn(missing_docs)]

pub mod audit;
pub mod authority;
mod case;
pub mod cli;
pub mod config;
pub mod contract;
mod fleet;
pub mod gate;
mod gateway_build;
pub mod grant_text;
mod ids;
pub mod leaks;
mod locks;
mod notify;
mod observe;
pub mod oidc;
mod periodic;
pub mod runtime;
pub mod secret;
pub mod server;
pub mod signing;
pub mod store;
pub mod swap;
pub mod time;
pub mod vectors;
pub mod verdict;
