//! Builds the default policy component (`policy/`) that the host embeds.

fn main() -> anyhow::Result<()> {
    tokenscope_wasm_build::rerun_if_changed(&["policy/src", "policy/Cargo.toml", "wit", "Cargo.lock"])?;
    let path = tokenscope_wasm_build::build_component("tokenscope-policy", "policy.wasm")?;
    println!("cargo:rustc-env=TOKENSCOPE_DEFAULT_POLICY={}", path.display());
    Ok(())
}
