//! Issuing and managing tokens: create (the policy's issuance check decides),
//! reissue (new secret, the old one dead at once), edit, revoke, delete. Expiry
//! follows the operator's rules: a default lifetime, a maximum, and no-expiry only
//! where the config allows it.

use std::time::Duration;

use crate::runtime::{Grants, ResourceGrant};
use crate::secret::Secret;
use crate::store::{NewToken, Principal, StoredGrants, TokenEdit, TokenId, TokenRecord};
use crate::verdict::Code;

use super::{Authority, LifecycleError};

/// When a token should expire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// The configured default lifetime (one year unless configured).
    Default,
    /// At this unix time.
    At(u64),
    /// This long from now.
    Ttl(Duration),
    /// Never, where the config allows it.
    Never,
}

#[derive(Clone, Debug)]
pub struct IssueRequest {
    pub owner: String,
    pub name: String,
    pub description: String,
    pub expiry: Expiry,
    pub grants: Grants,
}

/// A token just created or reissued: the only time its secret is available.
pub struct Issued {
    pub record: TokenRecord,
    pub secret: Secret,
}

const MAX_NAME: usize = 128;
const MAX_DESCRIPTION: usize = 1024;

fn refused(code: &'static str, message: impl Into<String>) -> LifecycleError {
    LifecycleError::Refused { code, message: message.into() }
}

fn check_text(what: &str, text: &str, max: usize) -> Result<(), LifecycleError> {
    if text.len() > max || text.chars().any(char::is_control) {
        return Err(LifecycleError::Invalid(format!(
            "the {what} must be at most {max} bytes with no control characters"
        )));
    }
    Ok(())
}

impl Authority {
    pub fn principal(&self, name: &str) -> Result<Principal, LifecycleError> {
        self.store.principal(name)?.ok_or_else(|| LifecycleError::NotFound(format!("principal `{name}`")))
    }

    pub fn owner_rights(&self, principal: &Principal) -> Result<Vec<ResourceGrant>, LifecycleError> {
        Ok(crate::rights::owner_rights(principal, &self.config.roles)?)
    }

    pub fn token(&self, id: TokenId) -> Result<TokenRecord, LifecycleError> {
        self.store.token(id)?.ok_or_else(|| LifecycleError::NotFound(format!("token {id}")))
    }

    /// Creates a token for `request.owner`, who is also its creator: the grants
    /// must pass the policy's issuance check against the owner's current rights.
    pub fn create_token(&self, request: &IssueRequest) -> Result<Issued, LifecycleError> {
        if request.name.trim().is_empty() {
            return Err(LifecycleError::Invalid("a token needs a name".into()));
        }
        check_text("name", &request.name, MAX_NAME)?;
        check_text("description", &request.description, MAX_DESCRIPTION)?;
        let now = self.now();
        let expires_at = self.resolve_expiry(request.expiry, now)?;
        let owner = self.principal(&request.owner)?;
        let rights = self.owner_rights(&owner)?;
        let checked = self.policy.active().evaluator().instance().check_grants(&rights, &request.grants);
        let normalized = match checked {
            Ok(Ok(grants)) => grants,
            Ok(Err(denial)) => return Err(refused(Code::Policy(denial.code).as_str(), denial.message)),
            Err(fault) => return Err(refused("policy-fault", fault.message)),
        };
        let secret = Secret::generate()?;
        let token = NewToken {
            owner: owner.id,
            name: request.name.clone(),
            description: request.description.clone(),
            hash: secret.hash(),
            hint: secret.hint(),
            grants: StoredGrants::from_grants(&normalized),
            created_at: now,
            expires_at,
        };
        let id = self.store.insert_token(&token)?;
        tracing::info!(token = id, owner = %owner.name, name = %request.name, "token created");
        Ok(Issued { record: self.token(id)?, secret })
    }

    /// A new secret for the token; the old secret is dead once this returns.
    pub fn reissue_token(&self, id: TokenId) -> Result<Issued, LifecycleError> {
        let record = self.token(id)?;
        if record.revoked_at.is_some() {
            return Err(refused("revoked", format!("token {id} is revoked; create a new one")));
        }
        let secret = Secret::generate()?;
        if !self.store.replace_secret(id, &secret.hash(), &secret.hint())? {
            return Err(LifecycleError::NotFound(format!("token {id}")));
        }
        tracing::info!(token = id, "token reissued");
        Ok(Issued { record: self.token(id)?, secret })
    }

    pub fn edit_token(
        &self,
        id: TokenId,
        name: Option<String>,
        description: Option<String>,
        expiry: Option<Expiry>,
    ) -> Result<TokenRecord, LifecycleError> {
        if let Some(name) = &name {
            if name.trim().is_empty() {
                return Err(LifecycleError::Invalid("a token needs a name".into()));
            }
            check_text("name", name, MAX_NAME)?;
        }
        if let Some(description) = &description {
            check_text("description", description, MAX_DESCRIPTION)?;
        }
        let expires_at = expiry.map(|e| self.resolve_expiry(e, self.now())).transpose()?;
        let edit = TokenEdit { name, description, expires_at };
        if !self.store.edit_token(id, &edit)? {
            return Err(LifecycleError::NotFound(format!("token {id}")));
        }
        self.token(id)
    }

    pub fn revoke_token(&self, id: TokenId) -> Result<TokenRecord, LifecycleError> {
        if !self.store.revoke_token(id, self.now())? {
            return Err(LifecycleError::NotFound(format!("token {id}")));
        }
        tracing::info!(token = id, "token revoked");
        self.token(id)
    }

    pub fn delete_token(&self, id: TokenId) -> Result<(), LifecycleError> {
        if !self.store.delete_token(id)? {
            return Err(LifecycleError::NotFound(format!("token {id}")));
        }
        self.policy.active().forget(id);
        tracing::info!(token = id, "token deleted");
        Ok(())
    }

    /// Live tokens that expire within `window` from now.
    pub fn expiring_tokens(&self, window: Duration) -> Result<Vec<TokenRecord>, LifecycleError> {
        let now = self.now();
        Ok(self.store.expiring(now, now.saturating_add(window.as_secs()))?)
    }

    fn resolve_expiry(&self, expiry: Expiry, now: u64) -> Result<Option<u64>, LifecycleError> {
        let rules = &self.config.tokens;
        let at = match expiry {
            Expiry::Never if rules.allow_no_expiry => return Ok(None),
            Expiry::Never => {
                return Err(refused(
                    "no-expiry-not-allowed",
                    "tokens without expiry are not allowed here (tokens.allow_no_expiry)",
                ));
            }
            Expiry::Default => now.saturating_add(rules.default_ttl.as_secs()),
            Expiry::Ttl(ttl) => now.saturating_add(ttl.as_secs()),
            Expiry::At(at) => at,
        };
        if at <= now {
            return Err(refused("expiry-in-past", "the expiry must be in the future"));
        }
        if at - now > rules.max_ttl.as_secs() {
            let max_days = rules.max_ttl.as_secs() / 86_400;
            return Err(refused(
                "expiry-too-long",
                format!("the expiry is further away than the maximum of {max_days} days"),
            ));
        }
        Ok(Some(at))
    }
}
