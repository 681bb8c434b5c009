//! One check flow for every transport: a proxied request (its own method and
//! path, and its headers) is decoded once into its canonical form
//! (`tokenscope-request`), and a mapped one is verified with one snapshot of the
//! active module. The outcome holds all a front end needs to answer, log and
//! count, so no front end decides anything or reads a decision back.

use std::sync::Arc;

use tokenscope_request::{AnswerCode, Decoded, Headers, Refusal, decode};

use super::verify::{Asker, NeedsStore, Reads, ResourceOf};
use super::{Authority, Verified};
use crate::runtime::PolicyModule;
use crate::verdict::{Code, Verdict};

/// What became of one check request.
#[derive(Debug)]
pub enum Outcome {
    /// No route maps it and it lies under a public prefix: allowed without a token.
    Public,
    /// No route maps it and it is not public: denied.
    Unmapped,
    /// It has no one canonical form (ambiguous convention, a path that is not
    /// canonical, a token in two places): refused before anything is decided.
    Unreadable(Refusal),
    /// A route maps it, and its token was verified for the route's action and resource.
    Verified(Verified),
}

/// A check request's outcome and the module that was in force for it.
#[derive(Debug)]
pub struct Checked {
    /// What became of it.
    pub outcome: Outcome,
    /// The module that decided (or would have, for requests settled before the policy).
    pub policy: Arc<PolicyModule>,
}

impl Checked {
    /// The decision's code, as answers and metrics name it: `allow`, a deny
    /// code, `bad-request` or `unmapped-route`.
    pub fn code(&self) -> AnswerCode {
        match &self.outcome {
            Outcome::Public => AnswerCode::Allow,
            Outcome::Unmapped => AnswerCode::UnmappedRoute,
            Outcome::Unreadable(_) => AnswerCode::BadRequest,
            Outcome::Verified(verified) => match &verified.verdict {
                Verdict::Allow { .. } => AnswerCode::Allow,
                Verdict::Deny { code, .. } => code.answer(),
            },
        }
    }
}

impl Authority {
    /// Decides one proxied request: `method` and `path` are the check request's
    /// own (Envoy puts the original path under the prefix), `headers` carry the
    /// original request by the configured convention and the token. Reads the
    /// store where the caches cannot answer, so it may wait for it.
    pub fn check(&self, method: &str, path: &str, headers: &impl Headers) -> Checked {
        match self.check_reading(method, path, headers, Reads::Store) {
            Ok(checked) => checked,
            // The store may be read here, so this cannot be; if it were, deny.
            Err(NeedsStore) => {
                let active = self.policy.active();
                let refused = Verified::refused(active.module(), Code::StoreUnavailable, "not decided");
                Checked { outcome: Outcome::Verified(refused), policy: Arc::clone(active.module()) }
            }
        }
    }

    /// `check` from memory alone, for a serving thread that must not wait:
    /// `NeedsStore` when the caches cannot answer (the token, its owner's
    /// rights, or their freshness), with nothing logged or counted yet.
    pub fn check_now(&self, method: &str, path: &str, headers: &impl Headers) -> Result<Checked, NeedsStore> {
        self.check_reading(method, path, headers, Reads::Memory)
    }

    fn check_reading(
        &self,
        method: &str,
        path: &str,
        headers: &impl Headers,
        reads: Reads,
    ) -> Result<Checked, NeedsStore> {
        let active = self.policy.active();
        let policy = Arc::clone(active.module());
        let outcome = match decode(self.config.check.settings(), method, path, headers) {
            Err(refusal) => Outcome::Unreadable(refusal),
            Ok(Decoded::Public { .. }) => Outcome::Public,
            Ok(Decoded::Unmapped { original }) => {
                tracing::info!(method = %original.method, convention = %original.convention, "unmapped route denied");
                Outcome::Unmapped
            }
            Ok(Decoded::Mapped { route, secret, .. }) => {
                let presented = secret.as_ref().map(|(secret, _)| secret.as_str());
                Outcome::Verified(self.verify_reading(
                    &active,
                    presented,
                    &route.action,
                    ResourceOf::Fixed(&route.resource),
                    Asker::Traffic,
                    reads,
                )?)
            }
        };
        Ok(Checked { outcome, policy })
    }
}
