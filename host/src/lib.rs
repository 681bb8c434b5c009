//! tokenscope: an access-token authorization engine whose rules live in a
//! WebAssembly policy component. This crate is the host: it runs the policy and
//! offers the `tokenscope` command line.

#![warn(missing_docs)]

pub mod authority;
pub mod case;
pub mod config;
pub mod contract;
pub mod gate;
pub mod grant_text;
mod ids;
pub mod notify;
pub mod observe;
mod periodic;
pub mod runtime;
pub mod secret;
pub mod server;
pub mod store;
pub mod swap;
pub mod time;
pub mod vectors;
pub mod verdict;
