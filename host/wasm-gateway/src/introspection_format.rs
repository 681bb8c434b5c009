//! What `tokenscope serve` answers a gateway, one definition for both sides:
//! `POST /v1/introspect` (a token's data by its secret's SHA-256) and
//! `GET /v1/revocations` (the change feed that says which answers to drop).

use serde::{Deserialize, Serialize};

/// The introspection endpoint's path.
pub const INTROSPECT_PATH: &str = "/v1/introspect";
/// The change feed's path.
pub const REVOCATIONS_PATH: &str = "/v1/revocations";

/// A token's grants as text: scope strings, or `RESOURCE=ACCESS` grants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "items", rename_all = "lowercase")]
pub enum WireGrants {
    /// Scope strings.
    Scopes(Vec<String>),
    /// `RESOURCE=ACCESS` texts.
    Resources(Vec<String>),
}

/// A stored token as a gateway needs it to decide (no secret, no hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenData {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its owner's name.
    pub owner: String,
    /// Its normalised grants.
    pub grants: WireGrants,
    /// What its owner holds now, as `RESOURCE=ACCESS` texts.
    pub owner_rights: Vec<String>,
    /// Unix seconds after which it is dead; none for no expiry.
    pub expires_at: Option<u64>,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// `POST /v1/introspect`'s answer: `{"found": false}` or the token's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Introspection {
    /// Whether a stored token has this hash.
    pub found: bool,
    /// Its data, when found.
    #[serde(flatten)]
    pub token: Option<TokenData>,
}

/// One read of `GET /v1/revocations`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedPage {
    /// Where the next read starts.
    pub cursor: u64,
    /// SHA-256 (hex) of tokens whose answers are stale.
    pub tokens: Vec<String>,
    /// Names of principals whose tokens' answers are stale.
    pub principals: Vec<String>,
    /// More changes follow after `cursor`.
    pub more: bool,
    /// Changes were dropped from the feed: drop every answer.
    pub reset: bool,
    /// A digest of what else gives owners rights (the server's role
    /// definitions): when it changes, every answer's owner rights may be stale.
    #[serde(default)]
    pub rights_epoch: String,
}

/// How long an answer may be kept, from its `Cache-Control` value: `max-age=N`
/// in milliseconds; 0 (keep nothing) when absent, unreadable, or `no-store`/`no-cache`.
pub fn max_age_ms(cache_control: &str) -> u64 {
    let mut age = None;
    for directive in cache_control.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return 0;
        }
        if let Some(value) = lower.strip_prefix("max-age=") {
            age = value.parse::<u64>().ok();
        }
    }
    age.map_or(0, |secs| secs.saturating_mul(1_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_cache_control_and_missing_means_keep_nothing() {
        assert_eq!(max_age_ms("private, max-age=30"), 30_000);
        assert_eq!(max_age_ms("MAX-AGE=5"), 5_000);
        assert_eq!(max_age_ms("no-store, max-age=30"), 0);
        assert_eq!(max_age_ms("private"), 0);
        assert_eq!(max_age_ms("max-age=-1"), 0);
        assert_eq!(max_age_ms("max-age=99999999999999999999"), 0);
    }

    #[test]
    fn an_answer_reads_back_found_or_not() {
        let none: Introspection = serde_json::from_str(r#"{"found": false}"#).unwrap();
        assert_eq!(none, Introspection { found: false, token: None });
        let data = TokenData {
            id: 7,
            name: "ci".into(),
            owner: "alice".into(),
            grants: WireGrants::Scopes(vec!["artifact:download".into()]),
            owner_rights: vec!["channel/main=read".into()],
            expires_at: Some(1_900_000_000),
            revoked: false,
        };
        let text = serde_json::to_string(&Introspection { found: true, token: Some(data.clone()) }).unwrap();
        assert!(text.contains(r#""grants":{"kind":"scopes","items":["artifact:download"]}"#), "{text}");
        let back: Introspection = serde_json::from_str(&text).unwrap();
        assert_eq!(back.token, Some(data));
    }
}
