//! The chain: an event's canonical JSON (sorted keys, no whitespace, its
//! `seq` included) and its hash, SHA-256 of the previous event's hash followed
//! by that JSON. The first event follows 32 zero bytes.

use sha2::{Digest, Sha256};

pub use super::event::ChainHash;
use super::event::{AuditEvent, AuditRow};

/// What the first event follows.
pub const GENESIS: ChainHash = [0; 32];

/// The canonical JSON of `event` at place `seq`: serde_json's `Value` keeps
/// object keys sorted and prints no whitespace, and events hold only strings,
/// integers, booleans and null, so this is the RFC 8785 form of the event.
pub fn canonical(seq: u64, event: &AuditEvent) -> Result<String, serde_json::Error> {
    let (before, after) = around_seq(event)?;
    Ok(format!("{before}{seq}{after}"))
}

/// The canonical JSON of `event` as the text before its sequence number and
/// the text after it, for a store that numbers the event itself (PostgreSQL
/// joins them around the number in the statement that appends it).
pub fn around_seq(event: &AuditEvent) -> Result<(String, String), serde_json::Error> {
    let value = serde_json::to_value(event)?;
    let fields = value.as_object().cloned().unwrap_or_default();
    let (mut before, mut after) = (Vec::new(), Vec::new());
    // The map is sorted: `seq` goes between the keys before it and those after.
    for (key, value) in &fields {
        let entry = format!("{}:{}", serde_json::to_string(key)?, serde_json::to_string(value)?);
        if key.as_str() < "seq" { before.push(entry) } else { after.push(entry) }
    }
    let lead = if before.is_empty() { "" } else { "," };
    let trail = if after.is_empty() { "" } else { "," };
    Ok((format!("{{{}{lead}\"seq\":", before.join(",")), format!("{trail}{}}}", after.join(","))))
}

/// The hash that follows `prev` for the event whose canonical JSON is `body`.
pub fn link(prev: &ChainHash, body: &str) -> ChainHash {
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update(body.as_bytes());
    hasher.finalize().into()
}

/// `event` as the row that follows `prev` at place `seq`.
pub fn seal(prev: ChainHash, seq: u64, event: &AuditEvent) -> Result<AuditRow, serde_json::Error> {
    let body = canonical(seq, event)?;
    Ok(AuditRow {
        seq,
        at: event.at,
        actor: event.actor.label(),
        actor_name: event.actor.principal_name().map(str::to_owned),
        action: event.action.clone(),
        target: event.target.clone(),
        owner: event.owner,
        hash: link(&prev, &body),
        body,
        prev,
    })
}

/// Reads `SEQ:HASH` (the hash in hex), as `audit anchor` prints it.
pub fn parse_anchor(text: &str) -> Result<(u64, ChainHash), String> {
    let (seq, hash) = text.split_once(':').ok_or_else(|| format!("`{text}` is not SEQ:HASH"))?;
    let seq = seq.parse().map_err(|_| format!("`{seq}` is not a sequence number"))?;
    let mut out = [0; 32];
    hex::decode_to_slice(hash, &mut out).map_err(|_| format!("`{hash}` is not 64 hex digits"))?;
    Ok((seq, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditActor;
    use crate::time::UnixTime;

    fn event() -> AuditEvent {
        AuditEvent::new(UnixTime::from_secs(7), "h1", AuditActor::system("test"), "token.create", "token/1")
            .with_change(None, Some(serde_json::json!({"name": "ci", "grants": ["a"], "expires_at": 9})))
    }

    #[test]
    fn the_canonical_form_sorts_keys_and_has_no_whitespace() {
        let body = canonical(3, &event()).unwrap();
        assert!(body.starts_with(r#"{"action":"token.create","actor":{"kind":"system","part":"test"},"after":{"#));
        assert!(body.contains(r#""after":{"expires_at":9,"grants":["a"],"name":"ci"}"#), "{body}");
        assert!(body.contains(r#""seq":3"#) && !body.contains(' '), "{body}");
        // Read back and printed again, it is the same text: the form is a fixed point.
        let again: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(serde_json::to_string(&again).unwrap(), body);
    }

    #[test]
    fn the_parts_around_seq_are_the_value_printed_with_seq() {
        for event in [event(), event().with_target("token/").refused("escalation")] {
            let mut value = serde_json::to_value(&event).unwrap();
            value.as_object_mut().unwrap().insert("seq".into(), 41.into());
            assert_eq!(canonical(41, &event).unwrap(), serde_json::to_string(&value).unwrap());
        }
        let (_, after) = around_seq(&event().with_target("token/")).unwrap();
        assert_eq!(after, r#","target":"token/"}"#, "the target is the last field");
    }

    #[test]
    fn each_link_covers_the_previous_hash_and_the_body() {
        let first = seal(GENESIS, 1, &event()).unwrap();
        let second = seal(first.hash, 2, &event()).unwrap();
        assert_ne!(first.hash, second.hash);
        assert_eq!(second.hash, link(&first.hash, &second.body));
        assert_ne!(seal(GENESIS, 2, &event()).unwrap().hash, second.hash, "the previous hash counts");
    }

    #[test]
    fn anchors_read_back() {
        let text = format!("12:{}", hex::encode([7u8; 32]));
        assert_eq!(parse_anchor(&text).unwrap(), (12, [7; 32]));
        for bad in ["12", "x:00", "12:zz", "12:00"] {
            assert!(parse_anchor(bad).is_err(), "{bad}");
        }
    }
}
