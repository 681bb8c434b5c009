//! Installing the tools tests run from their registries into `target/`, once:
//! a Python package into its own virtualenv (pip), an npm package under its
//! own prefix, or a Rust crate's binary under its own root (cargo install). Tests that need one tool run in parallel: one installs it, the
//! others wait.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};

static INSTALLING: Mutex<()> = Mutex::new(());
/// Apart from pip and npm: a cargo build takes minutes and need not hold them up.
static BUILDING: Mutex<()> = Mutex::new(());

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

/// `target/<dir>/bin/<command>` from the crate `name` at `version`, built with
/// `cargo install --locked` when missing (its own lock file, its own target dir).
pub fn cargo_root(dir: &str, name: &str, version: &str, command: &str) -> Result<PathBuf> {
    let _building = BUILDING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let root = crate::binary::target_dir()?.join(dir);
    let bin = root.join("bin").join(command);
    if bin.is_file() {
        return Ok(bin);
    }
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["install", "--quiet", "--locked", name, "--version", version, "--root"])
        .arg(&root)
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .context("failed to run cargo install")?;
    if !status.success() || !bin.is_file() {
        bail!("`cargo install {name} --version {version}` failed ({status})");
    }
    Ok(bin)
}
