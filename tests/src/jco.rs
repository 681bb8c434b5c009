//! Another component host for the policy: jco (the Bytecode Alliance's
//! JavaScript toolchain) transpiles the component to JavaScript that Node runs.
//! jco is installed from the npm registry into `target/jco` the first time.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The jco release the tests use.
pub const JCO: &str = "@bytecodealliance/jco@1.35.0";

/// `target/jco`, next to the test binaries' profile directory.
fn home() -> Result<PathBuf> {
    Ok(crate::binary::target_dir()?.join("jco"))
}

/// The jco command line, installed when missing (needs `npm` and `node`).
pub fn jco() -> Result<PathBuf> {
    // Tests that need jco run in parallel: one installs it, the others wait.
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _installing = INSTALL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let home = home()?;
    let bin = home.join("node_modules/.bin/jco");
    if bin.is_file() {
        return Ok(bin);
    }
    std::fs::create_dir_all(&home)?;
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
        .arg(&home)
        .arg(JCO)
        .status()
        .context("failed to run npm (Node.js and npm are needed to run the policy under jco)")?;
    if !status.success() || !bin.is_file() {
        bail!("`npm install {JCO}` failed ({status})");
    }
    Ok(bin)
}

/// Transpiles `component` into `out`; returns the path of the JavaScript module.
pub fn transpile(component: &Path, out: &Path) -> Result<PathBuf> {
    let output = Command::new(jco()?)
        .arg("transpile")
        .arg(component)
        .arg("-o")
        .arg(out)
        .args(["--name", "policy", "--quiet"])
        .output()
        .context("failed to run jco")?;
    if !output.status.success() {
        bail!("jco transpile failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(out.join("policy.js"))
}
