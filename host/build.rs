//! Builds the default policy component (`policy/`, with its test vectors
//! `policy/vectors.toml` embedded) that the host embeds.

use tokenscope_wasm_build::{PolicyBuild, build_component_with, script_build};

fn main() -> anyhow::Result<()> {
    tokenscope_wasm_build::rerun_if_changed(&[
        "policy/src",
        "policy/Cargo.toml",
        "policy/vectors.toml",
        "wit",
        "Cargo.lock",
    ])?;
    let base = script_build()?;
    let vectors = base.dir.join("policy/vectors.toml");
    let build = PolicyBuild { package: "tokenscope-policy", vectors: Some(vectors), ..base };
    let path = build_component_with(&build, "policy.wasm")?;
    println!("cargo:rustc-env=TOKENSCOPE_DEFAULT_POLICY={}", path.display());
    Ok(())
}
