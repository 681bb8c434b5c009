//! Builds the fixture policy components the integration tests load next to the
//! embedded default one, and names each in an env var for `env!`: the variant
//! (one rule changed), and the hostile modules, one per way of misbehaving.

use tokenscope_wasm_build::{PolicyBuild, build_component_with, script_build};

/// (env var, package, features, vectors file, output file)
type Fixture = (&'static str, &'static str, &'static [&'static str], Option<&'static str>, &'static str);

const FIXTURES: &[Fixture] = &[
    ("VARIANT", "tokenscope-variant-policy", &[], Some("tests/fixtures/variant/vectors.toml"), "variant.wasm"),
    ("HOSTILE", "tokenscope-hostile-policy", &[], Some("policy/vectors.toml"), "hostile.wasm"),
    ("HOSTILE_LOOP", "tokenscope-hostile-policy", &["always-loop"], Some("policy/vectors.toml"), "loop.wasm"),
    ("HOSTILE_TRAP", "tokenscope-hostile-policy", &["always-trap"], Some("policy/vectors.toml"), "trap.wasm"),
    ("HOSTILE_GROW", "tokenscope-hostile-policy", &["always-grow"], Some("policy/vectors.toml"), "grow.wasm"),
    ("HOSTILE_HUGE_INFO", "tokenscope-hostile-policy", &["huge-info"], Some("policy/vectors.toml"), "huge-info.wasm"),
    (
        "HOSTILE_LENIENT",
        "tokenscope-hostile-policy",
        &["lenient"],
        Some("tests/fixtures/hostile/lenient-vectors.toml"),
        "lenient.wasm",
    ),
    ("HOSTILE_WRONG_WORLD", "tokenscope-hostile-policy", &["wrong-world"], None, "wrong-world.wasm"),
];

fn main() -> anyhow::Result<()> {
    tokenscope_wasm_build::rerun_if_changed(&["tests/fixtures", "policy", "wit", "Cargo.lock"])?;
    for (var, package, features, vectors, file) in FIXTURES {
        let base = script_build()?;
        let vectors = vectors.map(|v| base.dir.join(v));
        let build = PolicyBuild { package, features, vectors, ..base };
        let path = build_component_with(&build, file)?;
        println!("cargo:rustc-env=TOKENSCOPE_FIXTURE_{var}={}", path.display());
    }
    Ok(())
}
