//! Builds policy components, for the host's and the tests' build scripts (the
//! embedded default policy, the fixtures) and for `tokenscope policy build`: a
//! crate is compiled for `wasm32-unknown-unknown` (std, no imports) by a nested
//! cargo into its own target directory, wrapped into a component with
//! `wit-component`, and its test vectors are embedded in a custom section. The
//! wasm target is installed with rustup when it is missing.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use wasm_encoder::{ComponentSection, CustomSection};

const TARGET: &str = "wasm32-unknown-unknown";

/// The name of the custom section that carries a module's test vectors (TOML).
pub const VECTORS_SECTION: &str = "tokenscope:vectors";

/// One policy crate to build into a component.
#[derive(Clone, Debug, Default)]
pub struct PolicyBuild<'a> {
    /// Where cargo runs: the workspace root, or a standalone crate's directory.
    pub dir: PathBuf,
    /// The package to build.
    pub package: &'a str,
    /// Cargo features to turn on (`--features`).
    pub features: &'a [&'a str],
    /// Build without the package's default features.
    pub no_default_features: bool,
    /// A vectors file to embed in the component.
    pub vectors: Option<PathBuf>,
    /// The nested build's target directory.
    pub target_dir: PathBuf,
}

/// Builds workspace package `package` as a component and writes it to
/// `out_dir/file_name`; returns that path. Call from a build script.
pub fn build_component(package: &str, file_name: &str) -> Result<PathBuf> {
    build_component_with(&PolicyBuild { package, ..script_build()? }, file_name)
}

/// Like `build_component` with features and vectors; `base` comes from `script_build`.
pub fn build_component_with(build: &PolicyBuild<'_>, file_name: &str) -> Result<PathBuf> {
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let dest = out_dir.join(file_name);
    fs::write(&dest, component_bytes(build)?).with_context(|| format!("failed to write `{}`", dest.display()))?;
    Ok(dest)
}

/// The workspace root and the shared nested target directory of a build script.
pub fn script_build() -> Result<PolicyBuild<'static>> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let dir = workspace_root(&manifest_dir)?;
    let target_dir = nested_target_dir(&outer_target_dir(&out_dir).unwrap_or_else(|| out_dir.clone()), &dir);
    Ok(PolicyBuild { dir, target_dir, ..PolicyBuild::default() })
}

/// Where the wasm builds go: `policy-wasm` in the workspace's own target
/// directory. A target directory shared with other checkouts (`CARGO_TARGET_DIR`)
/// gets one per checkout: cargo's uplifted artifacts (`tokenscope_policy.wasm`)
/// have one name in a target directory, so checkouts sharing one would embed
/// each other's policy.
fn nested_target_dir(outer: &Path, workspace: &Path) -> PathBuf {
    if outer == workspace.join("target") {
        return outer.join("policy-wasm");
    }
    let checkout: String =
        workspace.to_string_lossy().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    outer.join(format!("policy-wasm{checkout}"))
}

/// Compiles `build.package` for wasm32, wraps it into a component and embeds its
/// vectors; returns the component's bytes.
pub fn component_bytes(build: &PolicyBuild<'_>) -> Result<Vec<u8>> {
    let package = build.package;
    ensure_wasm_target(&build.target_dir)?;
    let core = build_core(build)?;
    let bytes = fs::read(&core).with_context(|| format!("failed to read `{}`", core.display()))?;
    let mut component = wit_component::ComponentEncoder::default()
        .module(&bytes)
        .with_context(|| format!("`{package}` has no usable component type section"))?
        .validate(true)
        .encode()
        .with_context(|| format!("failed to encode `{package}` as a component"))?;
    if let Some(path) = &build.vectors {
        let vectors =
            fs::read_to_string(path).with_context(|| format!("failed to read vectors `{}`", path.display()))?;
        embed_vectors(&mut component, &vectors);
    }
    Ok(component)
}

/// Appends `vectors` (TOML) to a component as the `tokenscope:vectors` custom
/// section, so a module carries the cases it must pass.
pub fn embed_vectors(component: &mut Vec<u8>, vectors: &str) {
    append_custom_section(component, VECTORS_SECTION, vectors.as_bytes());
}

/// Appends a custom section `name` holding `data` to a component.
pub fn append_custom_section(component: &mut Vec<u8>, name: &str, data: &[u8]) {
    CustomSection { name: name.into(), data: data.into() }.append_to_component(component);
}

/// Tells cargo to rerun the build script when these workspace paths change.
pub fn rerun_if_changed(paths: &[&str]) -> Result<()> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let workspace = workspace_root(&manifest_dir)?;
    for path in paths {
        println!("cargo:rerun-if-changed={}", workspace.join(path).display());
    }
    Ok(())
}

/// The nearest ancestor holding `Cargo.lock`.
fn workspace_root(manifest_dir: &Path) -> Result<PathBuf> {
    manifest_dir
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").is_file())
        .map(Path::to_path_buf)
        .with_context(|| format!("no Cargo.lock above `{}`", manifest_dir.display()))
}

/// Installs the wasm target into the active toolchain when its std is missing.
/// Build scripts of several crates may get here at once: a lock file makes one
/// install while the others wait, then find the target there.
fn ensure_wasm_target(target_dir: &Path) -> Result<()> {
    fs::create_dir_all(target_dir).with_context(|| format!("failed to create `{}`", target_dir.display()))?;
    let lock_path = target_dir.join(".wasm-target.lock");
    let lock = fs::File::create(&lock_path).with_context(|| format!("failed to create `{}`", lock_path.display()))?;
    lock.lock().with_context(|| format!("failed to lock `{}`", lock_path.display()))?;
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let output = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .with_context(|| format!("failed to run `{rustc}`"))?;
    let libdir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    if output.status.success() && has_std(&libdir) {
        return Ok(());
    }
    let mut rustup = Command::new("rustup");
    rustup.args(["target", "add", TARGET]);
    if let Ok(toolchain) = env::var("RUSTUP_TOOLCHAIN") {
        rustup.args(["--toolchain", &toolchain]);
    }
    let status = rustup
        .status()
        .context("the `wasm32-unknown-unknown` target is missing and `rustup` could not be run to install it")?;
    if !status.success() && !has_std(&libdir) {
        bail!("`rustup target add {TARGET}` failed ({status})");
    }
    Ok(())
}

fn has_std(libdir: &Path) -> bool {
    fs::read_dir(libdir)
        .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("libstd-")))
        .unwrap_or(false)
}

/// The nested build shares one target directory per outer target directory, so
/// dev, test, clippy and bench builds reuse the same wasm artifacts.
fn build_core(build: &PolicyBuild<'_>) -> Result<PathBuf> {
    let PolicyBuild { dir, package, target_dir, .. } = build;
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(dir).args(["rustc", "--quiet", "-p", package, "--lib", "--release"]);
    // Inside this workspace the lock file is the one checked in; a standalone
    // policy crate resolves its own.
    if dir.join("Cargo.lock").is_file() {
        cmd.arg("--locked");
    }
    if !build.features.is_empty() {
        cmd.arg("--features").arg(build.features.join(","));
    }
    if build.no_default_features {
        cmd.arg("--no-default-features");
    }
    cmd.args(["--target", TARGET, "--crate-type", "cdylib", "--target-dir"])
        .arg(target_dir)
        .env("CARGO_PROFILE_RELEASE_PANIC", "abort")
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "3")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false");
    // The outer build's settings (flags for the host target, clippy's wrapper,
    // per-package variables) must not leak into the wasm build.
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy();
        let keep = matches!(key.as_ref(), "CARGO_HOME" | "CARGO_NET_OFFLINE" | "CARGO_HTTP_TIMEOUT")
            || key.starts_with("CARGO_REGISTRIES_");
        let outer = key.starts_with("CARGO_") && !key.starts_with("CARGO_PROFILE_RELEASE_");
        if (outer && !keep)
            || matches!(key.as_ref(), "RUSTFLAGS" | "RUSTC_WORKSPACE_WRAPPER" | "RUSTC" | "RUSTDOC" | "TARGET" | "HOST")
        {
            cmd.env_remove(key.as_ref());
        }
    }
    let status = cmd.status().with_context(|| format!("failed to run cargo for `{package}`"))?;
    if !status.success() {
        bail!("building `{package}` for {TARGET} failed ({status})");
    }
    Ok(target_dir.join(TARGET).join("release").join(format!("{}.wasm", package.replace('-', "_"))))
}

/// `<target>/<profile>/build/<pkg>-<hash>/out` -> `<target>`.
fn outer_target_dir(out_dir: &Path) -> Option<PathBuf> {
    let build = out_dir.ancestors().find(|p| p.file_name().is_some_and(|n| n == "build"))?;
    Some(build.parent()?.parent()?.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkouts_sharing_a_target_directory_build_their_wasm_apart() {
        let own = nested_target_dir(Path::new("/src/a/target"), Path::new("/src/a"));
        assert_eq!(own, Path::new("/src/a/target/policy-wasm"));
        let shared = Path::new("/cache/target");
        let (a, b) = (nested_target_dir(shared, Path::new("/src/a")), nested_target_dir(shared, Path::new("/src/b")));
        assert_ne!(a, b);
        assert!(a.starts_with(shared) && b.starts_with(shared), "{a:?} {b:?}");
    }
}
