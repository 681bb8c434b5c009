//! tokenscope: an access-token authorization engine whose rules live in a
//! WebAssembly policy component. This crate is the host: it runs the policy and
//! offers the `tokenscope` command line.

pub mod authority;
pub mod case;
pub mod cli;
pub mod clock;
pub mod config;
pub mod contract;
pub mod gate;
pub mod grant_text;
pub mod notify;
pub mod periodic;
pub mod record;
pub mod rights;
pub mod runtime;
pub mod secret;
pub mod server;
pub mod shadow;
pub mod store;
pub mod swap;
pub mod tap;
pub mod time;
pub mod usage;
pub mod vectors;
pub mod verdict;
