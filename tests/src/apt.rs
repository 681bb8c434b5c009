//! Installs a Debian package the tests need when it is missing, one apt-get at a
//! time (tests run in parallel, and dpkg takes one lock).

use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};

static APT: Mutex<()> = Mutex::new(());

/// Runs `apt-get install PACKAGE` unless `present()` already holds.
pub fn ensure(package: &str, present: impl Fn() -> bool) -> Result<()> {
    let _one_at_a_time = APT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if present() {
        return Ok(());
    }
    eprintln!("{package} is missing: installing Debian's {package} with apt-get");
    let update = Command::new("apt-get").args(["update", "-qq"]).status().context("apt-get is not available")?;
    let install = Command::new("apt-get")
        .args(["install", "-y", "-qq", package])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("apt-get is not available")?;
    if !update.success() || !install.success() || !present() {
        bail!("installing {package} with apt-get failed");
    }
    Ok(())
}
