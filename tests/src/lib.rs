//! Support for the integration tests in `tests/all`: the real `tokenscope`
//! binary, and policy modules (the embedded default and the fixtures) loaded once.

pub mod apt;
pub mod authority;
pub mod binary;
pub mod browser;
pub mod caddy;
pub mod fleet;
pub mod http;
pub mod jco;
pub mod jco_serve;
pub mod layering;
pub mod metrics;
pub mod modules;
pub mod nginx;
pub mod oidc;
pub mod page;
pub mod pgbouncer;
pub mod postgres;
pub mod routes;
pub mod scanners;
pub mod schemathesis;
pub mod server;
pub mod signing;
pub mod tcp_proxy;
pub mod tokens;
pub mod tool_install;
pub mod upstream;
pub mod wait;
pub mod wasmtime_cli;
pub mod wasmtime_serve;
pub mod wave;
pub mod webhook;
