//! The records a store holds: principals with their role bindings, and tokens
//! with their grants, lifecycle times and usage. No secret, only its hash.

use serde::{Deserialize, Serialize};

use super::error::StoreError;
use crate::contract::Grants;
use crate::grant_text::{parse_grant, print_all};
pub use crate::ids::{PrincipalId, TokenId};
use crate::secret::SecretHash;
use crate::time::UnixTime;

/// A principal (a token owner) and what it is bound to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// Its id.
    pub id: PrincipalId,
    /// Its name, unique in the store; its tokens are managed on `user/<name>`.
    pub name: String,
    /// When it was added.
    pub created_at: UnixTime,
    /// What gives it rights.
    pub bindings: Vec<Binding>,
}

/// What gives a principal rights: an explicit grant, or a role at a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Binding {
    /// `RESOURCE=ACCESS`, e.g. `channel/main=manage`.
    Grant(String),
    /// A role from the config, bound at a resource node.
    Role {
        /// The role's name in the config.
        role: String,
        /// The node it is bound at (`/` for the root).
        at: String,
    },
}

impl Binding {
    /// `grant:channel/main=write` or `role:continuous-integration@channel/ci`.
    pub fn to_text(&self) -> String {
        match self {
            Binding::Grant(grant) => format!("grant:{grant}"),
            Binding::Role { role, at } => format!("role:{role}@{at}"),
        }
    }

    /// Reads the form `to_text` writes.
    pub fn from_text(text: &str) -> Result<Binding, StoreError> {
        if let Some(grant) = text.strip_prefix("grant:") {
            return Ok(Binding::Grant(grant.to_owned()));
        }
        if let Some(role) = text.strip_prefix("role:") {
            let (role, at) = role.split_once('@').unwrap_or((role, "/"));
            return Ok(Binding::Role { role: role.to_owned(), at: at.to_owned() });
        }
        Err(StoreError::Unreadable {
            what: "binding",
            detail: format!("`{text}` is neither `grant:...` nor `role:...`"),
        })
    }
}

/// A token's grants as stored: the policy's normalised grants, as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "items", rename_all = "lowercase")]
pub enum StoredGrants {
    /// Scope strings.
    Scopes(Vec<String>),
    /// `RESOURCE=ACCESS` texts.
    Resources(Vec<String>),
}

impl StoredGrants {
    /// The stored form of the policy's normalised grants.
    pub fn from_grants(grants: &Grants) -> StoredGrants {
        match grants {
            Grants::Scopes(s) => StoredGrants::Scopes(s.clone()),
            Grants::Resources(_) => StoredGrants::Resources(print_all(grants)),
        }
    }

    /// The grants again, as the policy takes them.
    pub fn to_grants(&self) -> Result<Grants, StoreError> {
        Ok(match self {
            StoredGrants::Scopes(s) => Grants::Scopes(s.clone()),
            StoredGrants::Resources(r) => Grants::Resources(
                r.iter()
                    .map(|g| parse_grant(g))
                    .collect::<anyhow::Result<_>>()
                    .map_err(|e| StoreError::Unreadable { what: "token grant list", detail: format!("{e:#}") })?,
            ),
        })
    }

    /// The texts, whichever kind they are.
    pub fn items(&self) -> &[String] {
        match self {
            StoredGrants::Scopes(items) | StoredGrants::Resources(items) => items,
        }
    }
}

/// A stored token. `hint` is the secret's first characters, never the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    /// Its id.
    pub id: TokenId,
    /// Its owner's id.
    pub owner: PrincipalId,
    /// Its owner's name.
    pub owner_name: String,
    /// Its name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// The secret's first characters (`tks_AbC1…`), never the secret.
    pub hint: String,
    /// The policy's normalised grants.
    pub grants: StoredGrants,
    /// When it was created.
    pub created_at: UnixTime,
    /// When it expires; `None` never.
    pub expires_at: Option<UnixTime>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<UnixTime>,
    /// Allowed requests counted so far.
    pub use_count: u64,
    /// When it last allowed a request.
    pub last_used_at: Option<UnixTime>,
    /// When the expiry notifier last warned about it.
    pub last_warned_at: Option<UnixTime>,
    /// Bumped by every edit and reissue; an edit names the revision it was decided on.
    #[serde(skip)]
    pub revision: u64,
    /// Where it came from, when it was minted in exchange for an identity token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<TokenOrigin>,
    /// Where and when its secret was reported leaked (it was revoked then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leak: Option<LeakRecord>,
}

/// A leak report that revoked a token: the first one is kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeakRecord {
    /// When the report came.
    pub at: UnixTime,
    /// Where the secret was found (the report's `url`).
    pub url: String,
    /// What found it (the report's `source`, such as `content` or `commit`).
    pub source: String,
    /// Who reported it: a signer's key id, or the reporting token's owner.
    pub reporter: String,
}

impl LeakRecord {
    /// As stored: one JSON object.
    pub fn to_text(&self) -> Result<String, StoreError> {
        serde_json::to_string(self).map_err(|e| StoreError::backend("write a token's leak record", e))
    }

    /// As stored, read back.
    pub fn from_text(text: &str) -> Result<LeakRecord, StoreError> {
        serde_json::from_str(text).map_err(|e| StoreError::Unreadable { what: "leak record", detail: e.to_string() })
    }
}

/// A secret hash as a backend stored it (32 bytes), or why it cannot be one.
pub(in crate::store) fn stored_hash(bytes: Vec<u8>) -> Result<SecretHash, StoreError> {
    bytes
        .try_into()
        .map(SecretHash)
        .map_err(|_| StoreError::Unreadable { what: "secret hash", detail: "it has the wrong length".into() })
}

/// What a token minted in exchange for an OIDC identity token came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenOrigin {
    /// The identity token's issuer (`iss`).
    pub issuer: String,
    /// Its subject (`sub`).
    pub subject: String,
    /// The `[[oidc.rules]]` entry that matched (its number, from 1, and principal).
    pub rule: String,
}

impl TokenOrigin {
    /// As stored: one JSON object.
    pub fn to_text(&self) -> Result<String, StoreError> {
        serde_json::to_string(self).map_err(|e| StoreError::backend("write a token's origin", e))
    }

    /// As stored, read back.
    pub fn from_text(text: &str) -> Result<TokenOrigin, StoreError> {
        serde_json::from_str(text).map_err(|e| StoreError::Unreadable { what: "token origin", detail: e.to_string() })
    }
}

/// A token about to be stored.
#[derive(Clone, Debug)]
pub struct NewToken {
    /// Its owner.
    pub owner: PrincipalId,
    /// Its name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// The SHA-256 of its secret.
    pub hash: SecretHash,
    /// The secret's first characters.
    pub hint: String,
    /// The policy's normalised grants.
    pub grants: StoredGrants,
    /// Now.
    pub created_at: UnixTime,
    /// When it expires; `None` never.
    pub expires_at: Option<UnixTime>,
    /// Where it came from (an identity token exchange), if not from a person or the CLI.
    pub origin: Option<TokenOrigin>,
}

/// What makes an exchange's token once-only and bounded: the identity token
/// it was minted for (by the SHA-256 of its signed part, kept until `until`,
/// so it is exchanged once) and the most live exchanged tokens its owner may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExchangeOnce {
    /// The SHA-256 of the identity token's signed part (`header.payload`).
    pub digest: [u8; 32],
    /// Until when it is remembered (the identity token's `exp` and the leeway).
    pub until: UnixTime,
    /// The most live (unrevoked, unexpired) exchanged tokens of the owner.
    pub max_live: u32,
}

/// What became of an exchange's token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exchanged {
    /// Stored, with this id.
    Stored(TokenId),
    /// The identity token was exchanged before; nothing was stored.
    Replayed,
    /// The owner holds `max_live` live exchanged tokens; nothing was stored.
    AtCapacity,
}

/// Changes to a token's name, description, expiry or secret (`None`: unchanged),
/// made at once, and only if the token is still at `revision`.
#[derive(Clone, Debug, Default)]
pub struct TokenEdit {
    /// A new name.
    pub name: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// A new expiry; `Some(None)` removes the expiry.
    pub expires_at: Option<Option<UnixTime>>,
    /// A new secret's hash and hint (a reissue): the old secret is dead once stored.
    pub secret: Option<(SecretHash, String)>,
    /// The revision the change was decided on; `None` changes whatever is stored.
    pub revision: Option<u64>,
}

/// What became of an edit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edited {
    /// Stored.
    Done,
    /// There is no such token.
    NotFound,
    /// The token changed since the revision the edit was decided on.
    Conflict,
}

/// A condition a change that takes rights away (unbinding, removing) must
/// meet, given the principals before and after it: checked inside that
/// change's transaction and under a lock all such changes take, so two of them
/// at once cannot both pass it ("someone still administers the root").
pub type PrincipalsGuard = std::sync::Arc<dyn Fn(&[Principal], &[Principal]) -> bool + Send + Sync>;

/// The guard that lets every change through (tools and tests that hold the store).
pub fn unguarded() -> PrincipalsGuard {
    std::sync::Arc::new(|_: &[Principal], _: &[Principal]| true)
}

/// What became of a guarded change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guarded {
    /// Stored.
    Done,
    /// The principal, or one of the bindings, is not there; nothing changed.
    Missing,
    /// The guard refused the result; nothing changed.
    Refused,
}

/// Uses of one token counted since the last flush.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageDelta {
    /// The token.
    pub token: TokenId,
    /// Uses to add.
    pub uses: u64,
    /// The latest of them.
    pub last_used_at: UnixTime,
}

/// What changed after a cursor of the change feed, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Where the next read starts (the last change returned, or the cursor given).
    pub cursor: u64,
    /// Hashes of tokens whose stored state changed or that went away.
    pub tokens: Vec<SecretHash>,
    /// Principals whose rights changed or who went away.
    pub principals: Vec<String>,
    /// More changes follow after `cursor`.
    pub more: bool,
    /// Changes after the cursor given were dropped from the feed: whatever a
    /// reader cached must be dropped too.
    pub reset: bool,
}
