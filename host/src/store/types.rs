//! The records a store holds: principals with their role bindings, and tokens
//! with their grants, lifecycle times and usage. No secret, only its hash.

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::contract::Grants;
use crate::secret::SecretHash;

pub type PrincipalId = i64;
pub type TokenId = i64;

/// A principal (a token owner) and what it is bound to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub id: PrincipalId,
    pub name: String,
    pub created_at: u64,
    pub bindings: Vec<Binding>,
}

/// What gives a principal rights: an explicit grant, or a role at a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Binding {
    /// `RESOURCE=ACCESS`, e.g. `channel/main=manage`.
    Grant(String),
    /// A role from the config, bound at a resource node.
    Role { role: String, at: String },
}

impl Binding {
    /// `grant:channel/main=write` or `role:continuous-integration@channel/ci`.
    pub fn to_text(&self) -> String {
        match self {
            Binding::Grant(grant) => format!("grant:{grant}"),
            Binding::Role { role, at } => format!("role:{role}@{at}"),
        }
    }

    pub fn from_text(text: &str) -> Result<Binding> {
        if let Some(grant) = text.strip_prefix("grant:") {
            return Ok(Binding::Grant(grant.to_owned()));
        }
        if let Some(role) = text.strip_prefix("role:") {
            let (role, at) = role.split_once('@').unwrap_or((role, "/"));
            return Ok(Binding::Role { role: role.to_owned(), at: at.to_owned() });
        }
        bail!("binding `{text}` is neither `grant:...` nor `role:...`")
    }
}

/// A token's grants as stored: the policy's normalised grants, as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "items", rename_all = "lowercase")]
pub enum StoredGrants {
    Scopes(Vec<String>),
    Resources(Vec<String>),
}

impl StoredGrants {
    pub fn from_grants(grants: &Grants) -> StoredGrants {
        match grants {
            Grants::Scopes(s) => StoredGrants::Scopes(s.clone()),
            Grants::Resources(_) => StoredGrants::Resources(crate::grant_text::print_all(grants)),
        }
    }

    pub fn to_grants(&self) -> Result<Grants> {
        Ok(match self {
            StoredGrants::Scopes(s) => Grants::Scopes(s.clone()),
            StoredGrants::Resources(r) => {
                Grants::Resources(r.iter().map(|g| crate::grant_text::parse_grant(g)).collect::<Result<_>>()?)
            }
        })
    }

    pub fn items(&self) -> &[String] {
        match self {
            StoredGrants::Scopes(items) | StoredGrants::Resources(items) => items,
        }
    }
}

/// A stored token. `hint` is the secret's first characters, never the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    pub id: TokenId,
    pub owner: PrincipalId,
    pub owner_name: String,
    pub name: String,
    pub description: String,
    pub hint: String,
    pub grants: StoredGrants,
    pub created_at: u64,
    pub expires_at: Option<u64>,
    pub revoked_at: Option<u64>,
    pub use_count: u64,
    pub last_used_at: Option<u64>,
    pub last_warned_at: Option<u64>,
    /// Bumped by every edit and reissue; an edit names the revision it was decided on.
    #[serde(skip)]
    pub revision: u64,
}

/// A token about to be stored.
#[derive(Clone, Debug)]
pub struct NewToken {
    pub owner: PrincipalId,
    pub name: String,
    pub description: String,
    pub hash: SecretHash,
    pub hint: String,
    pub grants: StoredGrants,
    pub created_at: u64,
    pub expires_at: Option<u64>,
}

/// Changes to a token's name, description, expiry or secret (`None`: unchanged),
/// made at once, and only if the token is still at `revision`.
#[derive(Clone, Debug, Default)]
pub struct TokenEdit {
    pub name: Option<String>,
    pub description: Option<String>,
    /// `Some(None)` removes the expiry.
    pub expires_at: Option<Option<u64>>,
    /// A new secret's hash and hint (a reissue): the old secret is dead once stored.
    pub secret: Option<(SecretHash, String)>,
    /// The revision the change was decided on; `None` changes whatever is stored.
    pub revision: Option<u64>,
}

/// What became of an edit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edited {
    Done,
    NotFound,
    /// The token changed since the revision the edit was decided on.
    Conflict,
}

/// Uses of one token counted since the last flush.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageDelta {
    pub token: TokenId,
    pub uses: u64,
    pub last_used_at: u64,
}
