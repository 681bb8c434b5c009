//! How a check answers, one definition for the server's check endpoint and the
//! wasm gateway: the status by code (401 when the token is missing, malformed,
//! unknown, expired or revoked, 400 for a request with no canonical form, 503 when
//! the store or the policy failed, 502 when a gateway's upstream did, 403 for
//! every other deny) and the headers.

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

/// The status a check answers with for the deny code `code` (`allow` is 200).
pub fn check_status(code: &str) -> u16 {
    match code {
        "allow" => 200,
        "missing-token" | "malformed-token" | "unknown-token" | "expired" | "revoked" => 401,
        "bad-request" => 400,
        "store-unavailable" | "policy-fault" => 503,
        "upstream-unavailable" => 502,
        _ => 403,
    }
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

    #[test]
    fn token_problems_are_401_rights_are_403_failures_503() {
        assert_eq!(check_status("allow"), 200);
        assert_eq!(check_status("revoked"), 401);
        assert_eq!(check_status("unknown-token"), 401);
        assert_eq!(check_status("no-grant"), 403);
        assert_eq!(check_status("unmapped-route"), 403);
        assert_eq!(check_status("bad-request"), 400);
        assert_eq!(check_status("store-unavailable"), 503);
    }
}
