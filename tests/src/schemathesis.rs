//! Schemathesis, the schema-based API fuzzer (a Python package), installed from
//! PyPI into a virtualenv at `target/schemathesis` the first time a test needs it.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The schemathesis release the tests use.
pub const SCHEMATHESIS: &str = "schemathesis==4.32.5";

fn home() -> Result<PathBuf> {
    Ok(crate::binary::target_dir()?.join("schemathesis"))
}

/// The `schemathesis` command, installed when missing (needs `python3` with `venv`).
pub fn schemathesis() -> Result<PathBuf> {
    let home = home()?;
    let bin = home.join("bin/schemathesis");
    if bin.is_file() {
        return Ok(bin);
    }
    let venv = Command::new("python3").arg("-m").arg("venv").arg(&home).status().context("failed to run python3")?;
    if !venv.success() {
        bail!("`python3 -m venv {}` failed ({venv})", home.display());
    }
    let pip = Command::new(home.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", SCHEMATHESIS])
        .status()
        .context("failed to run pip")?;
    if !pip.success() || !bin.is_file() {
        bail!("`pip install {SCHEMATHESIS}` failed ({pip})");
    }
    Ok(bin)
}
