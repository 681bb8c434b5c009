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
    let mut sources: Vec<_> = std::fs::read_dir(&src)
        .with_context(|| format!("failed to list `{}`", src.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    sources.sort();
    for path in sources {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
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
