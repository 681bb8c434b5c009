//! The verify path: presented secret -> shape check -> SHA-256 -> stored token
//! (from the cache, else the store) -> the owner's current rights (likewise) ->
//! policy decision -> usage count. Every failure is a deny with its own code; the
//! secret never reaches a log line or a message. One snapshot of the active
//! policy decides the whole request, and the decision log line (`log.decisions`)
//! names that module (name, version, SHA-256) and the time the verification took.
//! A serving thread verifies from memory only (`Reads::Memory`): what the caches
//! cannot answer is handed to a thread that may wait for the store, where
//! concurrent misses for one secret share one read.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use super::Authority;
use super::cache::{CachedToken, Found};
use super::rights::owner_rights;
use crate::config::DecisionLog;
use crate::contract::{DenyCode, TokenStatus};
use crate::observe::Tapped;
use crate::observe::decision_log::{self, DecisionLine};
use crate::runtime::{KeyedRights, PolicyModule, Question};
use crate::secret::{PREFIX, SECRET_LEN, SecretHash, check_shape};
use crate::store::{PrincipalId, TokenId};
use crate::swap::ActivePolicy;
use crate::verdict::{Code, Verdict};

/// The answer for one presented token.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The token's id, once the secret matched a stored token.
    pub token: Option<TokenId>,
    /// The token's name, once the secret matched.
    pub token_name: Option<Arc<str>>,
    /// The token's owner, once the secret matched.
    pub owner: Option<Arc<str>>,
    /// The owner's id, once the secret matched.
    pub owner_id: Option<PrincipalId>,
    /// Allowed, or denied with a code and a reason.
    pub verdict: Verdict,
    /// The normalised grant that allowed the request (named for `verify` only).
    pub grant: Option<String>,
    /// The module that decided (or would have, for denies before the policy).
    pub policy: Arc<PolicyModule>,
}

impl Verified {
    pub(super) fn refused(policy: &Arc<PolicyModule>, code: Code, message: impl Into<Arc<str>>) -> Verified {
        Verified {
            token: None,
            token_name: None,
            owner: None,
            owner_id: None,
            verdict: Verdict::deny(code, message),
            grant: None,
            policy: Arc::clone(policy),
        }
    }
}

/// Who asks, which says what a verification does beside deciding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Asker {
    /// A proxied request: shadowed and recorded.
    Traffic,
    /// `verify` (the CLI, benchmarks): shadowed and recorded, and the grant that
    /// allowed is named.
    Direct,
    /// The management API: the operator's own requests, neither shadowed nor recorded.
    Operator,
}

/// What a verification may read: memory only (a serving thread, which must not
/// wait), or the store too (a thread that may).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reads {
    /// The caches only; what they cannot answer is `NeedsStore`.
    Memory,
    /// The caches, and the store for what they cannot answer.
    Store,
}

/// A verification memory alone cannot decide: hand it to a thread that may
/// wait for the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeedsStore;

/// The resource a verification is about: given, or made from the token owner's name.
pub(super) enum ResourceOf<'a> {
    /// This resource.
    Fixed(&'a str),
    /// The resource for the owner (the management API's `user/<owner>`).
    OfOwner(&'a dyn Fn(&str) -> String),
}

impl Authority {
    /// Decides whether the token `presented` may do `action` on `resource` now.
    /// The decision is also handed to the shadow module and the recorder, if any.
    pub fn verify(&self, presented: Option<&str>, action: &str, resource: &str) -> Verified {
        self.verify_with(&self.policy.active(), presented, action, ResourceOf::Fixed(resource), Asker::Direct)
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
        self.verify_with(&self.policy.active(), presented, action, ResourceOf::OfOwner(resource_of), Asker::Operator)
    }

    /// Verifies with the snapshot `active`, reading the store where the caches
    /// cannot answer; logs the decision as `log.decisions` says, and (for
    /// traffic) hands it to the shadow module and the recorder.
    pub(super) fn verify_with(
        &self,
        active: &ActivePolicy,
        presented: Option<&str>,
        action: &str,
        resource: ResourceOf<'_>,
        asker: Asker,
    ) -> Verified {
        match self.verify_reading(active, presented, action, resource, asker, Reads::Store) {
            Ok(verified) => verified,
            // Reading the store is allowed here, so this cannot be; if it were, deny.
            Err(NeedsStore) => Verified::refused(active.module(), Code::StoreUnavailable, "not decided"),
        }
    }

    /// `verify_with`, reading only what `reads` allows: a verification that
    /// needs the store under `Reads::Memory` is `NeedsStore`, with nothing
    /// logged, counted or offered to observers.
    pub(super) fn verify_reading(
        &self,
        active: &ActivePolicy,
        presented: Option<&str>,
        action: &str,
        resource: ResourceOf<'_>,
        asker: Asker,
        reads: Reads,
    ) -> Result<Verified, NeedsStore> {
        // The clock is read for the line's latency only when a line can be written.
        let started = (self.config.log.decisions != DecisionLog::None && decision_log::enabled()).then(Instant::now);
        let mut logged = Cow::Borrowed("");
        let verified = self.verify_inner(active, presented, action, resource, &mut logged, asker, reads)?;
        let log = match self.config.log.decisions {
            DecisionLog::All => true,
            DecisionLog::Denies => !verified.verdict.is_allow(),
            DecisionLog::None => false,
        };
        if let (true, Some(started)) = (log, started) {
            let module = active.module();
            let info = module.info();
            decision_log::write(&DecisionLine {
                token: verified.token.map(TokenId::get),
                owner: verified.owner.as_deref(),
                action,
                resource: &logged,
                decision: verified.verdict.code_str(),
                policy_name: &info.name,
                policy_version: &info.version,
                policy_sha256: module.sha256(),
                policy_signer: module.signature().label(),
                latency_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            });
        }
        Ok(verified)
    }

    /// The stored token whose secret `presented` hashes to `hash`, from the cache
    /// when it may answer, else from the store (and kept). `Err` is the deny to
    /// answer: a secret the cache does not hold is refused by its shape alone
    /// when that is wrong, before anything else is asked.
    fn stored_token(
        &self,
        hash: SecretHash,
        presented: &str,
        cached: bool,
        reads: Reads,
    ) -> Result<Result<Arc<CachedToken>, Refusal>, NeedsStore> {
        let found = cached.then(|| self.caches.token(&hash)).flatten();
        if let Some(Found::Token(token)) = found {
            return Ok(Ok(token));
        }
        if let Err(err) = check_shape(presented) {
            return Ok(Err((Code::MalformedToken, err.to_string().into())));
        }
        match found {
            Some(Found::Unknown) => Ok(Err((Code::UnknownToken, UNKNOWN.into()))),
            _ if reads == Reads::Memory => Err(NeedsStore),
            _ => Ok(self.read_token(hash, cached).map_err(|(code, message)| (code, message.into()))),
        }
    }

    /// The stored token whose secret hashes to `hash`, read from the store (and
    /// kept when the caches may answer). Concurrent reads for one hash are one
    /// read: the others wait for its answer.
    fn read_token(&self, hash: SecretHash, cached: bool) -> TokenRead {
        self.reads.once((hash, self.caches.generation()), || self.read_token_now(hash, cached))
    }

    fn read_token_now(&self, hash: SecretHash, cached: bool) -> TokenRead {
        let ticket = self.caches.ticket();
        let found = match self.store.token_by_hash(&hash) {
            Ok(Some(record)) => match record.grants.to_grants() {
                Ok(grants) => Found::Token(Arc::new(CachedToken::of(&record, grants))),
                Err(err) => {
                    tracing::error!(token = record.id.get(), "stored grants are unreadable: {err}");
                    return Err((Code::StoreUnavailable, "the token's stored grants are unreadable"));
                }
            },
            Ok(None) => Found::Unknown,
            Err(err) => {
                tracing::error!("token lookup failed: {err}");
                return Err((Code::StoreUnavailable, "the token store is unavailable"));
            }
        };
        if cached {
            self.caches.keep_token(ticket, hash, &found);
        }
        match found {
            Found::Token(token) => Ok(token),
            Found::Unknown => Err((Code::UnknownToken, UNKNOWN)),
        }
    }

    /// The current rights of `token`'s owner, from the cache when it may answer,
    /// else from the store (and kept). A removed owner holds nothing.
    fn rights_of(
        &self,
        token: &CachedToken,
        cached: bool,
        reads: Reads,
    ) -> Result<Result<KeyedRights, String>, NeedsStore> {
        if let Some(rights) = cached.then(|| self.caches.owner(token.owner)).flatten() {
            return Ok(Ok(rights));
        }
        if reads == Reads::Memory {
            return Err(NeedsStore);
        }
        Ok(self.read_rights(token, cached))
    }

    fn read_rights(&self, token: &CachedToken, cached: bool) -> Result<KeyedRights, String> {
        let ticket = self.caches.ticket();
        let rights = match self.store.principal_by_id(token.owner) {
            Ok(Some(owner)) => {
                KeyedRights::new(owner_rights(&owner, &self.config.roles).map_err(|e| e.to_string())?.into())
            }
            Ok(None) => KeyedRights::from(&[][..]),
            Err(err) => return Err(err.to_string()),
        };
        if cached {
            self.caches.keep_owner(ticket, token.owner, &rights);
        }
        Ok(rights)
    }

    #[allow(clippy::too_many_arguments)]
    fn verify_inner<'r>(
        &self,
        active: &ActivePolicy,
        presented: Option<&str>,
        action: &str,
        resource_of: ResourceOf<'r>,
        resource_out: &mut Cow<'r, str>,
        asker: Asker,
        reads: Reads,
    ) -> Result<Verified, NeedsStore> {
        let module = active.module();
        let Some(presented) = presented.filter(|p| !p.is_empty()) else {
            return Ok(Verified::refused(module, Code::MissingToken, "no token was presented"));
        };
        let presented = presented.trim();
        // What cannot be a secret by its length or prefix is refused before any hashing.
        if (presented.len() != SECRET_LEN || !presented.starts_with(PREFIX))
            && let Err(err) = check_shape(presented)
        {
            return Ok(Verified::refused(module, Code::MalformedToken, err.to_string()));
        }
        // The hash comes first: a secret whose hash names a cached token is one this
        // host issued, so its shape is right (SHA-256 does not collide) and the shape
        // is checked only when the cache does not know it, before any store read.
        let hash = SecretHash::of(presented);
        let cached = match reads {
            Reads::Memory if self.caches.fresh() => true,
            Reads::Memory => return Err(NeedsStore),
            Reads::Store => self.caches.usable(self.store.as_ref()),
        };
        let token = match self.stored_token(hash, presented, cached, reads)? {
            Ok(token) => token,
            Err((code, message)) => return Ok(Verified::refused(module, code, message)),
        };
        *resource_out = match resource_of {
            ResourceOf::Fixed(resource) => Cow::Borrowed(resource),
            ResourceOf::OfOwner(of) => Cow::Owned(of(&token.owner_name)),
        };
        let resource: &str = resource_out;
        let answer = |verdict| Verified {
            token: Some(token.id),
            token_name: Some(Arc::clone(&token.name)),
            owner: Some(Arc::clone(&token.owner_name)),
            owner_id: Some(token.owner),
            verdict,
            grant: None,
            policy: Arc::clone(module),
        };
        let rights = match self.rights_of(&token, cached, reads)? {
            Ok(rights) => rights,
            Err(err) => {
                tracing::error!("reading the owner's rights failed: {err}");
                return Ok(answer(Verdict::deny(Code::StoreUnavailable, "the owner's rights could not be read")));
            }
        };
        let Some(action_id) = module.action_id(action) else {
            return Ok(answer(Verdict::deny(
                Code::Policy(DenyCode::UnknownAction),
                format!("unknown action `{}`", action.escape_debug().to_string().chars().take(64).collect::<String>()),
            )));
        };
        let status = TokenStatus { expires_at: token.expires_at.map(|t| t.secs()), revoked: token.revoked };
        let now = self.now();
        let mut evaluator = active.evaluator();
        let question = Question {
            token: token.id,
            grants: &token.grants,
            owner_rights: &rights,
            status,
            action: action_id,
            resource,
            now,
        };
        let mut verified = answer(evaluator.decide(&question));
        if let (Verdict::Allow { grant }, Asker::Direct) = (&verified.verdict, asker) {
            verified.grant = evaluator.grant_text(&token.grants, *grant);
        }
        drop(evaluator);
        if verified.verdict.is_allow() {
            self.usage.record(token.id, now);
        }
        if asker != Asker::Operator && (self.shadow.is_some() || self.recorder.is_some()) {
            let tapped = Tapped { question: &question, action, verdict: &verified.verdict, policy: module };
            if let Some(shadow) = &self.shadow {
                shadow.offer(&tapped);
            }
            if let Some(recorder) = &self.recorder {
                recorder.offer(&tapped);
            }
        }
        Ok(verified)
    }
}

/// Why a presented secret names no token: the code and the message to answer.
type Refusal = (Code, Cow<'static, str>);

/// What a store read of a secret hash gave: the token, or the deny.
pub(super) type TokenRead = Result<Arc<CachedToken>, (Code, &'static str)>;

/// Why an unknown secret is refused.
const UNKNOWN: &str = "no such token (never issued, reissued, or deleted)";
