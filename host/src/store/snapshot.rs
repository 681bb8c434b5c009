//! A store's whole content as `tokenscope store copy` moves it between
//! backends: principals with bindings, tokens by hash with their usage and
//! warning times, sign-in links, and the audit trail. Ids are kept, so nothing refers elsewhere.

use super::types::{Principal, PrincipalId, TokenRecord};
use crate::audit::{AuditRow, ChainHash};
use crate::secret::SecretHash;
use crate::time::UnixTime;

/// Everything a store holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Principals with their bindings, by id.
    pub principals: Vec<Principal>,
    /// Tokens, by id.
    pub tokens: Vec<StoredToken>,
    /// One-time sign-in links (hashes only).
    pub links: Vec<StoredLink>,
    /// The audit trail's events, oldest first, as stored (their chain intact).
    pub audit: Vec<AuditRow>,
    /// The audit trail's head: the last event's sequence number and hash.
    pub audit_head: (u64, ChainHash),
}

/// A token as stored: its record and its secret's hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredToken {
    /// Everything but the hash (the revision included).
    pub record: TokenRecord,
    /// The secret's SHA-256.
    pub hash: SecretHash,
}

/// A sign-in link as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredLink {
    /// The link secret's SHA-256.
    pub hash: SecretHash,
    /// Whom it signs in.
    pub principal: PrincipalId,
    /// When it was made.
    pub created_at: UnixTime,
    /// When it stops working.
    pub expires_at: UnixTime,
    /// When it was used, if it was.
    pub used_at: Option<UnixTime>,
}

impl Snapshot {
    /// How many principals, tokens and links it holds.
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.principals.len(), self.tokens.len(), self.links.len())
    }
}
