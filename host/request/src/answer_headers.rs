//! The headers a check answers with, one definition for the server's check
//! endpoint and the wasm gateway (the codes and their statuses are
//! `answer_code.rs`), and which client-sent headers are never passed on.

/// A deny's code.
pub const DENY_CODE_HEADER: &str = "x-tokenscope-deny-code";
/// The allowed token's id, for the upstream.
pub const TOKEN_ID_HEADER: &str = "x-tokenscope-token-id";
/// The allowed token's owner, for the upstream.
pub const OWNER_HEADER: &str = "x-tokenscope-owner";
/// The SHA-256 of the module that decided.
pub const POLICY_HEADER: &str = "x-tokenscope-policy";
/// The prefix of every header tokenscope sets; a gateway drops client-sent ones.
pub const HEADER_PREFIX: &str = "x-tokenscope-";

/// Whether a header named `name` is one tokenscope sets (`x-tokenscope-*`),
/// read the way CGI, WSGI, PHP and many frameworks read header names: without
/// case, and `_` taken for `-` (`X_Tokenscope_Owner` is `x-tokenscope-owner`
/// to them). A client-sent one is never passed on.
pub fn is_reserved_header(name: &str) -> bool {
    name.len() >= HEADER_PREFIX.len()
        && name.bytes().zip(HEADER_PREFIX.bytes()).all(|(got, want)| {
            let got = if got == b'_' { b'-' } else { got.to_ascii_lowercase() };
            got == want
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_headers_are_known_in_every_spelling_a_framework_folds_together() {
        for reserved in [
            "x-tokenscope-owner",
            "X-Tokenscope-Owner",
            "X_Tokenscope_Owner",
            "x_tokenscope_token_id",
            "X-TOKENSCOPE_owner",
            "x-tokenscope-",
        ] {
            assert!(is_reserved_header(reserved), "{reserved}");
        }
        for other in ["x-tokenscope", "x-token-scope-owner", "authorization", "xx-tokenscope-owner", ""] {
            assert!(!is_reserved_header(other), "{other}");
        }
    }
}
