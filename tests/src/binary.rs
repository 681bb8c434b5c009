//! Finds the real `tokenscope` binary of this workspace. `cargo test --workspace`
//! builds it (the host crate has integration tests of its own); when it is
//! missing, it is built here with cargo.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, Result};

static BINARY: OnceLock<PathBuf> = OnceLock::new();

/// A `Command` for the `tokenscope` binary.
pub fn tokenscope() -> Result<Command> {
    if let Some(path) = BINARY.get() {
        return Ok(Command::new(path));
    }
    let path = locate()?;
    Ok(Command::new(BINARY.get_or_init(|| path)))
}

fn locate() -> Result<PathBuf> {
    // target/<profile>/deps/<test-binary> -> target/<profile>/tokenscope
    let exe = std::env::current_exe().context("failed to find the test binary")?;
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).context("test binary is not under target/")?;
    let candidate = profile_dir.join(format!("tokenscope{}", std::env::consts::EXE_SUFFIX));
    if candidate.is_file() {
        return Ok(candidate);
    }
    let built = escargot::CargoBuild::new()
        .package("tokenscope")
        .bin("tokenscope")
        .run()
        .context("failed to build the tokenscope binary")?;
    Ok(built.path().to_path_buf())
}

/// The cargo target directory the test binary runs from (`target/`), where tools
/// the tests install (jco, schemathesis) are kept.
pub fn target_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("failed to find the test binary")?;
    Ok(exe.ancestors().nth(3).context("the test binary is not under target/<profile>/deps")?.to_path_buf())
}
