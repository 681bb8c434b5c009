//! Tools for policy authors. `tokenscope policy new DIR` starts a policy of your
//! own: a standalone crate holding a copy of the default policy (`policy/`), its
//! test vectors and the contract (`wit/policy.wit`). `tokenscope policy build DIR`
//! compiles such a crate for wasm32, turns it into a component and embeds its
//! `vectors.toml`, ready for `policy test`, `policy diff` and `policy load`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::runtime::sha256_hex;

mod template {
    include!(concat!(env!("OUT_DIR"), "/policy_template.rs"));
}

#[derive(Args, Debug)]
pub(crate) struct NewArgs {
    /// The directory to create
    dir: PathBuf,
    /// The package and module name (default: the directory's name)
    #[arg(long)]
    name: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct BuildArgs {
    /// The policy crate's directory
    dir: PathBuf,
    /// Where to write the component (default: DIR/<name>.wasm)
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The vectors to embed (default: DIR/vectors.toml)
    #[arg(long, value_name = "FILE")]
    vectors: Option<PathBuf>,
    /// Sign the component with this Ed25519 private key (PEM, DER, OpenSSH or wasmsign2's raw form)
    #[arg(long, value_name = "PRIVATE_KEY")]
    sign: Option<PathBuf>,
}

pub(crate) fn new(args: &NewArgs) -> Result<ExitCode> {
    let name = match &args.name {
        Some(name) => name.clone(),
        None => args.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        bail!("`{name}` is not a package name (letters, digits, `-` and `_`)");
    }
    if args.dir.exists() {
        bail!("`{}` exists already", args.dir.display());
    }
    let lib = name.replace('-', "_");
    for (path, contents) in template::FILES {
        let contents = match *path {
            // Both read the contract beside the crate: a copy holds it in `wit/`.
            "src/component.rs" | "src/model.rs" => {
                contents.replace("\"../wit\"", "\"wit\"").replace("tokenscope_policy::", &format!("{lib}::"))
            }
            "src/info.rs" => contents.replace("\"tokenscope-default\"", &format!("{name:?}")),
            _ => (*contents).to_owned(),
        };
        write(&args.dir.join(path), &contents)?;
    }
    write(&args.dir.join("Cargo.toml"), &manifest(&name))?;
    write(&args.dir.join(".gitignore"), "/target\n/*.wasm\n")?;
    println!("created `{}`: a copy of the default policy named `{name}`", args.dir.display());
    println!("next: change a rule in src/, add cases to vectors.toml, then");
    println!("  tokenscope policy build {}", args.dir.display());
    Ok(ExitCode::SUCCESS)
}

fn manifest(name: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

# Built natively as an rlib (unit tests: `cargo test`) and, by `tokenscope policy
# build`, as a cdylib for wasm32-unknown-unknown that becomes the component.
[lib]
crate-type = ["rlib"]

[features]
default = ["export"]
export = []

[dependencies]
thiserror = "2"

[target.'cfg(target_arch = "wasm32")'.dependencies]
wit-bindgen = {{ version = "0.63", default-features = false, features = ["macros", "realloc"] }}

[dev-dependencies]
proptest = "1"

# Its own workspace, wherever it is placed.
[workspace]
"#
    )
}

fn write(path: &Path, contents: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("failed to create `{}`", dir.display()))?;
    }
    std::fs::write(path, contents).with_context(|| format!("failed to write `{}`", path.display()))
}

pub(crate) fn build(args: &BuildArgs) -> Result<ExitCode> {
    let manifest = args.dir.join("Cargo.toml");
    let text =
        std::fs::read_to_string(&manifest).with_context(|| format!("failed to read `{}`", manifest.display()))?;
    let parsed: toml::Table = toml::from_str(&text).with_context(|| format!("`{}` is not TOML", manifest.display()))?;
    let Some(package) = parsed.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str()) else {
        bail!("`{}` names no package", manifest.display());
    };
    let vectors = match &args.vectors {
        Some(path) => Some(path.clone()),
        None => Some(args.dir.join("vectors.toml")).filter(|p| p.is_file()),
    };
    if let Some(path) = &vectors {
        crate::vectors::Vectors::from_file(path)?;
    }
    let dir = std::fs::canonicalize(&args.dir).with_context(|| format!("no directory `{}`", args.dir.display()))?;
    let build = tokenscope_wasm_build::PolicyBuild {
        dir: dir.clone(),
        package,
        vectors: vectors.clone(),
        target_dir: dir.join("target"),
        ..tokenscope_wasm_build::PolicyBuild::default()
    };
    // The key is read before the build, so a wrong path fails at once.
    let key = args.sign.as_deref().map(crate::signing::SigningKey::read).transpose()?;
    let mut bytes = tokenscope_wasm_build::component_bytes(&build)?;
    if let Some(key) = &key {
        bytes = crate::signing::sign(&bytes, key).context("the built component cannot be signed")?;
    }
    let output = args.output.clone().unwrap_or_else(|| args.dir.join(format!("{package}.wasm")));
    std::fs::write(&output, &bytes).with_context(|| format!("failed to write `{}`", output.display()))?;
    println!("built `{}`: {} bytes, sha256:{}", output.display(), bytes.len(), sha256_hex(&bytes));
    if let Some(key) = &key {
        println!("  signed by key {}", key.id());
    }
    match &vectors {
        Some(path) => println!("  vectors embedded from `{}`", path.display()),
        None => println!("  no vectors embedded: the gate refuses it unless `policy.require_vectors = false`"),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::template;

    fn sources(dir: &Path, found: &mut Vec<String>, root: &Path) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| unreachable!("{}: {e}", dir.display())).flatten() {
            let path = entry.path();
            if path.is_dir() {
                sources(&path, found, root);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(root).map(Path::to_path_buf).unwrap_or_else(|_| PathBuf::new());
                found.push(format!("src/{}", relative.to_string_lossy().replace('\\', "/")));
            }
        }
    }

    #[test]
    fn a_new_policy_gets_every_source_file_of_the_default_one_modules_in_folders_included() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policy/src");
        let mut expected = Vec::new();
        sources(&root, &mut expected, &root);
        expected.sort();
        let mut copied: Vec<String> =
            template::FILES.iter().map(|(path, _)| (*path).to_owned()).filter(|p| p.starts_with("src/")).collect();
        copied.sort();
        assert_eq!(copied, expected);
        assert!(copied.iter().any(|p| p.matches('/').count() > 1), "no file in a module folder: {copied:?}");
    }
}
