//! Installing the tools tests run from their registries into `target/`, once:
//! a Python package into its own virtualenv (pip), or an npm package under its
//! own prefix. Tests that need one tool run in parallel: one installs it, the
//! others wait.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};

static INSTALLING: Mutex<()> = Mutex::new(());

/// `target/<dir>/bin/<command>` from `requirement` (`name==version`), in a
/// virtualenv made when missing (needs `python3` with `venv`).
pub fn pip_venv(dir: &str, requirement: &str, command: &str) -> Result<PathBuf> {
    let _installing = INSTALLING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let home = crate::binary::target_dir()?.join(dir);
    let bin = home.join("bin").join(command);
    if bin.is_file() {
        return Ok(bin);
    }
    let venv = Command::new("python3").arg("-m").arg("venv").arg(&home).status().context("failed to run python3")?;
    if !venv.success() {
        bail!("`python3 -m venv {}` failed ({venv})", home.display());
    }
    let pip = Command::new(home.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", requirement])
        .status()
        .context("failed to run pip")?;
    if !pip.success() || !bin.is_file() {
        bail!("`pip install {requirement}` failed ({pip})");
    }
    Ok(bin)
}

/// `target/<dir>`, whose `node_modules` holds `package` (`name@version`) and
/// whose `node_modules/.bin/<command>` runs it; installed when missing (needs
/// `npm` and `node`).
pub fn npm_prefix(dir: &str, package: &str, command: &str) -> Result<PathBuf> {
    let _installing = INSTALLING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let home = crate::binary::target_dir()?.join(dir);
    let bin = home.join("node_modules/.bin").join(command);
    if bin.is_file() {
        return Ok(home);
    }
    std::fs::create_dir_all(&home)?;
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
        .arg(&home)
        .arg(package)
        .status()
        .context("failed to run npm (Node.js and npm are on every machine of this kind)")?;
    if !status.success() || !bin.is_file() {
        bail!("`npm install {package}` failed ({status})");
    }
    Ok(home)
}
