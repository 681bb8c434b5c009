//! Ed25519 keys for signed policy modules, made by the real tools (openssl,
//! ssh-keygen) in every form tokenscope reads, the `tokenscope policy sign`
//! command, and module bytes edited the ways an attacker would (the signature
//! section stripped, moved, doubled, cut short, padded).

// Test support: it cuts modules at offsets read from those modules; an offset
// out of range is a broken test, reported by the panic.
#![allow(clippy::indexing_slicing)]

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::binary::tokenscope;

/// A private key file and its public half.
#[derive(Clone, Debug)]
pub struct KeyPair {
    /// The private key (what signs).
    pub private: PathBuf,
    /// The public key (what a host trusts).
    pub public: PathBuf,
}

fn run(cmd: &mut Command) -> Result<Vec<u8>> {
    let out = cmd.output().with_context(|| format!("failed to run {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(out.stdout)
}

fn ensure_openssl() -> Result<()> {
    let present = || Command::new("openssl").arg("version").output().is_ok_and(|o| o.status.success());
    crate::apt::ensure("openssl", present)
}

/// A key pair as `openssl genpkey -algorithm ed25519` writes it (PEM), in `dir`.
pub fn openssl_pem(dir: &Path, name: &str) -> Result<KeyPair> {
    ensure_openssl()?;
    let private = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub.pem"));
    run(Command::new("openssl").args(["genpkey", "-algorithm", "ed25519", "-out"]).arg(&private))?;
    run(Command::new("openssl").args(["pkey", "-pubout", "-in"]).arg(&private).arg("-out").arg(&public))?;
    Ok(KeyPair { private, public })
}

/// The PEM pair `pem` in DER.
pub fn openssl_der(pem: &KeyPair, dir: &Path, name: &str) -> Result<KeyPair> {
    let private = dir.join(format!("{name}.der"));
    let public = dir.join(format!("{name}.pub.der"));
    run(Command::new("openssl").args(["pkey", "-outform", "DER", "-in"]).arg(&pem.private).arg("-out").arg(&private))?;
    run(Command::new("openssl")
        .args(["pkey", "-pubout", "-outform", "DER", "-in"])
        .arg(&pem.private)
        .arg("-out")
        .arg(&public))?;
    Ok(KeyPair { private, public })
}

/// The PEM pair `pem` in wasmsign2's raw form: `0x81 || seed || public` and `0x01 || public`.
pub fn raw(pem: &KeyPair, dir: &Path, name: &str) -> Result<KeyPair> {
    let der = openssl_der(pem, dir, &format!("{name}-der"))?;
    let (secret, public) = (std::fs::read(&der.private)?, std::fs::read(&der.public)?);
    // PKCS#8 and SPKI for Ed25519 end with the 32-byte seed and the 32-byte key.
    let (seed, key) = (&secret[secret.len() - 32..], &public[public.len() - 32..]);
    let pair = KeyPair { private: dir.join(format!("{name}.sk")), public: dir.join(format!("{name}.pk")) };
    std::fs::write(&pair.private, [&[0x81][..], seed, key].concat())?;
    std::fs::write(&pair.public, [&[0x01][..], key].concat())?;
    Ok(pair)
}

/// An OpenSSH key pair made by `ssh-keygen -t ed25519`.
pub fn openssh(dir: &Path, name: &str) -> Result<KeyPair> {
    let present = || Command::new("ssh-keygen").arg("-?").output().is_ok();
    crate::apt::ensure("openssh-client", present)?;
    let private = dir.join(name);
    run(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"]).arg(&private))?;
    Ok(KeyPair { public: dir.join(format!("{name}.pub")), private })
}

/// `module` signed by `key` with `tokenscope policy sign` (written beside the key).
pub fn sign(module: &[u8], key: &Path) -> Result<Vec<u8>> {
    let dir = tempfile::tempdir()?;
    let (input, output) = (dir.path().join("in.wasm"), dir.path().join("out.wasm"));
    std::fs::write(&input, module)?;
    run(tokenscope()?.args(["policy", "sign"]).arg(&input).arg("--key").arg(key).arg("-o").arg(&output))?;
    Ok(std::fs::read(&output)?)
}

/// An unsigned LEB128 at `at`, and where it ends.
fn leb(bytes: &[u8], mut at: usize) -> (usize, usize) {
    let mut value = 0usize;
    for shift in 0..5 {
        let byte = bytes[at];
        at += 1;
        value |= usize::from(byte & 0x7f) << (7 * shift);
        if byte & 0x80 == 0 {
            break;
        }
    }
    (value, at)
}

/// Where a section's parts lie.
#[derive(Clone, Debug)]
pub struct Parts {
    /// The whole section: id, size and contents.
    pub whole: Range<usize>,
    /// Its size field (a LEB128).
    pub size: Range<usize>,
    /// For a custom section, what follows its name; else its contents.
    pub payload: Range<usize>,
}

/// The parts of the section that starts at `at`.
pub fn section_at(bytes: &[u8], at: usize) -> Parts {
    let (len, contents) = leb(bytes, at + 1);
    let payload = if bytes[at] == 0 {
        let (name_len, name) = leb(bytes, contents);
        name + name_len..contents + len
    } else {
        contents..contents + len
    };
    Parts { whole: at..contents + len, size: at + 1..contents, payload }
}

/// The signature section a signed module starts with.
pub fn signature_section(bytes: &[u8]) -> Parts {
    let parts = section_at(bytes, 8);
    assert_eq!(bytes[8], 0, "a custom section comes first");
    assert_eq!(&bytes[parts.payload.start - 9..parts.payload.start], b"signature", "the signature section comes first");
    parts
}

/// `bytes` with `range` cut out.
pub fn without(bytes: &[u8], range: Range<usize>) -> Vec<u8> {
    [&bytes[..range.start], &bytes[range.end..]].concat()
}

/// A custom section named `name` holding `payload`.
pub fn custom_section(name: &str, payload: &[u8]) -> Vec<u8> {
    let mut contents = leb_bytes(name.len());
    contents.extend_from_slice(name.as_bytes());
    contents.extend_from_slice(payload);
    let mut section = vec![0];
    section.extend(leb_bytes(contents.len()));
    section.extend(contents);
    section
}

fn leb_bytes(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}
