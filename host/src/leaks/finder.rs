//! Finds well-formed tokenscope secrets in bytes: the prefix at a word boundary,
//! exactly the secret's length of base62 after it and a boundary again, and a
//! checksum that matches. Lookalikes (`tks_` in prose, truncated or mistyped
//! secrets, longer runs) are not secrets and are not found.

use memchr::memmem;

use crate::secret::{PREFIX, SECRET_LEN, check_shape, hint_of};

/// One secret in a haystack: where it starts and its text. Its `Debug` form
/// shows the secret's hint only.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Spotted<'a> {
    /// The byte offset of its first character.
    pub offset: usize,
    /// The secret.
    pub secret: &'a str,
}

impl std::fmt::Debug for Spotted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spotted").field("offset", &self.offset).field("secret", &hint_of(self.secret)).finish()
    }
}

/// A byte that continues a word (`[A-Za-z0-9_]`): a secret may not touch one.
fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Every well-formed secret in `haystack`, in order.
pub fn spot(haystack: &[u8]) -> impl Iterator<Item = Spotted<'_>> {
    memmem::find_iter(haystack, PREFIX.as_bytes()).filter_map(move |offset| {
        if offset.checked_sub(1).and_then(|before| haystack.get(before)).copied().is_some_and(is_word) {
            return None;
        }
        let candidate = haystack.get(offset..offset.checked_add(SECRET_LEN)?)?;
        if haystack.get(offset + SECRET_LEN).copied().is_some_and(is_word) {
            return None;
        }
        let secret = std::str::from_utf8(candidate).ok()?;
        check_shape(secret).ok()?;
        Some(Spotted { offset, secret })
    })
}

/// How many bytes before a chunk's end must be seen again at the start of the
/// next, so that a secret split between the two is found whole (its length and
/// the byte before it).
pub const OVERLAP: usize = SECRET_LEN + 1;

/// The regular expression of a secret's shape, with ASCII word boundaries, for
/// tools without lookaround (RE2, `grep -E`, `rg`): the checksum is not in it.
pub fn pattern() -> String {
    format!(r"\b{PREFIX}[0-9A-Za-z]{{{}}}\b", SECRET_LEN - PREFIX.len())
}

/// The same with explicit lookaround (JavaScript, Python), the secret as group 1.
pub fn pattern_with_lookaround() -> String {
    format!(r"(?<![A-Za-z0-9_])({PREFIX}[0-9A-Za-z]{{{}}})(?![A-Za-z0-9_])", SECRET_LEN - PREFIX.len())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::secret::Secret;

    fn found(text: &str) -> Vec<&str> {
        spot(text.as_bytes()).map(|s| s.secret).collect()
    }

    #[test]
    fn finds_real_secrets_and_nothing_that_only_looks_like_one() {
        let a = Secret::generate().unwrap();
        let a = a.expose();
        let b = Secret::generate().unwrap();
        let b = b.expose();
        let mut broken = a.to_owned();
        broken.replace_range(10..11, if &a[10..11] == "x" { "y" } else { "x" });
        let text = format!(
            "token = \"{a}\"\nthe tks_ prefix in prose, tks_short, {broken}\n{}\nx{a} {a}x _{a} {a}_\n({b})",
            &a[..SECRET_LEN - 1]
        );
        assert_eq!(found(&text), [a, b]);
        assert_eq!(found(a), [a]);
        assert_eq!(spot(format!("é{a}").as_bytes()).map(|s| s.offset).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn the_patterns_say_the_same_shape() {
        assert_eq!(pattern(), r"\btks_[0-9A-Za-z]{33}\b");
        assert_eq!(pattern_with_lookaround(), r"(?<![A-Za-z0-9_])(tks_[0-9A-Za-z]{33})(?![A-Za-z0-9_])");
    }

    proptest! {
        /// Whatever surrounds it, a planted secret is found exactly when no word
        /// character touches it, and nothing else is ever found.
        #[test]
        fn planted_secrets_are_found_and_noise_is_not(before in ".{0,40}", after in ".{0,40}") {
            let secret = Secret::generate().unwrap();
            let text = format!("{before}{}{after}", secret.expose());
            let touches = before.bytes().last().is_some_and(is_word) || after.bytes().next().is_some_and(is_word);
            let spotted: Vec<_> = spot(text.as_bytes()).collect();
            for s in &spotted {
                prop_assert!(check_shape(s.secret).is_ok());
            }
            let planted = spotted.iter().any(|s| s.offset == before.len() && s.secret == secret.expose());
            prop_assert_eq!(planted, !touches);
        }
    }
}
