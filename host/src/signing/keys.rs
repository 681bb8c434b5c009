//! Ed25519 keys for module signatures, in every form `wasmsign2` reads (PEM as
//! `openssl genpkey -algorithm ed25519` writes it, DER, OpenSSH, its own raw
//! form), and the key id a signature names (wasmsign2's default: 12 bytes of
//! HMAC-SHA-256 of the public key, shown as hex).

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use wasmsign2::{PublicKey, SecretKey};

/// The key id `wasmsign2` attaches to a signature by `pk`, in hex.
pub fn key_id(pk: &PublicKey) -> String {
    let with_id = PublicKey { pk: pk.pk, key_id: None }.attach_default_key_id();
    with_id.key_id().map(hex::encode).unwrap_or_default()
}

/// One public key a host trusts to sign its policy modules.
#[derive(Clone, Debug)]
pub struct TrustedKey {
    /// Its key id (hex).
    pub id: String,
    /// The file it was read from.
    pub path: PathBuf,
    pub(super) key: PublicKey,
}

/// The keys of `[policy.trust]`: a module goes live only when one of them signed it.
#[derive(Clone, Debug)]
pub struct TrustedKeys {
    keys: Vec<TrustedKey>,
}

impl TrustedKeys {
    /// Reads every key in `paths`; none may be missing, unreadable, not an
    /// Ed25519 public key, or the same key twice, and there must be at least one.
    pub fn load(paths: &[PathBuf]) -> Result<TrustedKeys> {
        if paths.is_empty() {
            bail!(
                "policy.trust names no keys: a trust table that trusts no key would refuse every module (remove the table to run unsigned modules)"
            );
        }
        let mut keys: Vec<TrustedKey> = Vec::with_capacity(paths.len());
        for path in paths {
            let key = read_public(path)?;
            let id = key_id(&key);
            if let Some(earlier) = keys.iter().find(|k| k.key == key) {
                bail!("policy.trust names key {id} twice: `{}` and `{}`", earlier.path.display(), path.display());
            }
            keys.push(TrustedKey { id, path: path.clone(), key });
        }
        Ok(TrustedKeys { keys })
    }

    /// The keys, in the order configured.
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    /// The key ids, in the order configured.
    pub fn ids(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.id.clone()).collect()
    }
}

/// The most a key file may hold: an Ed25519 key in any form is a few hundred bytes.
const MAX_KEY_FILE: u64 = 64 << 10;

/// The bytes of key file `path` (`what`: public or private), at most `MAX_KEY_FILE`
/// of them, so a path such as `/dev/zero` is refused, not read without end.
fn read_key_file(path: &Path, what: &str) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).with_context(|| format!("failed to read {what} key `{}`", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("failed to read {what} key `{}`", path.display()))?;
    if bytes.len() as u64 > MAX_KEY_FILE {
        bail!("`{}` is over {MAX_KEY_FILE} bytes: not a {what} key file", path.display());
    }
    Ok(bytes)
}

/// A public key from `path`, in any form wasmsign2 reads.
fn read_public(path: &Path) -> Result<PublicKey> {
    let bytes = read_key_file(path, "public")?;
    PublicKey::from_any(&bytes).map(|pk| PublicKey { pk: pk.pk, key_id: None }).map_err(|_| {
        anyhow::anyhow!("`{}` is not an Ed25519 public key (PEM, DER, OpenSSH or wasmsign2's raw form)", path.display())
    })
}

/// A private key a policy author signs with.
pub struct SigningKey {
    pub(super) secret: SecretKey,
    pub(super) public: PublicKey,
}

impl SigningKey {
    /// Reads a private key from `path`, in any form wasmsign2 reads.
    pub fn read(path: &Path) -> Result<SigningKey> {
        let bytes = read_key_file(path, "private")?;
        let secret = SecretKey::from_any(&bytes).map_err(|_| {
            anyhow::anyhow!(
                "`{}` is not an Ed25519 private key (PEM, DER, OpenSSH or wasmsign2's raw form)",
                path.display()
            )
        })?;
        let public = PublicKey { pk: secret.sk.public_key(), key_id: None };
        Ok(SigningKey { secret, public })
    }

    /// The id of its public key.
    pub fn id(&self) -> String {
        key_id(&self.public)
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        write!(f, "SigningKey {{ id: {} }}", self.id())
    }
}
