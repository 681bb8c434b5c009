//! The one ceiling that every operation handing out or widening a secret goes
//! through: create, reissue, an expiry pushed later, an edit of another token,
//! an identity token exchange, and binding rights to a principal. Who acts (an
//! `Actor`) is resolved at the moment of the operation into what bounds it: the
//! acting principal's current rights and the asking token's grants and lifetime.
//! The API, the token page, the CLI and the exchange all call these functions,
//! so they cannot differ; the escalation property test drives them directly.

use super::{Authority, LifecycleError, RefusalCode};
use crate::contract::{Grants, Request, ResourceGrant, Token};
use crate::store::{Principal, PrincipalId, TokenId};
use crate::time::UnixTime;
use crate::verdict::{Code, Verdict};

/// Who performs an operation on tokens or principals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// The operator at the command line, who holds the store itself: bounded
    /// by the owner's current rights only.
    Operator,
    /// A person signed in to the token page with a one-time link: bounded by
    /// that principal's current rights.
    Person(PrincipalId),
    /// A token presented to the API or that opened a page session: bounded by
    /// its grants and lifetime, and by its owner's current rights.
    Token(TokenId),
    /// An identity token exchanged under an OIDC rule: it mints only for the
    /// rule's principal, bounded by that principal's current rights.
    Exchange,
}

/// The acting principal, as it is at the moment of an operation.
pub(super) struct Acting {
    pub(super) principal: Principal,
    pub(super) rights: Vec<ResourceGrant>,
}

/// The token an operation was asked with, as it is at that moment.
pub(super) struct Asking {
    pub(super) id: TokenId,
    pub(super) grants: Grants,
    pub(super) expires_at: Option<UnixTime>,
}

/// What bounds one operation: resolved from its actor by `Authority::ceiling`.
pub(super) struct Ceiling {
    pub(super) actor: Actor,
    pub(super) acting: Option<Acting>,
    pub(super) asking: Option<Asking>,
}

impl Ceiling {
    /// The asking token's id, when a token asks.
    pub(super) fn asking_id(&self) -> Option<TokenId> {
        self.asking.as_ref().map(|a| a.id)
    }
}

fn gone(what: impl Into<String>) -> LifecycleError {
    LifecycleError::Refused { code: RefusalCode::ActorGone, message: what.into() }
}

/// A principal's rights as a token of its own: what it may do acting as itself.
pub(super) fn as_itself(rights: &[ResourceGrant]) -> Token {
    Token {
        grants: Grants::Resources(rights.to_vec()),
        owner_rights: rights.to_vec(),
        expires_at: None,
        revoked: false,
    }
}

impl Authority {
    /// What bounds an operation by `actor` now: a person's or a token owner's
    /// current rights, and an asking token's grants and lifetime. A token that
    /// is revoked, expired or gone, or a principal that is gone, acts no more.
    pub(super) fn ceiling(&self, actor: Actor) -> Result<Ceiling, LifecycleError> {
        let (acting, asking) = match actor {
            Actor::Operator | Actor::Exchange => (None, None),
            Actor::Person(id) => {
                let principal =
                    self.store.principal_by_id(id)?.ok_or_else(|| gone("the signed-in principal is gone"))?;
                (Some(principal), None)
            }
            Actor::Token(id) => {
                let record = self.store.token(id)?.ok_or_else(|| gone("the token that asked is gone"))?;
                if record.revoked_at.is_some() {
                    return Err(LifecycleError::Refused {
                        code: RefusalCode::Revoked,
                        message: "the token that asked is revoked".into(),
                    });
                }
                if record.expires_at.is_some_and(|at| at <= self.now()) {
                    return Err(gone("the token that asked has expired"));
                }
                let owner = self
                    .store
                    .principal_by_id(record.owner)?
                    .ok_or_else(|| gone("the asking token's owner is gone"))?;
                let grants = record.grants.to_grants()?;
                (Some(owner), Some(Asking { id, grants, expires_at: record.expires_at }))
            }
        };
        let acting = match acting {
            Some(principal) => Some(Acting { rights: self.owner_rights(&principal)?, principal }),
            None => None,
        };
        Ok(Ceiling { actor, acting, asking })
    }

    /// Whether the actor may do `action` on `resource` now, decided by the
    /// loaded policy: a person on its own rights, a token as the API decides
    /// it. The operator may do everything; an exchange nothing but mint.
    pub(super) fn authorize(&self, ceiling: &Ceiling, action: &str, resource: &str) -> Result<(), LifecycleError> {
        let token = match (&ceiling.actor, &ceiling.acting, &ceiling.asking) {
            (Actor::Operator, ..) => return Ok(()),
            (Actor::Person(_), Some(acting), _) => as_itself(&acting.rights),
            (Actor::Token(_), Some(acting), Some(asking)) => Token {
                grants: asking.grants.clone(),
                owner_rights: acting.rights.clone(),
                expires_at: asking.expires_at.map(UnixTime::secs),
                revoked: false,
            },
            _ => {
                return Err(LifecycleError::Refused {
                    code: RefusalCode::NotAllowed(Code::Policy(crate::contract::DenyCode::NoGrant)),
                    message: format!("this actor may not do `{action}`"),
                });
            }
        };
        let request = Request { action: action.to_owned(), resource: resource.to_owned(), now: self.now().secs() };
        match self.policy.active().decide(&token, &request) {
            Verdict::Allow { .. } => Ok(()),
            Verdict::Deny { code, message } => {
                Err(LifecycleError::Refused { code: RefusalCode::NotAllowed(code), message: message.to_string() })
            }
        }
    }

    /// The ceiling itself: may the actor hand out (or keep alive until
    /// `expires_at`) a secret of `owner`'s holding `grants`? The grants must
    /// pass the policy's issuance check against the owner's current rights and
    /// within the asking token's grants; when someone other than the owner
    /// acts, also within that principal's own current rights (node by node,
    /// a scope everywhere, since a scope token acts wherever its owner may);
    /// and the secret may not outlive the asking token. The normalised grants.
    pub(super) fn admit(
        &self,
        ceiling: &Ceiling,
        owner: &Principal,
        grants: &Grants,
        expires_at: Option<UnixTime>,
    ) -> Result<Grants, LifecycleError> {
        let owner_rights = self.owner_rights(owner)?;
        let normalized = self.issuable(&owner_rights, grants, ceiling.asking.as_ref().map(|a| &a.grants))?;
        if let Some(acting) = ceiling.acting.as_ref().filter(|a| a.principal.id != owner.id) {
            let own = Grants::Resources(acting.rights.clone());
            self.issuable(&acting.rights, grants, Some(&own)).map_err(|err| {
                err.explained(|| {
                    format!("`{}`, who asks, does not hold this now", acting.principal.name.escape_debug())
                })
            })?;
        }
        if let Some(cap) = ceiling.asking.as_ref().and_then(|a| a.expires_at)
            && expires_at.is_none_or(|at| at > cap)
        {
            return Err(LifecycleError::Refused {
                code: RefusalCode::ExpiryBeyondCaller,
                message: format!(
                    "the token would outlive the token that asked (@{}); a token cannot outlive it",
                    cap.secs()
                ),
            });
        }
        Ok(normalized)
    }

    /// The ceiling for a right bound to a principal (a grant, or a role at its
    /// node): the loaded policy must read it as a valid grant, and an actor
    /// other than the operator must hold it now (its own rights and its
    /// token's grants), with manage where a token bound there would need it.
    pub(super) fn admit_right(&self, ceiling: &Ceiling, right: &ResourceGrant) -> Result<(), LifecycleError> {
        let one = Grants::Resources(vec![right.clone()]);
        match self.policy.active().validate(&one) {
            Ok(Ok(())) => {}
            Ok(Err(denial)) => {
                return Err(LifecycleError::Refused {
                    code: RefusalCode::Policy(denial.code),
                    message: format!("the loaded policy refuses the right: {}", denial.message),
                });
            }
            Err(fault) => {
                return Err(LifecycleError::Refused { code: RefusalCode::PolicyFault, message: fault.message });
            }
        }
        if let Some(acting) = &ceiling.acting {
            self.issuable(&acting.rights, &one, ceiling.asking.as_ref().map(|a| &a.grants)).map_err(|err| {
                let who = acting.principal.name.escape_debug();
                err.explained(|| format!("only rights the one who asks holds can be bound (`{who}`)"))
            })?;
        }
        Ok(())
    }
}
