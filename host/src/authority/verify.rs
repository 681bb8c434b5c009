//! The verify path: presented secret -> shape check -> SHA-256 -> stored record ->
//! the owner's current rights -> policy decision -> usage count. Every failure is
//! a deny with its own code; the secret never reaches a log line or a message.
//! One snapshot of the active policy decides the whole request, and the decision
//! log line names that module (name, version, SHA-256).

use std::sync::Arc;

use super::Authority;
use super::rights::owner_rights;
use crate::contract::{DenyCode, TokenStatus};
use crate::observe::Tapped;
use crate::runtime::{PolicyModule, Question};
use crate::secret::Secret;
use crate::store::TokenId;
use crate::swap::ActivePolicy;
use crate::verdict::{Code, Verdict};

/// The answer for one presented token.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The token's id, once the secret matched a stored token.
    pub token: Option<TokenId>,
    /// The token's name, once the secret matched.
    pub token_name: Option<String>,
    /// The token's owner, once the secret matched.
    pub owner: Option<String>,
    /// Allowed, or denied with a code and a reason.
    pub verdict: Verdict,
    /// The normalised grant that allowed the request.
    pub grant: Option<String>,
    /// The module that decided (or would have, for denies before the policy).
    pub policy: Arc<PolicyModule>,
}

impl Verified {
    fn refused(policy: &Arc<PolicyModule>, code: Code, message: impl Into<String>) -> Verified {
        Verified {
            token: None,
            token_name: None,
            owner: None,
            verdict: Verdict::deny(code, message),
            grant: None,
            policy: Arc::clone(policy),
        }
    }
}

impl Authority {
    /// Decides whether the token `presented` may do `action` on `resource` now.
    /// The decision is also handed to the shadow module and the recorder, if any.
    pub fn verify(&self, presented: Option<&str>, action: &str, resource: &str) -> Verified {
        self.verify_with(&self.policy.active(), presented, action, &|_| resource.to_owned(), true)
    }

    /// Like `verify`, with the resource derived from the token owner's name (the
    /// management API checks `user.token:*` on `user/<owner>`). These are the
    /// operator's own requests, not the service's traffic: they are neither
    /// shadowed nor recorded.
    pub fn verify_for_owner(
        &self,
        presented: Option<&str>,
        action: &str,
        resource_of: &dyn Fn(&str) -> String,
    ) -> Verified {
        self.verify_with(&self.policy.active(), presented, action, resource_of, false)
    }

    /// Verifies with the snapshot `active`, logs the decision, and (with `tap`)
    /// hands it to the shadow module and the recorder.
    pub(super) fn verify_with(
        &self,
        active: &ActivePolicy,
        presented: Option<&str>,
        action: &str,
        resource_of: &dyn Fn(&str) -> String,
        tap: bool,
    ) -> Verified {
        let mut resource = String::new();
        let verified = self.verify_inner(active, presented, action, resource_of, &mut resource, tap);
        let module = active.module();
        tracing::info!(
            token = verified.token.map(TokenId::get),
            owner = verified.owner.as_deref(),
            action,
            resource,
            decision = verified.verdict.code_str(),
            policy_name = %module.info().name,
            policy_version = %module.info().version,
            policy_sha256 = module.sha256(),
            "verify"
        );
        verified
    }

    fn verify_inner(
        &self,
        active: &ActivePolicy,
        presented: Option<&str>,
        action: &str,
        resource_of: &dyn Fn(&str) -> String,
        resource_out: &mut String,
        tap: bool,
    ) -> Verified {
        let module = active.module();
        let Some(presented) = presented.filter(|p| !p.is_empty()) else {
            return Verified::refused(module, Code::MissingToken, "no token was presented");
        };
        let secret = match Secret::parse(presented.trim()) {
            Ok(secret) => secret,
            Err(err) => return Verified::refused(module, Code::MalformedToken, err.to_string()),
        };
        let record = match self.store.token_by_hash(&secret.hash()) {
            Ok(Some(record)) => record,
            Ok(None) => {
                let message = "no such token (never issued, reissued, or deleted)";
                return Verified::refused(module, Code::UnknownToken, message);
            }
            Err(err) => {
                tracing::error!("token lookup failed: {err:#}");
                return Verified::refused(module, Code::StoreUnavailable, "the token store is unavailable");
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
            policy: Arc::clone(module),
        };
        let rights = match self.store.principal_by_id(record.owner) {
            Ok(Some(owner)) => owner_rights(&owner, &self.config.roles).map_err(|e| e.to_string()),
            Ok(None) => Ok(Vec::new()),
            Err(err) => Err(err.to_string()),
        };
        let rights = match rights {
            Ok(rights) => rights,
            Err(err) => {
                tracing::error!("reading the owner's rights failed: {err}");
                verified.verdict = Verdict::deny(Code::StoreUnavailable, "the owner's rights could not be read");
                return verified;
            }
        };
        let grants = match record.grants.to_grants() {
            Ok(grants) => grants,
            Err(err) => {
                tracing::error!(token = record.id.get(), "stored grants are unreadable: {err}");
                verified.verdict = Verdict::deny(Code::StoreUnavailable, "the token's stored grants are unreadable");
                return verified;
            }
        };
        let Some(action_id) = module.action_id(action) else {
            verified.verdict = Verdict::deny(
                Code::Policy(DenyCode::UnknownAction),
                format!("unknown action `{}`", action.escape_debug().to_string().chars().take(64).collect::<String>()),
            );
            return verified;
        };
        let status =
            TokenStatus { expires_at: record.expires_at.map(|t| t.secs()), revoked: record.revoked_at.is_some() };
        let now = self.now();
        let mut evaluator = active.evaluator();
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
        }
        drop(evaluator);
        if verified.verdict.is_allow() {
            self.usage.record(record.id, now);
        }
        if tap && (self.shadow.is_some() || self.recorder.is_some()) {
            let tapped = Tapped { question: &question, action, verdict: &verified.verdict, policy: module };
            if let Some(shadow) = &self.shadow {
                shadow.offer(&tapped);
            }
            if let Some(recorder) = &self.recorder {
                recorder.offer(&tapped);
            }
        }
        verified
    }
}
