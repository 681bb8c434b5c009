//! What a presented secret must look like, and the hash it is known by:
//! `tks_`, 27 base62 characters, then a 6-character base62 CRC32 of what precedes
//! it. A malformed or mistyped secret is refused by its shape alone, before any
//! lookup (by the host's store or a gateway's introspection call); only the
//! SHA-256 of a secret is ever stored or sent. Making secrets is the host's.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;

/// What every tokenscope secret starts with (secret scanners look for it).
pub const PREFIX: &str = "tks_";
/// The characters of a secret's body and checksum.
pub const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Random characters: 27 × log2(62) = 160.8 bits.
pub const RANDOM_LEN: usize = 27;
/// The checksum's characters at the end.
pub const CHECKSUM_LEN: usize = 6;
/// The length of every secret.
pub const SECRET_LEN: usize = PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;

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

/// The SHA-256 of a secret: what a store keeps and looks up by.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretHash(pub [u8; 32]);

impl SecretHash {
    /// The hash of a presented secret whose shape is right, without keeping a copy of it.
    pub fn of_presented(text: &str) -> Result<SecretHash, SecretError> {
        check_shape(text)?;
        Ok(SecretHash::of(text))
    }

    /// The hash of `text`, shape unchecked (for secrets this process made).
    pub fn of(text: &str) -> SecretHash {
        SecretHash(Sha256::digest(text.as_bytes()).into())
    }

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
        let [a, b, ..] = self.0;
        write!(f, "SecretHash({a:02x}{b:02x}…)")
    }
}

/// Prefix, length, alphabet and checksum of a presented secret.
pub fn check_shape(text: &str) -> Result<(), SecretError> {
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
pub fn checksum(text: &str) -> [u8; CHECKSUM_LEN] {
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

    /// A well-formed secret: `body` padded with `A` to the random length, and its checksum.
    fn secret(body: &str) -> String {
        let mut text = format!("{PREFIX}{body:A<RANDOM_LEN$}");
        text.push_str(&String::from_utf8_lossy(&checksum(&text)));
        text
    }

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
    fn malformed_secrets_are_refused_by_shape() {
        let text = secret("Zq9");
        assert_eq!(check_shape(&text), Ok(()));
        assert_eq!(SecretHash::of_presented(&text), Ok(SecretHash::of(&text)));
        assert_eq!(check_shape(&text.replacen("tks_", "tkx_", 1)), Err(SecretError::Prefix));
        assert_eq!(check_shape(&text[..SECRET_LEN - 1]), Err(SecretError::Length));
        assert_eq!(check_shape(&format!("{text}A")), Err(SecretError::Length));
        let mut bad = text.clone();
        bad.replace_range(10..11, "-");
        assert_eq!(check_shape(&bad), Err(SecretError::Charset));
        // One changed character breaks the checksum.
        let mut typo = text.clone();
        typo.replace_range(5..6, "b");
        assert_eq!(check_shape(&typo), Err(SecretError::Checksum));
        assert_eq!(check_shape(""), Err(SecretError::Prefix));
        assert_eq!(check_shape("tks_é"), Err(SecretError::Length));
    }

    #[test]
    fn debug_shows_two_bytes_of_a_hash() {
        assert_eq!(format!("{:?}", SecretHash([0xab; 32])), "SecretHash(abab…)");
    }
}
