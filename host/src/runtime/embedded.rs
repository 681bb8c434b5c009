//! The default policy component, built from `policy/` by `build.rs` and embedded
//! in the binary so that tokenscope needs no file to run.

/// The bytes of the default policy component.
pub const DEFAULT_POLICY: &[u8] = include_bytes!(env!("TOKENSCOPE_DEFAULT_POLICY"));

/// How the embedded module is named in messages and reports.
pub const DEFAULT_POLICY_SOURCE: &str = "<embedded default policy>";
