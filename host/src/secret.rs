//! Token secrets as the host makes and shows them: 27 base62 characters from
//! the OS RNG (160.8 bits) after `tks_`, then the checksum. Their shape and their
//! SHA-256 are `tokenscope-request`'s (the gateway checks them the same way);
//! `Secret` never prints its value.

use std::fmt;

use thiserror::Error;
pub use tokenscope_request::{
    ALPHABET, CHECKSUM_LEN, PREFIX, Presented, SECRET_LEN, SecretError, SecretHash, check_shape,
};
use tokenscope_request::{RANDOM_LEN, checksum};

/// How many characters of a secret (after the prefix) a hint shows.
const HINT_LEN: usize = 4;

/// A token secret. Its `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

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
        SecretHash::of_presented(text)
    }

    /// The value, for showing once to the person who created the token.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The SHA-256 the store keeps and looks up by.
    pub fn hash(&self) -> SecretHash {
        SecretHash::of(&self.0)
    }

    /// `tks_AbC1…`: enough to tell tokens apart in a list, too little to use.
    pub fn hint(&self) -> String {
        hint_of(&self.0)
    }
}

/// `tks_AbC1…` of any secret's text: what a list, a log line or a leak finding shows.
pub fn hint_of(secret: &str) -> String {
    let shown = secret.get(..PREFIX.len() + HINT_LEN).unwrap_or(PREFIX);
    format!("{shown}…")
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({}, redacted)", self.hint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
