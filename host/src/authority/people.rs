//! What the token page needs beyond tokens: one-time sign-in links (an operator
//! makes one for a person who has no token yet; only its hash is stored, it
//! expires and is used at most once), decisions for a principal acting as itself
//! (its own rights, no token), and a token's effective permissions, each decided
//! by the loaded policy.

use std::time::Duration;

use serde_json::json;

use super::audit::Acted;
use super::ceiling::as_itself;
use super::{Authority, LifecycleError};
use crate::audit::{AuditActor, AuditEvent, Client};
use crate::contract::{Grants, Request, ResourceGrant, Token};
use crate::secret::Secret;
use crate::store::{Principal, PrincipalId, TokenId};
use crate::time::UnixTime;
use crate::verdict::Verdict;

/// The longest a sign-in link may live.
pub const MAX_LINK_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// One action a token may take now, on one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permission {
    /// The catalog action.
    pub action: String,
    /// The node it applies to (and everything below it); empty for the root.
    pub resource: String,
}

impl Authority {
    /// A one-time sign-in link's secret for principal `name`, valid for `ttl`
    /// (at most `MAX_LINK_TTL`), and when it expires.
    pub fn sign_in_link(
        &self,
        by: impl Into<Acted>,
        name: &str,
        ttl: Duration,
    ) -> Result<(Secret, UnixTime), LifecycleError> {
        let by = by.into();
        let result = self.make_link(&by, name, ttl);
        self.noted(&by, "session.link", format!("principal/{name}"), None, result)
    }

    fn make_link(&self, by: &Acted, name: &str, ttl: Duration) -> Result<(Secret, UnixTime), LifecycleError> {
        if ttl.is_zero() || ttl > MAX_LINK_TTL {
            return Err(LifecycleError::Invalid(format!(
                "a sign-in link lives more than 0 s and at most {} days",
                MAX_LINK_TTL.as_secs() / 86_400
            )));
        }
        let principal = self.principal(name)?;
        let secret = Secret::generate()?;
        let now = self.now();
        let expires_at = now.saturating_add(ttl);
        let audit = self
            .event(by, None, "session.link", format!("principal/{name}"))
            .with_owner(principal.id)
            .with_change(None, Some(json!({"expires_at": expires_at})));
        self.store.add_sign_in_link(&secret.hash(), principal.id, now, expires_at, &audit)?;
        Ok((secret, expires_at))
    }

    /// Uses a sign-in link: the principal it signs in, or none when the code is
    /// malformed, unknown, used or expired.
    /// A link that signs nobody in is not recorded (there is no one to name):
    /// the log line of the refused sign-in is its trace.
    pub fn use_sign_in_link(&self, code: &str, client: Option<Client>) -> Result<Option<Principal>, LifecycleError> {
        let Ok(hash) = Secret::hash_of(code.trim()) else { return Ok(None) };
        // The store names the principal in the event once it knows which.
        let audit = AuditEvent::new(self.now(), self.host_id(), AuditActor::system("sign-in"), "session.sign-in", "")
            .with_client(client);
        let Some(id) = self.store.use_sign_in_link(&hash, self.now(), &audit)? else { return Ok(None) };
        Ok(self.store.principal_by_id(id)?)
    }

    /// Whether principal `id`, acting as itself with its own rights, may do
    /// `action` on `resource` now; a removed principal (`NotFound`) may do
    /// nothing, and a new principal of the same name is another id.
    pub fn person_may(&self, id: PrincipalId, action: &str, resource: &str) -> Result<Verdict, LifecycleError> {
        let principal =
            self.store.principal_by_id(id)?.ok_or_else(|| LifecycleError::NotFound(format!("principal {id}")))?;
        let rights = self.owner_rights(&principal)?;
        let request = Request { action: action.to_owned(), resource: resource.to_owned(), now: self.now().secs() };
        Ok(self.policy.active().decide(&as_itself(&rights), &request))
    }

    /// What token `id` may do now: every catalog action on every node named by
    /// its grants or its owner's rights that the loaded policy allows, given the
    /// token's grants, expiry and revocation and its owner's current rights.
    pub fn effective_permissions(&self, id: TokenId) -> Result<Vec<Permission>, LifecycleError> {
        let record = self.token(id)?;
        let grants = record
            .grants
            .to_grants()
            .map_err(|e| LifecycleError::Invalid(format!("the token's stored grants are unreadable: {e}")))?;
        let owner = self.store.principal_by_id(record.owner)?;
        let rights: Vec<ResourceGrant> = match &owner {
            Some(owner) => self.owner_rights(owner)?,
            None => Vec::new(),
        };
        let mut nodes: Vec<String> = vec![String::new()];
        nodes.extend(rights.iter().map(|g| g.resource.clone()));
        if let Grants::Resources(list) = &grants {
            nodes.extend(list.iter().map(|g| g.resource.clone()));
        }
        nodes.sort();
        nodes.dedup();
        let token = Token {
            grants,
            owner_rights: rights,
            expires_at: record.expires_at.map(UnixTime::secs),
            revoked: record.revoked_at.is_some(),
        };
        let module = self.module();
        let mut instance = module.instantiate();
        let now = self.now().secs();
        let mut allowed = Vec::new();
        for node in &nodes {
            for entry in module.catalog() {
                let request = Request { action: entry.action.clone(), resource: node.clone(), now };
                if matches!(instance.decide(&token, &request), Verdict::Allow { .. }) {
                    allowed.push(Permission { action: entry.action.clone(), resource: node.clone() });
                }
            }
        }
        Ok(allowed)
    }
}
