//! The secret scanners people run, from their registries: secretlint (npm, into
//! `target/secretlint`) and detect-secrets (PyPI, a virtualenv at
//! `target/detect-secrets`), installed the first time a test needs them.

use std::path::PathBuf;

use anyhow::Result;

use crate::tool_install::{npm_prefix, pip_venv};

/// The secretlint release the tests use.
pub const SECRETLINT: &str = "secretlint@13.0.6";
/// The detect-secrets release the tests use.
pub const DETECT_SECRETS: &str = "detect-secrets==1.5.0";

/// `target/secretlint`: the folder whose `node_modules` holds secretlint (and
/// where a rule package is put for it to find).
pub fn secretlint_home() -> Result<PathBuf> {
    npm_prefix("secretlint", SECRETLINT, "secretlint")
}

/// The `detect-secrets` command, installed when missing.
pub fn detect_secrets() -> Result<PathBuf> {
    pip_venv("detect-secrets", DETECT_SECRETS, "detect-secrets")
}
