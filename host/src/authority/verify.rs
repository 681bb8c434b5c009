//! The verify path: presented secret -> shape check -> SHA-256 -> stored record ->
//! the owner's current rights -> policy decision -> usage count. Every failure is
//! a deny with its own code; the secret never reaches a log line or a message.

use crate::runtime::TokenStatus;
use crate::secret::Secret;
use crate::store::TokenId;
use crate::verdict::{Code, Verdict};

use super::Authority;
use crate::runtime::Question;

/// The answer for one presented token.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The token's id, once the secret matched a stored token.
    pub token: Option<TokenId>,
    pub token_name: Option<String>,
    pub owner: Option<String>,
    pub verdict: Verdict,
    /// The normalised grant that allowed the request.
    pub grant: Option<String>,
}

impl Verified {
    fn refused(code: Code, message: impl Into<String>) -> Verified {
        Verified { token: None, token_name: None, owner: None, verdict: Verdict::deny(code, message), grant: None }
    }
}

impl Authority {
    /// Decides whether the token `presented` may do `action` on `resource` now.
    pub fn verify(&self, presented: Option<&str>, action: &str, resource: &str) -> Verified {
        self.verify_for_owner(presented, action, &|_| resource.to_owned())
    }

    /// Like `verify`, with the resource derived from the token owner's name (the
    /// management API checks `user.token:*` on `user/<owner>`).
    pub fn verify_for_owner(
        &self,
        presented: Option<&str>,
        action: &str,
        resource_of: &dyn Fn(&str) -> String,
    ) -> Verified {
        let mut resource = String::new();
        let verified = self.verify_inner(presented, action, resource_of, &mut resource);
        tracing::info!(
            token = verified.token,
            owner = verified.owner.as_deref(),
            action,
            resource,
            decision = verified.verdict.code_str(),
            policy = %self.module.label(),
            "verify"
        );
        verified
    }

    fn verify_inner(
        &self,
        presented: Option<&str>,
        action: &str,
        resource_of: &dyn Fn(&str) -> String,
        resource_out: &mut String,
    ) -> Verified {
        let Some(presented) = presented.filter(|p| !p.is_empty()) else {
            return Verified::refused(Code::MissingToken, "no token was presented");
        };
        let secret = match Secret::parse(presented.trim()) {
            Ok(secret) => secret,
            Err(err) => return Verified::refused(Code::MalformedToken, err.to_string()),
        };
        let record = match self.store.token_by_hash(&secret.hash()) {
            Ok(Some(record)) => record,
            Ok(None) => {
                return Verified::refused(Code::UnknownToken, "no such token (never issued, reissued, or deleted)");
            }
            Err(err) => {
                tracing::error!("token lookup failed: {err:#}");
                return Verified::refused(Code::StoreUnavailable, "the token store is unavailable");
            }
        };
        *resource_out = resource_of(&record.owner_name);
        let resource = resource_out.as_str();
        let mut verified = Verified {
            token: Some(record.id),
            token_name: Some(record.name.clone()),
            owner: Some(record.owner_name.clone()),
            verdict: Verdict::deny(Code::StoreUnavailable, "not decided"),
            grant: None,
        };
        let rights = match self.store.principal_by_id(record.owner) {
            Ok(Some(owner)) => crate::rights::owner_rights(&owner, &self.config.roles),
            Ok(None) => Ok(Vec::new()),
            Err(err) => Err(err),
        };
        let rights = match rights {
            Ok(rights) => rights,
            Err(err) => {
                tracing::error!("reading the owner's rights failed: {err:#}");
                verified.verdict = Verdict::deny(Code::StoreUnavailable, "the owner's rights could not be read");
                return verified;
            }
        };
        let grants = match record.grants.to_grants() {
            Ok(grants) => grants,
            Err(err) => {
                tracing::error!(token = record.id, "stored grants are unreadable: {err:#}");
                verified.verdict = Verdict::deny(Code::StoreUnavailable, "the token's stored grants are unreadable");
                return verified;
            }
        };
        let Some(action_id) = self.module.action_id(action) else {
            verified.verdict = Verdict::deny(
                Code::Policy(crate::runtime::DenyCode::UnknownAction),
                format!("unknown action `{}`", action.escape_debug().to_string().chars().take(64).collect::<String>()),
            );
            return verified;
        };
        let status = TokenStatus { expires_at: record.expires_at, revoked: record.revoked_at.is_some() };
        let now = self.now();
        let Ok(mut evaluator) = self.evaluator.lock() else {
            verified.verdict = Verdict::deny(Code::PolicyFault, "the policy evaluator is unavailable");
            return verified;
        };
        let question = Question {
            token: record.id,
            grants: &grants,
            owner_rights: &rights,
            status,
            action: action_id,
            resource,
            now,
        };
        verified.verdict = evaluator.decide(&question);
        if let Verdict::Allow { grant } = verified.verdict {
            verified.grant = evaluator.grant_text(record.id, grant);
            drop(evaluator);
            self.usage.record(record.id, now);
        }
        verified
    }
}
