//! Why an identity token is refused, each with a stable code for the JSON
//! answer. Messages never quote the token.

use thiserror::Error;

/// A refused exchange.
#[derive(Debug, Error)]
pub enum OidcError {
    /// Longer than any real identity token: its length, and the most allowed.
    #[error("the identity token is {0} bytes long, more than the {1} allowed")]
    TooLarge(usize, usize),
    /// Not three base64url parts, or a header or payload that is not JSON.
    #[error("the identity token is not a well-formed JWT: {0}")]
    Malformed(String),
    /// `none`, an HMAC algorithm, or another one not accepted for identity tokens.
    #[error("identity tokens must be signed with RS256, ES256 or EdDSA, not {0}")]
    Algorithm(String),
    /// No key of the issuer has the token's `kid` (after a refresh, if one was allowed).
    #[error("the issuer has no key `{0}`")]
    UnknownKey(String),
    /// The signature does not verify with the issuer's key.
    #[error("the identity token's signature does not verify")]
    Signature,
    /// `iss` is not a configured issuer.
    #[error("the issuer `{0}` is not configured")]
    UnknownIssuer(String),
    /// `aud` does not contain the configured audience.
    #[error("the identity token is not for this audience (`aud` must contain `{0}`)")]
    Audience(String),
    /// `exp` has passed (beyond the leeway).
    #[error("the identity token has expired")]
    Expired,
    /// `nbf` or `iat` lies in the future (beyond the leeway).
    #[error("the identity token is not valid yet")]
    NotYetValid,
    /// A required claim is missing.
    #[error("the identity token has no `{0}` claim")]
    MissingClaim(String),
    /// A claim has the wrong type.
    #[error("the identity token's `{0}` claim has the wrong type")]
    ClaimType(String),
    /// The issuer's keys cannot be had (network, file, or a key set that is not JSON).
    #[error("the issuer's keys cannot be read: {0}")]
    Keys(String),
    /// No rule matches the identity.
    #[error("no rule matches this identity ({0})")]
    NoRule(String),
    /// The header or payload names a member twice (parsers disagree on which counts).
    #[error("the identity token names the member {0} twice; each member may appear once")]
    DuplicateMember(String),
}

/// Text from an identity token as a message or log line may quote it: at most
/// `max` characters, control characters escaped (a newline in `iss` cannot
/// start a forged log line).
pub fn shown(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars().take(max) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

impl OidcError {
    /// The stable code of the JSON answer.
    pub fn code(&self) -> &'static str {
        match self {
            OidcError::TooLarge(..) => "identity-token-too-large",
            OidcError::Malformed(_) => "malformed-identity-token",
            OidcError::Algorithm(_) => "unsupported-algorithm",
            OidcError::UnknownKey(_) => "unknown-key",
            OidcError::Signature => "bad-signature",
            OidcError::UnknownIssuer(_) => "unknown-issuer",
            OidcError::Audience(_) => "wrong-audience",
            OidcError::Expired => "identity-token-expired",
            OidcError::NotYetValid => "identity-token-not-yet-valid",
            OidcError::MissingClaim(_) => "missing-claim",
            OidcError::ClaimType(_) => "invalid-claim",
            OidcError::Keys(_) => "keys-unavailable",
            OidcError::NoRule(_) => "no-matching-rule",
            OidcError::DuplicateMember(_) => "duplicate-member",
        }
    }

    /// 503 when the issuer's keys cannot be had, 403 when no rule matches a
    /// valid identity, 401 for every flaw of the token itself.
    pub fn status(&self) -> u16 {
        match self {
            OidcError::Keys(_) => 503,
            OidcError::NoRule(_) => 403,
            _ => 401,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn quoted_token_text_is_bounded_and_cannot_break_a_line() {
        assert_eq!(shown("https://evil\n2026 INFO forged", 200), "https://evil\\n2026 INFO forged");
        assert_eq!(shown("naïve/é", 200), "naïve/é");
        assert_eq!(shown(&"x".repeat(500), 64).len(), 64);
    }
}
