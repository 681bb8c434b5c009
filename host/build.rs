//! Builds the components the host embeds: the default policy (`policy/`, with
//! its test vectors `policy/vectors.toml` embedded) and the `wasi:http` gateway
//! (`host/wasm-gateway/`) that `tokenscope gateway build` composes with a policy; and
//! lists the policy crate's files for `tokenscope policy new`, which copies them.

use std::fmt::Write;
use std::path::Path;

use anyhow::Context;
use tokenscope_wasm_build::{PolicyBuild, build_component_with, script_build};

fn main() -> anyhow::Result<()> {
    tokenscope_wasm_build::rerun_if_changed(&[
        "policy/src",
        "policy/Cargo.toml",
        "policy/vectors.toml",
        "wit",
        "host/wasm-gateway/src",
        "host/wasm-gateway/Cargo.toml",
        "host/request/src",
        "host/request/Cargo.toml",
        "Cargo.lock",
    ])?;
    let base = script_build()?;
    let workspace = base.dir.clone();
    let vectors = workspace.join("policy/vectors.toml");
    let build = PolicyBuild { package: "tokenscope-policy", vectors: Some(vectors), ..base };
    let path = build_component_with(&build, "policy.wasm")?;
    println!("cargo:rustc-env=TOKENSCOPE_DEFAULT_POLICY={}", path.display());
    let gateway = PolicyBuild { package: "tokenscope-wasm-gateway", vectors: None, ..build };
    let path = build_component_with(&gateway, "gateway.wasm")?;
    println!("cargo:rustc-env=TOKENSCOPE_GATEWAY_COMPONENT={}", path.display());
    write_template(&workspace)
}

/// `OUT_DIR/policy_template.rs`: every file of the policy crate a new policy
/// starts from, as `(path in the new crate, contents)`.
fn write_template(workspace: &Path) -> anyhow::Result<()> {
    let mut files = vec![
        ("vectors.toml".to_owned(), workspace.join("policy/vectors.toml")),
        ("wit/policy.wit".to_owned(), workspace.join("wit/policy.wit")),
        ("rust-toolchain.toml".to_owned(), workspace.join("rust-toolchain.toml")),
    ];
    let src = workspace.join("policy/src");
    let mut sources = Vec::new();
    rust_files(&src, &mut sources)?;
    sources.sort();
    for path in sources {
        let relative = path.strip_prefix(&src).with_context(|| format!("`{}` is outside the crate", path.display()))?;
        let name = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        files.push((format!("src/{name}"), path));
    }
    let mut out = String::from(
        "/// The policy crate's files, for `tokenscope policy new`.\npub const FILES: &[(&str, &str)] = &[\n",
    );
    for (name, path) in files {
        writeln!(out, "    ({name:?}, include_str!({:?})),", path.display().to_string())?;
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR")?).join("policy_template.rs");
    std::fs::write(&dest, out).with_context(|| format!("failed to write `{}`", dest.display()))
}

/// Every `.rs` file under `dir`, its subdirectories (a module's own files) included.
fn rust_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("failed to list `{}`", dir.display()))? {
        let path = entry.with_context(|| format!("failed to list `{}`", dir.display()))?.path();
        if path.is_dir() {
            rust_files(&path, found)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    Ok(())
}
