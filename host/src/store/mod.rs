//! Where tokens and principals live. The verify path and the lifecycle commands
//! speak only to the `Store` trait, so a server database can be added beside the
//! embedded SQLite store without touching them. Only secret hashes are stored.

mod migrations;
mod sqlite;
mod types;

pub use sqlite::SqliteStore;
pub use types::{
    Binding, Edited, NewToken, Principal, PrincipalId, StoredGrants, TokenEdit, TokenId, TokenRecord, UsageDelta,
};

use anyhow::Result;

use crate::secret::SecretHash;

/// The operations tokenscope needs from a store. Every method is one transaction.
pub trait Store: Send + Sync {
    fn add_principal(&self, name: &str, now: u64) -> Result<Principal>;
    fn principal(&self, name: &str) -> Result<Option<Principal>>;
    fn principal_by_id(&self, id: PrincipalId) -> Result<Option<Principal>>;
    fn principals(&self) -> Result<Vec<Principal>>;
    /// Removes a principal and its tokens; false when there was none.
    fn remove_principal(&self, name: &str) -> Result<bool>;
    fn bind(&self, principal: PrincipalId, binding: &Binding) -> Result<()>;
    /// False when the principal had no such binding.
    fn unbind(&self, principal: PrincipalId, binding: &Binding) -> Result<bool>;

    /// Stores a new token; it is durable when this returns.
    fn insert_token(&self, token: &NewToken) -> Result<TokenId>;
    /// Stores many tokens in one transaction (imports, provisioning, benchmarks).
    fn insert_tokens(&self, tokens: &[NewToken]) -> Result<Vec<TokenId>>;
    fn token(&self, id: TokenId) -> Result<Option<TokenRecord>>;
    fn token_by_hash(&self, hash: &SecretHash) -> Result<Option<TokenRecord>>;
    fn tokens(&self, owner: Option<PrincipalId>) -> Result<Vec<TokenRecord>>;
    /// Edits a token in one transaction (a new secret kills the old one at once),
    /// only if it is still at `edit.revision`; bumps its revision.
    fn edit_token(&self, id: TokenId, edit: &TokenEdit) -> Result<Edited>;
    fn revoke_token(&self, id: TokenId, now: u64) -> Result<bool>;
    fn delete_token(&self, id: TokenId) -> Result<bool>;
    /// Live tokens (not revoked) expiring in `(now, before]`.
    fn expiring(&self, now: u64, before: u64) -> Result<Vec<TokenRecord>>;
    fn mark_warned(&self, id: TokenId, at: u64) -> Result<()>;
    /// Adds counted uses in one transaction.
    fn add_usage(&self, deltas: &[UsageDelta]) -> Result<()>;
}
