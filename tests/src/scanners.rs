//! The secret scanners people run, from their registries: secretlint (npm, into
//! `target/secretlint`) and detect-secrets (PyPI, a virtualenv at
//! `target/detect-secrets`), installed the first time a test needs them.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The secretlint release the tests use.
pub const SECRETLINT: &str = "secretlint@13.0.6";
/// The detect-secrets release the tests use.
pub const DETECT_SECRETS: &str = "detect-secrets==1.5.0";

/// `target/secretlint`: the folder whose `node_modules` holds secretlint (and
/// where a rule package is put for it to find).
pub fn secretlint_home() -> Result<PathBuf> {
    let home = crate::binary::target_dir()?.join("secretlint");
    let bin = home.join("node_modules/.bin/secretlint");
    if bin.is_file() {
        return Ok(home);
    }
    std::fs::create_dir_all(&home)?;
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
        .arg(&home)
        .arg(SECRETLINT)
        .status()
        .context("failed to run npm (Node.js and npm are needed for secretlint)")?;
    if !status.success() || !bin.is_file() {
        bail!("`npm install {SECRETLINT}` failed ({status})");
    }
    Ok(home)
}

/// The `detect-secrets` command, installed when missing (needs `python3` with `venv`).
pub fn detect_secrets() -> Result<PathBuf> {
    let home = crate::binary::target_dir()?.join("detect-secrets");
    let bin = home.join("bin/detect-secrets");
    if bin.is_file() {
        return Ok(bin);
    }
    let venv = Command::new("python3").arg("-m").arg("venv").arg(&home).status().context("failed to run python3")?;
    if !venv.success() {
        bail!("`python3 -m venv {}` failed ({venv})", home.display());
    }
    let pip = Command::new(home.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", DETECT_SECRETS])
        .status()
        .context("failed to run pip")?;
    if !pip.success() || !bin.is_file() {
        bail!("`pip install {DETECT_SECRETS}` failed ({pip})");
    }
    Ok(bin)
}
