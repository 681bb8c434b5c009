//! The audit trail from the authority's side: who acted (the actor resolved to
//! names, never a secret) and from where, the event each operation hands the
//! store to write with its change, refused attempts recorded on their own,
//! reading the trail (filtered, or an owner's own events), verifying and pruning it.

use serde_json::{Value, json};

use super::ceiling::{Actor, Ceiling};
use super::{Authority, LifecycleError};
use crate::audit::{
    AuditActor, AuditEvent, AuditQuery, AuditRow, Broken, ChainHash, Client, PRUNE_ACTION, Refusal, Verified, Walk,
};
use crate::store::{PrincipalId, Store, StoreError, TokenRecord};
use crate::time::UnixTime;

/// How many events `verify` reads at a time.
const PAGE: usize = 1000;

/// Who performs an operation, and where the request came from when one did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acted {
    /// Who.
    pub actor: Actor,
    /// From where (the HTTP front ends say).
    pub client: Option<Client>,
}

impl From<Actor> for Acted {
    fn from(actor: Actor) -> Acted {
        Acted { actor, client: None }
    }
}

impl Actor {
    /// This actor, acting through a request from `client`.
    pub fn from_client(self, client: Option<Client>) -> Acted {
        Acted { actor: self, client }
    }
}

/// Why the trail does not verify, or that the store could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AuditCheckError {
    /// The chain is broken at the event named.
    #[error("{0}")]
    Broken(Broken),
    /// The store could not be read.
    #[error("the audit trail could not be read: {0}")]
    Store(#[from] StoreError),
}

/// Walks the chain of `store` (all of it, from event `from`, or from
/// `anchor`) and names the first event edited, removed or reordered; events
/// appended while it walks lie beyond the head it read first.
pub fn verify_trail(
    store: &dyn Store,
    from: Option<u64>,
    anchor: Option<(u64, ChainHash)>,
) -> Result<Verified, AuditCheckError> {
    let head = store.audit_head()?;
    let mut walk = Walk::new(from, anchor);
    let mut after = walk.start_after();
    loop {
        let rows = store.audit_rows(after, PAGE)?;
        for row in rows.iter().take_while(|r| r.seq <= head.0) {
            walk.step(row).map_err(AuditCheckError::Broken)?;
        }
        match rows.last() {
            Some(last) if rows.len() == PAGE && last.seq < head.0 => after = last.seq,
            _ => break,
        }
    }
    walk.finish(head).map_err(AuditCheckError::Broken)
}

/// The refusal code a failed operation is recorded with; `None` for failures
/// that are not a refusal (the store, the RNG), which record nothing.
pub(super) fn refusal_of(err: &LifecycleError) -> Option<String> {
    match err {
        LifecycleError::Refused { code, .. } => Some(code.as_str().to_owned()),
        LifecycleError::NotFound(_) => Some("not-found".into()),
        LifecycleError::Invalid(_) => Some("invalid".into()),
        LifecycleError::Conflict(_) => Some("conflict".into()),
        LifecycleError::Store(_) | LifecycleError::Rng(_) | LifecycleError::Rights(_) => None,
    }
}

/// A token's fields an event shows (never its secret or the secret's hash).
pub(super) fn token_fields(record: &TokenRecord) -> Value {
    json!({
        "name": record.name,
        "description": record.description,
        "hint": record.hint,
        "grants": record.grants.items(),
        "expires_at": record.expires_at,
        "revoked_at": record.revoked_at,
    })
}

impl Authority {
    /// The actor as an event names it: resolved from the ceiling when there
    /// is one, otherwise read from the store (a gone actor keeps its id).
    pub(super) fn audit_actor(&self, by: &Acted, ceiling: Option<&Ceiling>) -> AuditActor {
        let acting = ceiling.and_then(|c| c.acting.as_ref()).map(|a| (a.principal.id, a.principal.name.clone()));
        match by.actor {
            Actor::Operator => AuditActor::operator(),
            Actor::Exchange => AuditActor::system("oidc-exchange"),
            Actor::Person(id) => {
                let name = acting.map(|(_, name)| name).or_else(|| self.name_of(id)).unwrap_or_default();
                AuditActor::Person { principal: id, name }
            }
            Actor::Token(token) => {
                let (principal, name) = acting
                    .or_else(|| {
                        let record = self.store.token(token).ok().flatten()?;
                        Some((record.owner, record.owner_name))
                    })
                    .unwrap_or((PrincipalId::new(0), String::new()));
                AuditActor::Token { token, principal, name }
            }
        }
    }

    fn name_of(&self, id: PrincipalId) -> Option<String> {
        self.store.principal_by_id(id).ok().flatten().map(|p| p.name)
    }

    /// The event of `by` doing `action` to `target` now, on this host.
    pub(super) fn event(&self, by: &Acted, ceiling: Option<&Ceiling>, action: &str, target: String) -> AuditEvent {
        AuditEvent::new(self.now(), &self.host, self.audit_actor(by, ceiling), action, target)
            .with_client(by.client.clone())
    }

    /// The event of `by` doing `action` to `target` now, for front ends that
    /// hand it to an operation (a policy load, a fleet publish).
    pub fn event_by(&self, by: &Acted, action: &str, target: &str) -> AuditEvent {
        self.event(by, None, action, target.to_owned())
    }

    /// An event of the host itself (`part`: the expiry notifier, retention, the policy watch...).
    pub fn system_event(&self, part: &str, action: &str, target: String) -> AuditEvent {
        AuditEvent::new(self.now(), &self.host, AuditActor::system(part), action, target)
    }

    /// `result` as it is; when it is a refusal, the attempt is recorded first
    /// (a failure to record it is logged: the operation is refused anyway).
    pub(super) fn noted<T>(
        &self,
        by: &Acted,
        action: &str,
        target: String,
        owner: Option<PrincipalId>,
        result: Result<T, LifecycleError>,
    ) -> Result<T, LifecycleError> {
        if let Err(err) = &result
            && let Some(code) = refusal_of(err)
        {
            let mut event = self.event(by, None, action, target).refused(&code);
            event.owner = owner;
            self.record_refusal(event);
        }
        result
    }

    /// Appends `event`, which records no change of its own (a refused
    /// attempt, a sign-out); a failure is logged, never shown to the caller.
    pub fn record_event(&self, event: &AuditEvent) {
        if let Err(err) = self.store.append_audit(event) {
            tracing::error!(action = %event.action, target = %event.target, "the audit trail did not take an event: {err}");
        }
    }

    /// Records that the token whose secret is `secret` was refused `action`
    /// (with the check's `code`) before any operation ran; an unknown secret
    /// names no one and is not recorded.
    pub fn record_denied(&self, secret: &str, action: &str, code: &str, client: Option<Client>) {
        let Ok(hash) = crate::secret::Secret::hash_of(secret) else { return };
        let Ok(Some(token)) = self.store.token_by_hash(&hash) else { return };
        let actor = AuditActor::Token { token: token.id, principal: token.owner, name: token.owner_name.clone() };
        let event = AuditEvent::new(self.now(), &self.host, actor, "access.denied", format!("token/{}", token.id))
            .with_owner(token.owner)
            .with_client(client)
            .with_change(None, Some(json!({"action": action})))
            .refused(code);
        self.record_refusal(event);
    }

    /// Appends a refused attempt within its actor's budget
    /// (`audit.refusals_per_minute`); past it the attempt is counted, and the
    /// actor's next recorded refusal carries `unrecorded_refusals` in `after`.
    fn record_refusal(&self, mut event: AuditEvent) {
        match self.refusals.admit(&event.actor.label()) {
            Refusal::Record { unrecorded: 0 } => {}
            Refusal::Record { unrecorded } => {
                let mut after = match event.after.take() {
                    Some(Value::Object(fields)) => fields,
                    _ => serde_json::Map::new(),
                };
                after.insert("unrecorded_refusals".into(), json!(unrecorded));
                event.after = Some(Value::Object(after));
            }
            Refusal::Count { first } => {
                if first {
                    tracing::warn!(
                        actor = %event.actor.label(),
                        "refused attempts past audit.refusals_per_minute are counted, not recorded, until the budget refills"
                    );
                }
                return;
            }
        }
        self.record_event(&event);
    }

    /// Records that `by` signed out of the token page.
    pub fn record_sign_out(&self, by: &Acted) {
        let mut event = self.event(by, None, "session.sign-out", String::new());
        if let AuditActor::Person { principal, name } | AuditActor::Token { principal, name, .. } = &event.actor {
            event.target = format!("principal/{name}");
            event.owner = Some(*principal);
        }
        self.record_event(&event);
    }

    /// The events `query` asks for, oldest first.
    pub fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditRow>, StoreError> {
        self.store.audit_events(query)
    }

    /// The chain's head: its last event's sequence number and hash.
    pub fn audit_head(&self) -> Result<(u64, ChainHash), StoreError> {
        self.store.audit_head()
    }

    /// Walks the chain (all of it, from event `from`, or from `anchor`) and
    /// names the first event edited, removed or reordered.
    pub fn verify_audit(
        &self,
        from: Option<u64>,
        anchor: Option<(u64, ChainHash)>,
    ) -> Result<Verified, AuditCheckError> {
        verify_trail(self.store.as_ref(), from, anchor)
    }

    /// Removes the events older than `audit.retain`, leaving a prune event
    /// that records where they ended: how many were removed.
    pub fn prune_audit(&self) -> Result<u64, StoreError> {
        let before = UnixTime::from_secs(self.now().secs().saturating_sub(self.config.audit.retain.as_secs()));
        let event = self.system_event("retention", PRUNE_ACTION, "audit".into());
        self.store.prune_audit(before, &event)
    }

    /// Prunes the trail every `audit.prune_every` until the handle is aborted.
    pub fn spawn_audit_pruner(self: &std::sync::Arc<Self>) -> tokio::task::JoinHandle<()> {
        let authority = std::sync::Arc::clone(self);
        crate::periodic::spawn_periodic("audit prune", self.config.audit.prune_every, move || {
            let removed = authority.prune_audit()?;
            if removed > 0 {
                tracing::info!(removed, "audit events past audit.retain pruned");
            }
            Ok(())
        })
    }
}
