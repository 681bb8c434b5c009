//! Why a lifecycle operation did not happen: refused by the policy or the
//! operator's rules, not found, or the store failed. Front ends map these to exit
//! codes and HTTP statuses.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum LifecycleError {
    /// The policy or an operator rule refused it; `code` is a stable deny code.
    #[error("refused ({code}): {message}")]
    Refused { code: &'static str, message: String },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// Another request changed the token at the same time; nothing was changed.
    #[error("{0}")]
    Conflict(String),
    #[error("the token store failed: {0:#}")]
    Store(#[from] anyhow::Error),
}
