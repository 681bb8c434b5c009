//! `tokenscope policy sign` (add a signature by a private key to a module, or to
//! the embedded default with `@default`) and `tokenscope policy verify` (exit 0
//! when one of the given public keys signed all of it, 1 naming why not).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;

use super::context::EMBEDDED;
use crate::runtime::DEFAULT_POLICY;
use crate::signing::{SigningKey, TrustedKeys};

#[derive(Args, Debug)]
pub(crate) struct SignArgs {
    /// The module to sign (`@default`: the policy embedded in this binary)
    module: PathBuf,
    /// The Ed25519 private key (PEM as `openssl genpkey -algorithm ed25519` writes it, DER, OpenSSH, or wasmsign2's raw form)
    #[arg(long, value_name = "PRIVATE_KEY")]
    key: PathBuf,
    /// Where to write the signed module
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
}

#[derive(Args, Debug)]
pub(crate) struct VerifyArgs {
    /// The module to verify (`@default`: the policy embedded in this binary)
    module: PathBuf,
    /// Public keys to accept (one or more; any form `policy sign` reads, public half)
    #[arg(long, value_name = "PUBLIC_KEY", required = true, num_args = 1..)]
    key: Vec<PathBuf>,
    /// Print the verdict as JSON
    #[arg(long)]
    json: bool,
}

fn module_bytes(path: &Path) -> Result<Vec<u8>> {
    if path.as_os_str() == EMBEDDED {
        return Ok(DEFAULT_POLICY.to_vec());
    }
    std::fs::read(path).with_context(|| format!("failed to read policy module `{}`", path.display()))
}

pub(crate) fn sign(args: &SignArgs) -> Result<ExitCode> {
    let key = SigningKey::read(&args.key)?;
    let bytes = module_bytes(&args.module)?;
    let signed =
        crate::signing::sign(&bytes, &key).with_context(|| format!("`{}` cannot be signed", args.module.display()))?;
    std::fs::write(&args.output, &signed).with_context(|| format!("failed to write `{}`", args.output.display()))?;
    println!(
        "signed `{}` with key {}: `{}`, {} bytes, sha256:{}",
        args.module.display(),
        key.id(),
        args.output.display(),
        signed.len(),
        crate::runtime::sha256_hex(&signed)
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn verify(args: &VerifyArgs) -> Result<ExitCode> {
    let keys = TrustedKeys::load(&args.key)?;
    let bytes = module_bytes(&args.module)?;
    // The embedded default is checked like any other module here: the question is who signed these bytes.
    let verdict = crate::signing::verify(&bytes, &keys);
    let module = args.module.display().to_string();
    if args.json {
        let value = match &verdict {
            Ok(signature) => {
                let mut value = json!({"module": module, "verified": true});
                // `signature` and `signers` beside the verdict, as the status API shows them.
                if let (Some(object), Ok(serde_json::Value::Object(fields))) =
                    (value.as_object_mut(), serde_json::to_value(signature))
                {
                    object.extend(fields);
                }
                value
            }
            Err(refusal) => {
                json!({"module": module, "verified": false, "code": refusal.code, "reason": refusal.reason})
            }
        };
        super::output::print_json(&value)?;
    } else {
        match &verdict {
            Ok(signature) => {
                let signers = match signature {
                    crate::signing::Signature::Verified { signers } => signers.join(", "),
                    _ => String::new(),
                };
                println!("verified: `{module}` is signed by key {signers}");
            }
            Err(refusal) => println!("not verified: `{module}`: {refusal}"),
        }
    }
    Ok(if verdict.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
