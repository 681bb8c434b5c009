//! The module's identity, reported by the `info` export and shown by
//! `tokenscope policy inspect` and in every decision log line.

/// The module's name, as `info` reports it.
pub const NAME: &str = "tokenscope-default";
/// The module's version: the crate's.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// What the module decides, in one line.
pub const DESCRIPTION: &str = "psm resource and scope tokens, venafi scopes and restrictions, cvescan create-scan; \
no token exceeds its owner";
