//! Another component host for the policy: jco (the Bytecode Alliance's
//! JavaScript toolchain) transpiles the component to JavaScript that Node runs.
//! jco is installed from the npm registry into `target/jco` the first time.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The jco release the tests use.
pub const JCO: &str = "@bytecodealliance/jco@1.35.0";

/// The jco command line, installed into `target/jco` when missing (needs `npm` and `node`).
pub fn jco() -> Result<PathBuf> {
    Ok(crate::tool_install::npm_prefix("jco", JCO, "jco")?.join("node_modules/.bin/jco"))
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
