//! An identity token's header and payload may name each member once. RFC 7519
//! leaves duplicate names to the parser, and parsers differ (ours keeps the
//! last, others the first), so a signed payload with two `repository` members
//! could say one thing to the issuer and another to a rule: refusing them is
//! the safe reading. This walks the JSON once, at every depth, keeping nothing.

use std::collections::HashSet;
use std::fmt;

use base64::Engine;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Why a segment was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Strictness {
    /// Not base64url, or not JSON.
    Unreadable(String),
    /// An object names this member twice.
    Duplicate(String),
}

/// Checks the header and payload of a compact JWT: each base64url JSON with
/// no object naming a member twice.
pub fn check_token(token: &str) -> Result<(), Strictness> {
    let mut parts = token.split('.');
    for part in [parts.next(), parts.next()] {
        let part = part.ok_or_else(|| Strictness::Unreadable("fewer than three parts".into()))?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .map_err(|e| Strictness::Unreadable(e.to_string()))?;
        check_json(&bytes)?;
    }
    Ok(())
}

/// Checks one JSON text for objects that name a member twice.
pub fn check_json(bytes: &[u8]) -> Result<(), Strictness> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    Unique.deserialize(&mut de).map_err(|e| {
        let text = e.to_string();
        match text.strip_prefix(DUPLICATE) {
            Some(rest) => Strictness::Duplicate(rest.split(" at line").next().unwrap_or(rest).to_owned()),
            None => Strictness::Unreadable(text),
        }
    })?;
    de.end().map_err(|e| Strictness::Unreadable(e.to_string()))
}

const DUPLICATE: &str = "duplicate member ";

/// Any JSON value, refusing an object with a member named twice.
struct Unique;

impl<'de> DeserializeSeed<'de> for Unique {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Unique {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Unique)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                let shown: String = key.chars().take(64).collect();
                return Err(de::Error::custom(format_args!("{DUPLICATE}`{}`", shown.escape_debug())));
            }
            map.next_value_seed(Unique)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_named_twice_is_refused_at_any_depth() {
        assert_eq!(check_json(br#"{"a":1,"b":[{"c":2}]}"#), Ok(()));
        assert_eq!(
            check_json(br#"{"repository":"x","repository":"y"}"#),
            Err(Strictness::Duplicate("`repository`".into()))
        );
        assert!(matches!(check_json(br#"{"a":{"b":1,"b":2}}"#), Err(Strictness::Duplicate(_))));
        assert!(matches!(check_json(br#"[{"k":1,"k":1}]"#), Err(Strictness::Duplicate(_))));
        // Escapes spell the same name: still the same member.
        assert!(matches!(check_json(br#"{"sub":"a","\u0073ub":"b"}"#), Err(Strictness::Duplicate(_))));
        assert!(matches!(check_json(b"{\"a\":1} x"), Err(Strictness::Unreadable(_))));
        assert!(matches!(check_json(b"{\"a\":"), Err(Strictness::Unreadable(_))));
    }

    #[test]
    fn a_token_is_checked_header_and_payload() {
        let enc = |json: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        let good = format!("{}.{}.sig", enc(r#"{"alg":"ES256","kid":"k"}"#), enc(r#"{"sub":"a"}"#));
        assert_eq!(check_token(&good), Ok(()));
        let header = format!("{}.{}.sig", enc(r#"{"alg":"ES256","alg":"none"}"#), enc(r#"{"sub":"a"}"#));
        assert!(matches!(check_token(&header), Err(Strictness::Duplicate(_))));
        let payload = format!("{}.{}.sig", enc(r#"{"alg":"ES256"}"#), enc(r#"{"sub":"a","sub":"b"}"#));
        assert!(matches!(check_token(&payload), Err(Strictness::Duplicate(_))));
        assert!(matches!(check_token("only-one-part"), Err(Strictness::Unreadable(_))));
    }
}
