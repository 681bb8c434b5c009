//! The management API's JSON bodies: what a client may send (unknown fields are
//! refused) and what it gets back (never a secret, except once in the answer to
//! the request that created or reissued it).

use serde::{Deserialize, Serialize};

use crate::store::TokenRecord;

/// `POST /api/account/tokens`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// RFC 3339, a date, or `@UNIX`.
    pub expires_at: Option<String>,
    /// A lifetime such as `30d`.
    pub ttl: Option<String>,
    #[serde(default)]
    pub no_expiry: bool,
    /// Scope strings; exactly one of `scopes`, `resources` and `role` is given.
    pub scopes: Option<Vec<String>>,
    /// `RESOURCE=ACCESS` grants.
    pub resources: Option<Vec<String>>,
    /// A role from the config, bound at `role_at` (default the root).
    pub role: Option<String>,
    pub role_at: Option<String>,
}

/// `PATCH /api/account/tokens/{id}`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    pub name: Option<String>,
    pub description: Option<String>,
    pub expires_at: Option<String>,
    pub ttl: Option<String>,
    #[serde(default)]
    pub no_expiry: bool,
    /// Issue a new secret; the old one stops working at once.
    #[serde(default)]
    pub reissue: bool,
}

/// A token as the API shows it.
/// No `Debug`: it may hold a secret.
#[derive(Serialize)]
pub struct TokenView<'a> {
    #[serde(flatten)]
    pub token: &'a TokenRecord,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<&'a str>,
}
