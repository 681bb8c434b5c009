//! Schemathesis, the schema-based API fuzzer (a Python package), installed from
//! PyPI into a virtualenv at `target/schemathesis` the first time a test needs it.

use anyhow::Result;
use std::path::PathBuf;

/// The schemathesis release the tests use.
pub const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// The `schemathesis` command, installed when missing (needs `python3` with `venv`).
pub fn schemathesis() -> Result<PathBuf> {
    crate::tool_install::pip_venv("schemathesis", SCHEMATHESIS, "schemathesis")
}
