//! tokenscope: an access-token authorization engine whose rules live in a
//! WebAssembly policy component. This crate is the host: it runs the policy and
//! offers the `tokenscope` command line.

pub mod cli;
pub mod config;
pub mod grant_text;
pub mod runtime;
pub mod secret;
pub mod store;
pub mod time;
pub mod verdict;
