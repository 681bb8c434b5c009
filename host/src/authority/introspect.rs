//! Token data for gateways that decide inside a proxy: a stored token found by
//! its secret's SHA-256 (the secret never leaves the proxy), with its owner's
//! rights as they are now, and the change feed that tells such a gateway what
//! to drop from its cache (revocations, reissues, deletions, owner changes).

use super::{Authority, LifecycleError};
use crate::contract::ResourceGrant;
use crate::secret::SecretHash;
use crate::store::{Changes, TokenRecord};

/// The most changes one read of the feed returns.
pub const MAX_CHANGES: usize = 1_000;

/// A stored token and what its owner holds now.
#[derive(Clone, Debug)]
pub struct Introspected {
    /// The token as stored (no secret).
    pub record: TokenRecord,
    /// The owner's current rights: the token never exceeds them.
    pub owner_rights: Vec<ResourceGrant>,
}

impl Authority {
    /// The token whose secret hashes to `hash`, if one is stored, with its
    /// owner's current rights; read from the store, not the caches.
    pub fn introspect(&self, hash: &SecretHash) -> Result<Option<Introspected>, LifecycleError> {
        let Some(record) = self.store.token_by_hash(hash)? else {
            return Ok(None);
        };
        let owner = self
            .store
            .principal_by_id(record.owner)?
            .ok_or_else(|| LifecycleError::NotFound(format!("the owner of token {}", record.id)))?;
        let owner_rights = self.owner_rights(&owner)?;
        Ok(Some(Introspected { record, owner_rights }))
    }

    /// Up to `limit` (at most `MAX_CHANGES`) changes of the feed after `cursor`.
    /// A cursor beyond the feed's newest means the store is not the one the
    /// reader started on (restored, replaced): the answer is `reset` at the
    /// newest cursor, so the reader drops everything.
    pub fn changes_since(&self, cursor: u64, limit: usize) -> Result<Changes, LifecycleError> {
        let changes = self.store.changes_since(cursor, limit.clamp(1, MAX_CHANGES))?;
        if changes.tokens.is_empty() && changes.principals.is_empty() && !changes.more {
            let head = self.store.change_head()?;
            if cursor > head {
                return Ok(Changes { cursor: head, reset: true, ..Changes::default() });
            }
        }
        Ok(changes)
    }

    /// The feed's newest cursor, with no changes: where a new reader starts.
    pub fn changes_head(&self) -> Result<Changes, LifecycleError> {
        Ok(Changes { cursor: self.store.change_head()?, ..Changes::default() })
    }
}
