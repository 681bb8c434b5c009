//! What a store adds to an audit event from what it wrote in the same
//! transaction: a new token's id and stored fields, a new principal's id, the
//! principal a sign-in link signed in, a prune's boundary, what a copy wrote.

use serde_json::{Value, json};

use super::snapshot::Snapshot;
use super::types::NewToken;
use crate::audit::{AuditActor, AuditEvent, ChainHash};
use crate::ids::{PrincipalId, TokenId};

/// `event` as the record of storing `token` as `id`: what it may do and until
/// when, never its secret or the secret's hash.
pub(crate) fn token_stored(event: &AuditEvent, id: TokenId, token: &NewToken) -> AuditEvent {
    let event = token_stored_template(event, token);
    let target = format!("{}{id}", event.target);
    event.with_target(target)
}

/// `token_stored` before the id is known: the target is `token/`, which the
/// store completes with the id in the statement that inserts the token.
pub(crate) fn token_stored_template(event: &AuditEvent, token: &NewToken) -> AuditEvent {
    let after = json!({
        "name": token.name,
        "description": token.description,
        "hint": token.hint,
        "grants": token.grants.items(),
        "expires_at": token.expires_at,
        "origin": token.origin,
    });
    event.clone().with_target("token/").with_owner(token.owner).with_change(None, Some(after))
}

/// `event` as the record of adding principal `id`.
pub(crate) fn principal_added(event: &AuditEvent, id: PrincipalId) -> AuditEvent {
    let mut event = event.clone().with_owner(id);
    if let Some(Value::Object(after)) = event.after.as_mut() {
        after.insert("id".into(), id.get().into());
    }
    event
}

/// `event` as the record of `name` (`id`) signing in with a link.
pub(crate) fn signed_in(event: &AuditEvent, id: PrincipalId, name: &str) -> AuditEvent {
    let mut event = event.clone().with_target(format!("principal/{name}")).with_owner(id);
    event.actor = AuditActor::Person { principal: id, name: name.to_owned() };
    event
}

/// `event` as the record of a prune that removed `removed` events, the last
/// of them `through`, whose hash was `hash`.
pub(crate) fn pruned(event: &AuditEvent, through: u64, hash: &ChainHash, removed: u64) -> AuditEvent {
    let after = json!({"through": through, "hash": hex::encode(hash), "removed": removed});
    event.clone().with_change(None, Some(after))
}

/// `event` as the record of writing `snapshot` into a store whose trail ended
/// at `replaced` (its seq and hash; 0 when it had none), which it replaced.
pub(crate) fn copied(event: &AuditEvent, snapshot: &Snapshot, replaced: (u64, ChainHash)) -> AuditEvent {
    let (principals, tokens, links) = snapshot.counts();
    let mut after = json!({
        "principals": principals,
        "tokens": tokens,
        "links": links,
        "events": snapshot.audit.len(),
    });
    if let (true, Some(after)) = (replaced.0 > 0, after.as_object_mut()) {
        after.insert("replaced_trail".into(), json!(format!("{}:{}", replaced.0, hex::encode(replaced.1))));
    }
    let mut merged = event.after.clone().unwrap_or_else(|| json!({}));
    if let (Value::Object(merged), Value::Object(after)) = (&mut merged, after) {
        merged.extend(after);
    }
    event.clone().with_change(None, Some(merged))
}
