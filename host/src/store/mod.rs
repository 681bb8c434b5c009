//! Where tokens and principals live. The verify path and the lifecycle commands
//! speak only to the `Store` trait, whose backends are the embedded SQLite file
//! and a PostgreSQL database shared by a fleet. Only secret hashes are stored.

mod audited;
mod error;
mod fleet;
mod location;
mod migrations;
mod postgres;
mod snapshot;
mod sqlite;
mod types;

pub use error::{Cause, StoreError};
pub use fleet::{Desired, Fleet, FleetHost, HostBeat, Published, RolledBack};
pub use location::{LocationError, StoreLocation, open, open_existing, open_existing_with, open_with};
pub use postgres::{DEFAULT_OP_TIMEOUT, DEFAULT_POOL_SIZE, PgOptions, PgStore};
pub use snapshot::{Snapshot, StoredLink, StoredToken};
pub use sqlite::SqliteStore;
pub use types::{
    Binding, Changes, Edited, ExchangeOnce, Exchanged, Guarded, LeakRecord, NewToken, Principal, PrincipalId,
    PrincipalsGuard, StoredGrants, TokenEdit, TokenId, TokenOrigin, TokenRecord, UsageDelta, unguarded,
};

use std::sync::Arc;

use crate::audit::{AuditEvent, AuditQuery, AuditRow, ChainHash};
use crate::secret::SecretHash;
use crate::time::UnixTime;

/// What a store operation gives back.
pub type StoreResult<T> = Result<T, StoreError>;

/// The operations tokenscope needs from a store. Every method is one transaction.
pub trait Store: Send + Sync {
    /// Adds a principal with `bindings`; `PrincipalExists` if the name is taken.
    /// `audit` gets the new principal's id as its owner.
    fn add_principal(
        &self,
        name: &str,
        now: UnixTime,
        bindings: &[Binding],
        audit: &AuditEvent,
    ) -> StoreResult<Principal>;
    /// The principal named `name`, with its bindings.
    fn principal(&self, name: &str) -> StoreResult<Option<Principal>>;
    /// The principal with id `id`, with its bindings.
    fn principal_by_id(&self, id: PrincipalId) -> StoreResult<Option<Principal>>;
    /// Every principal, by name.
    fn principals(&self) -> StoreResult<Vec<Principal>>;
    /// Removes a principal and its tokens, unless `guard` refuses the
    /// principals that would be left.
    fn remove_principal(&self, name: &str, guard: &PrincipalsGuard, audit: &AuditEvent) -> StoreResult<Guarded>;
    /// Adds bindings (binding one that is there already changes nothing).
    fn bind(&self, principal: PrincipalId, bindings: &[Binding], audit: &AuditEvent) -> StoreResult<()>;
    /// Removes every one of `bindings` from the principal, or none: `Missing`
    /// when it lacks one, `Refused` when `guard` refuses the principals after.
    fn unbind(
        &self,
        principal: PrincipalId,
        bindings: &[Binding],
        guard: &PrincipalsGuard,
        audit: &AuditEvent,
    ) -> StoreResult<Guarded>;

    /// Stores a new token; it is durable when this returns. `audit` gets the
    /// token's id as its target and what was stored as its `after`.
    fn insert_token(&self, token: &NewToken, audit: &AuditEvent) -> StoreResult<TokenId>;
    /// Stores a token minted for an identity token, in one transaction: not
    /// when that identity token was exchanged before (`Replayed`), nor when
    /// its owner holds `once.max_live` live exchanged tokens at `now`
    /// (`AtCapacity`, and the identity token is not used up). Remembered
    /// identity tokens past their `until` are dropped.
    fn insert_exchanged(
        &self,
        token: &NewToken,
        once: &ExchangeOnce,
        now: UnixTime,
        audit: &AuditEvent,
    ) -> StoreResult<Exchanged>;
    /// Stores many tokens in one transaction (imports, provisioning,
    /// benchmarks), with one `audit` event per token.
    fn insert_tokens(&self, tokens: &[NewToken], audit: &AuditEvent) -> StoreResult<Vec<TokenId>>;
    /// The token with id `id`.
    fn token(&self, id: TokenId) -> StoreResult<Option<TokenRecord>>;
    /// The token whose secret hashes to `hash` (compared in constant time).
    fn token_by_hash(&self, hash: &SecretHash) -> StoreResult<Option<TokenRecord>>;
    /// Every token, or every token of `owner`, by id.
    fn tokens(&self, owner: Option<PrincipalId>) -> StoreResult<Vec<TokenRecord>>;
    /// Edits a token in one transaction (a new secret kills the old one at once),
    /// only if it is still at `edit.revision`; bumps its revision.
    fn edit_token(&self, id: TokenId, edit: &TokenEdit, audit: &AuditEvent) -> StoreResult<Edited>;
    /// Marks a token revoked at `now` (a revoked one keeps its first time); false when there was none.
    fn revoke_token(&self, id: TokenId, now: UnixTime, audit: &AuditEvent) -> StoreResult<bool>;
    /// Revokes a token because its secret leaked and records where, in one
    /// statement (a revoked one keeps its first revocation time, a reported one
    /// its first record); false when there was none.
    fn record_leak(&self, id: TokenId, leak: &LeakRecord, audit: &AuditEvent) -> StoreResult<bool>;
    /// Takes a signed leak report's body (its SHA-256) for the first time: false
    /// when it was taken before and its window (`until`) has not ended by `now`.
    fn claim_leak_report(&self, digest: &[u8; 32], now: UnixTime, until: UnixTime) -> StoreResult<bool>;
    /// Deletes a token; false when there was none.
    fn delete_token(&self, id: TokenId, audit: &AuditEvent) -> StoreResult<bool>;
    /// Live tokens (not revoked) expiring in `(now, before]`.
    fn expiring(&self, now: UnixTime, before: UnixTime) -> StoreResult<Vec<TokenRecord>>;
    /// Claims the expiry warning of a token at `now` unless one was recorded
    /// (by any process of the fleet) after `not_since`: true when the caller
    /// should log it. Two processes claiming at once: one gets true.
    fn claim_warning(&self, id: TokenId, now: UnixTime, not_since: UnixTime, audit: &AuditEvent) -> StoreResult<bool>;
    /// Adds counted uses in one transaction.
    fn add_usage(&self, deltas: &[UsageDelta]) -> StoreResult<()>;
    /// A number that changes whenever any process commits a write that changes
    /// what a verification reads (tokens other than their usage, principals,
    /// bindings): caches compare it to notice other processes' writes.
    fn change_counter(&self) -> StoreResult<u64>;
    /// At most `limit` changes after `cursor` of the change feed (tokens changed
    /// or gone, by their hash before the change; principals whose rights changed
    /// or who went away), for gateways that cache tokens by hash.
    fn changes_since(&self, cursor: u64, limit: usize) -> StoreResult<Changes>;
    /// The change feed's newest cursor: where a reader that has cached nothing starts.
    fn change_head(&self) -> StoreResult<u64>;
    /// Stores a one-time sign-in link (its secret's hash) for `principal`, and
    /// drops links that expired a day ago or more.
    fn add_sign_in_link(
        &self,
        hash: &SecretHash,
        principal: PrincipalId,
        now: UnixTime,
        expires_at: UnixTime,
        audit: &AuditEvent,
    ) -> StoreResult<()>;
    /// Uses the link whose secret hashes to `hash`, if it is unused and not
    /// expired at `now`: the principal it signs in. A link is used at most once,
    /// whatever runs at the same time. `audit` gets the principal as its
    /// actor, target and owner.
    fn use_sign_in_link(
        &self,
        hash: &SecretHash,
        now: UnixTime,
        audit: &AuditEvent,
    ) -> StoreResult<Option<PrincipalId>>;
    /// Calls `signal` soon after any connection (this process's or another's)
    /// may have committed a write, and when the notifications stop or resume,
    /// until the returned guard is dropped. `None` where the backend cannot
    /// tell: callers then rely on `change_counter` alone.
    fn watch(&self, signal: Arc<dyn Fn(StoreSignal) + Send + Sync>) -> StoreResult<Option<Watch>>;
    /// Everything the store holds but usage-free caches: principals with their
    /// bindings, tokens (hashes, usage, warning times) and sign-in links, read
    /// in one transaction.
    fn export(&self) -> StoreResult<Snapshot>;
    /// Writes `snapshot` in one transaction, keeping its ids. Refuses a store
    /// that holds principals or tokens (`NotEmpty`) unless `replace`, which
    /// drops what was there first. The snapshot's audit trail comes along
    /// as it is, and `audit` is appended to it.
    fn import(&self, snapshot: &Snapshot, replace: bool, audit: &AuditEvent) -> StoreResult<()>;
    /// Appends an event that records no change of its own (a refused attempt,
    /// a sign-out, a policy load on this host): its sequence number.
    fn append_audit(&self, event: &AuditEvent) -> StoreResult<u64>;
    /// At most `limit` events after sequence number `after`, oldest first, as stored.
    fn audit_rows(&self, after: u64, limit: usize) -> StoreResult<Vec<AuditRow>>;
    /// The events `query` asks for, oldest first.
    fn audit_events(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRow>>;
    /// The chain's head: the last event's sequence number and hash (0 and
    /// zeros when there is none), kept apart from the events.
    fn audit_head(&self) -> StoreResult<(u64, ChainHash)>;
    /// Removes the events before `before` (never the newest), leaving `audit`
    /// (an `audit.prune` event) that records the last removed event and its
    /// hash, so the rest still verifies: how many were removed.
    fn prune_audit(&self, before: UnixTime, audit: &AuditEvent) -> StoreResult<u64>;
    /// The fleet's shared state (published modules, desired module, host
    /// heartbeats), where the backend is shared by hosts.
    fn fleet(&self) -> Option<&dyn Fleet> {
        None
    }
}

/// What a store's watch reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreSignal {
    /// Something a verification reads may have changed; `sent_ms` is when the
    /// writer's statement ran (unix ms, by the database's clock), when known.
    Changed {
        /// When the change was made, if the backend says.
        sent_ms: Option<u64>,
    },
    /// Notifications stopped (the connection that brings them is down): until
    /// a `Changed` arrives, nothing cached can be known to be current.
    Deaf,
    /// The change counter, as a read that began at `began` found it (the
    /// listening connection reads it with every probe, beside the pool).
    Counter {
        /// The counter.
        counter: u64,
        /// When the read began.
        began: crate::time::Moment,
    },
    /// The fleet's desired policy module changed.
    Fleet,
}

/// Keeps a store's change notifications coming while it lives.
pub struct Watch(#[allow(dead_code)] Box<dyn Send>);

impl Watch {
    /// Holds whatever keeps the notifications coming (a file watcher, a connection).
    pub fn new(inner: impl Send + 'static) -> Watch {
        Watch(Box::new(inner))
    }
}
