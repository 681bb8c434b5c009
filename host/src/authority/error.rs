//! Why a lifecycle operation did not happen, one variant per cause: refused (by
//! the policy or the operator's rules, with a `RefusalCode` code), not found,
//! invalid input, a concurrent change, or a failure of the store, the OS RNG or
//! an owner's bindings. Front ends map each to an exit code or HTTP status with
//! an exhaustive `match`, never by reading text.

use thiserror::Error;

use crate::contract::{DenyCode, deny_code_name};
use crate::secret::RngError;
use crate::store::StoreError;
use crate::verdict::Code;

use super::rights::RightsError;

/// Why a request to issue or change a token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusalCode {
    /// The policy's issuance check refused it (escalation, admin-required, an unknown scope...).
    Policy(DenyCode),
    /// The policy trapped, timed out or could not be run.
    PolicyFault,
    /// The token to reissue, or the token that asked, is revoked.
    Revoked,
    /// The new expiry is later than that of the token that asked.
    ExpiryBeyondCaller,
    /// A token without expiry was asked for where the config forbids it.
    NoExpiryNotAllowed,
    /// The expiry is not in the future.
    ExpiryInPast,
    /// The expiry is further away than `tokens.max_ttl`.
    ExpiryTooLong,
    /// The actor may not do the operation at all (the policy's decision on
    /// `user.token:edit` or `system.principals:edit`, with its code).
    NotAllowed(Code),
    /// The token or person that asked can act no more: deleted, expired or removed.
    ActorGone,
    /// The change would leave no principal holding manage on the root.
    LastAdministrator,
    /// The principal holds as many live exchanged tokens as its rule allows (`oidc.rules.max_live`).
    TooManyLive,
    /// The identity token was exchanged before: each is exchanged once.
    IdentityReplayed,
    /// The token to reissue was reported leaked: a reissued secret could be the
    /// leaked one's copy revived, so a new token is made instead.
    Leaked,
}

impl RefusalCode {
    /// The stable wire name, e.g. `escalation` or `expiry-beyond-caller`.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::Policy(code) => deny_code_name(code),
            RefusalCode::PolicyFault => "policy-fault",
            RefusalCode::Revoked => "revoked",
            RefusalCode::ExpiryBeyondCaller => "expiry-beyond-caller",
            RefusalCode::NoExpiryNotAllowed => "no-expiry-not-allowed",
            RefusalCode::ExpiryInPast => "expiry-in-past",
            RefusalCode::ExpiryTooLong => "expiry-too-long",
            RefusalCode::NotAllowed(code) => code.as_str(),
            RefusalCode::ActorGone => "actor-gone",
            RefusalCode::LastAdministrator => "last-administrator",
            RefusalCode::TooManyLive => "too-many-live-tokens",
            RefusalCode::IdentityReplayed => "identity-token-replayed",
            RefusalCode::Leaked => "leaked",
        }
    }
}

impl std::fmt::Display for RefusalCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lifecycle operation that did not happen.
#[derive(Debug, Error)]
pub enum LifecycleError {
    /// The policy or an operator rule refused it.
    #[error("refused ({code}): {message}")]
    Refused {
        /// Why, as a stable code.
        code: RefusalCode,
        /// Why, in words.
        message: String,
    },
    /// The principal or token named does not exist (or is not the caller's).
    #[error("{0} not found")]
    NotFound(String),
    /// The request itself is not valid (an empty name, a control character).
    #[error("{0}")]
    Invalid(String),
    /// Another request changed the token at the same time; nothing was changed.
    #[error("{0}")]
    Conflict(String),
    /// The token store failed or holds unreadable data.
    #[error("the token store failed: {0}")]
    Store(#[from] StoreError),
    /// No secret could be generated.
    #[error("no secret could be made: {0}")]
    Rng(#[from] RngError),
    /// The owner's bindings cannot be read as rights, so nothing is decided on them.
    #[error("{0}")]
    Rights(#[from] RightsError),
}

impl LifecycleError {
    /// A refusal with `what` said before its reason (which operation, whose
    /// rights); every other error as it is.
    pub fn explained(self, what: impl FnOnce() -> String) -> LifecycleError {
        match self {
            LifecycleError::Refused { code, message } => {
                LifecycleError::Refused { code, message: format!("{}: {message}", what()) }
            }
            other => other,
        }
    }
}
