//! Builds the fixture policy components the integration tests load next to the
//! embedded default one, and names each in an env var for `env!`.

fn main() -> anyhow::Result<()> {
    tokenscope_wasm_build::rerun_if_changed(&["tests/fixtures", "wit", "Cargo.lock"])?;
    let hostile = tokenscope_wasm_build::build_component("tokenscope-hostile-policy", "hostile.wasm")?;
    println!("cargo:rustc-env=TOKENSCOPE_FIXTURE_HOSTILE={}", hostile.display());
    Ok(())
}
