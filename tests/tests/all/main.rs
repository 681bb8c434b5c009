//! Integration tests: the real `tokenscope` binary and the host library against
//! the built policy components. One test binary, one module per area.

// Test code: an unwrap or a panic that fires is the test failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod api;
mod api_schema;
mod attack_findings;
mod audit;
mod bypass;
mod caches;
mod ceilings;
mod cli;
mod component;
mod durability;
mod faults;
mod fleet;
mod gate;
mod gateway;
mod introspect;
mod layering;
mod leak_reports;
mod leaks;
mod lifecycle;
mod limits;
mod malformed;
mod nginx;
mod no_escalation;
mod oidc;
mod other_host;
mod principals_api;
mod psm_scope_table;
mod secrets_in_logs;
mod seed_cases;
mod server;
mod signing;
mod signing_interop;
mod slow_store;
mod store_backends;
mod swap;
mod ui;
