//! Token secrets: the prefix `tks_`, then 27 base62 characters drawn from the OS
//! RNG (160.8 bits), then a 6-character base62 CRC32 of what precedes it. A
//! malformed or mistyped secret is refused by its shape alone, before any store
//! lookup, and secret scanners can find leaked ones by prefix and checksum. Only
//! the SHA-256 of a secret is ever stored; `Secret` never prints its value.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;
pub use tokenscope_request::Presented;

/// What every tokenscope secret starts with (secret scanners look for it).
pub const PREFIX: &str = "tks_";
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Random characters: 27 × log2(62) = 160.8 bits.
const RANDOM_LEN: usize = 27;
const CHECKSUM_LEN: usize = 6;
/// The length of every secret.
pub const SECRET_LEN: usize = PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;
/// How many characters of a secret (after the prefix) a hint shows.
const HINT_LEN: usize = 4;

/// A token secret. Its `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// The SHA-256 of a secret: what the store keeps and looks up by.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretHash(pub [u8; 32]);

/// Why a presented secret was refused without a lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum SecretError {
    /// It does not start with the prefix.
    #[error("the token does not start with `{PREFIX}`")]
    Prefix,
    /// It is not the fixed length.
    #[error("the token has the wrong length (a tokenscope token has {SECRET_LEN} characters)")]
    Length,
    /// It has a character outside base62.
    #[error("the token has characters outside base62")]
    Charset,
    /// Its checksum does not match (a typo or a truncation).
    #[error("the token's checksum does not match (mistyped or truncated)")]
    Checksum,
}

/// The OS random number generator failed, so no secret could be made.
#[derive(Clone, Copy, Debug, Error)]
#[error("the OS random number generator failed: {0}")]
pub struct RngError(getrandom::Error);

impl Secret {
    /// A new secret from the OS RNG.
    pub fn generate() -> Result<Secret, RngError> {
        let mut out = String::with_capacity(SECRET_LEN);
        out.push_str(PREFIX);
        let mut buf = [0u8; 64];
        while out.len() < PREFIX.len() + RANDOM_LEN {
            getrandom::fill(&mut buf).map_err(RngError)?;
            // Rejection sampling keeps every character uniform: 248 = 4 × 62.
            for byte in buf.iter().filter(|b| **b < 248) {
                if out.len() == PREFIX.len() + RANDOM_LEN {
                    break;
                }
                if let Some(c) = ALPHABET.get(usize::from(*byte % 62)) {
                    out.push(char::from(*c));
                }
            }
        }
        let checksum = checksum(&out);
        out.push_str(&String::from_utf8_lossy(&checksum));
        Ok(Secret(out))
    }

    /// Checks a presented secret's shape: prefix, length, alphabet, checksum.
    pub fn parse(text: &str) -> Result<Secret, SecretError> {
        check_shape(text)?;
        Ok(Secret(text.to_owned()))
    }

    /// The hash of a presented secret whose shape is right, without keeping a
    /// copy of it (the verify path).
    pub fn hash_of(text: &str) -> Result<SecretHash, SecretError> {
        check_shape(text)?;
        Ok(SecretHash(Sha256::digest(text.as_bytes()).into()))
    }

    /// The value, for showing once to the person who created the token.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The SHA-256 the store keeps and looks up by.
    pub fn hash(&self) -> SecretHash {
        SecretHash(Sha256::digest(self.0.as_bytes()).into())
    }

    /// `tks_AbC1…`: enough to tell tokens apart in a list, too little to use.
    pub fn hint(&self) -> String {
        let shown = self.0.get(..PREFIX.len() + HINT_LEN).unwrap_or(PREFIX);
        format!("{shown}…")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({}, redacted)", self.hint())
    }
}

impl SecretHash {
    /// A hash written as 64 hex digits (either case); `None` for anything else.
    pub fn from_hex(text: &str) -> Option<SecretHash> {
        let mut hash = [0u8; 32];
        hex::decode_to_slice(text, &mut hash).ok()?;
        Some(SecretHash(hash))
    }

    /// The hash as 64 lowercase hex digits (it is no secret: the store keeps it).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Constant-time equality, for comparing a computed hash with a stored one.
    pub fn matches(&self, other: &SecretHash) -> bool {
        self.0.ct_eq(&other.0).unwrap_u8() == 1
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretHash({:02x}{:02x}…)", self.0[0], self.0[1])
    }
}

/// Prefix, length, alphabet and checksum of a presented secret.
fn check_shape(text: &str) -> Result<(), SecretError> {
    let body = text.strip_prefix(PREFIX).ok_or(SecretError::Prefix)?;
    if text.len() != SECRET_LEN {
        return Err(SecretError::Length);
    }
    if !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(SecretError::Charset);
    }
    let (signed, sum) = text.split_at(SECRET_LEN - CHECKSUM_LEN);
    if checksum(signed).ct_eq(sum.as_bytes()).unwrap_u8() != 1 {
        return Err(SecretError::Checksum);
    }
    Ok(())
}

/// CRC32 of `text` as 6 base62 digits.
fn checksum(text: &str) -> [u8; CHECKSUM_LEN] {
    let mut value = crc32fast::hash(text.as_bytes());
    let mut digits = [b'0'; CHECKSUM_LEN];
    for slot in digits.iter_mut().rev() {
        if let Some(c) = ALPHABET.get((value % 62) as usize) {
            *slot = *c;
        }
        value /= 62;
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_64_hex_digits_both_ways() {
        let hash = SecretHash([0xab; 32]);
        assert_eq!(SecretHash::from_hex(&hash.to_hex()).map(|h| h.0), Some(hash.0));
        assert_eq!(SecretHash::from_hex(&"AB".repeat(32)).map(|h| h.0), Some(hash.0));
        for bad in ["", "ab", &"zz".repeat(32), &"a".repeat(63), &"ab".repeat(33), &"é".repeat(32)] {
            assert!(SecretHash::from_hex(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn generated_secrets_parse_and_differ() {
        let a = Secret::generate().unwrap();
        let b = Secret::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), SECRET_LEN);
        assert_eq!(Secret::parse(a.expose()), Ok(a.clone()));
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn malformed_secrets_are_refused_by_shape() {
        let good = Secret::generate().unwrap();
        let text = good.expose();
        assert_eq!(Secret::parse(&text.replacen("tks_", "tkx_", 1)), Err(SecretError::Prefix));
        assert_eq!(Secret::parse(&text[..SECRET_LEN - 1]), Err(SecretError::Length));
        assert_eq!(Secret::parse(&format!("{text}A")), Err(SecretError::Length));
        let mut bad = text.to_owned();
        bad.replace_range(10..11, "-");
        assert_eq!(Secret::parse(&bad), Err(SecretError::Charset));
        // One changed character breaks the checksum.
        let mut typo = text.to_owned();
        let c = if &text[10..11] == "a" { "b" } else { "a" };
        typo.replace_range(10..11, c);
        assert_eq!(Secret::parse(&typo), Err(SecretError::Checksum));
        assert_eq!(Secret::parse(""), Err(SecretError::Prefix));
        assert_eq!(Secret::parse("tks_é"), Err(SecretError::Length));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = Secret::generate().unwrap();
        let shown = format!("{secret:?} {:?} {:?}", secret.hash(), Presented::new(secret.expose()));
        assert!(!shown.contains(&secret.expose()[PREFIX.len() + HINT_LEN..]), "{shown}");
    }
}
