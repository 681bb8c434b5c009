//! The module's identity, reported by the `info` export and shown by
//! `tokenscope policy inspect` and in every decision log line.

pub const NAME: &str = "tokenscope-default";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const DESCRIPTION: &str = "psm resource and scope tokens, venafi scopes and restrictions, cvescan create-scan; \
no token exceeds its owner";
