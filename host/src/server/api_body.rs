//! The management API's JSON bodies: what a client may send (unknown fields are
//! refused) and what it gets back (never a secret, except once in the answer to
//! the request that created or reissued it).

use serde::{Deserialize, Deserializer, Serialize};

use crate::store::TokenRecord;

/// An optional field that was sent: `null` is refused as the wrong type, as the
/// API document says (absent is `None` through `#[serde(default)]`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// `POST /api/account/tokens`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// RFC 3339, a date, or `@UNIX`.
    #[serde(default, deserialize_with = "present")]
    pub expires_at: Option<String>,
    /// A lifetime such as `30d`.
    #[serde(default, deserialize_with = "present")]
    pub ttl: Option<String>,
    #[serde(default)]
    pub no_expiry: bool,
    /// Scope strings; exactly one of `scopes`, `resources` and `role` is given.
    #[serde(default, deserialize_with = "present")]
    pub scopes: Option<Vec<String>>,
    /// `RESOURCE=ACCESS` grants.
    #[serde(default, deserialize_with = "present")]
    pub resources: Option<Vec<String>>,
    /// A role from the config, bound at `role_at` (default the root).
    #[serde(default, deserialize_with = "present")]
    pub role: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub role_at: Option<String>,
}

/// `PATCH /api/account/tokens/{id}`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub expires_at: Option<String>,
    #[serde(default, deserialize_with = "present")]
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
