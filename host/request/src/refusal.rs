//! Why a check request cannot be decided: it has no one canonical form (an
//! ambiguous convention, a path that is not canonical, a token in two places).
//! The server answers it 400 `bad-request`, the gateway likewise.

use thiserror::Error;

/// Why a check request cannot be decided: it is answered 400 with this message.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct Refusal {
    /// Why, for the 400 answer.
    pub message: String,
}

impl Refusal {
    /// A refusal saying `message`.
    pub fn new(message: impl Into<String>) -> Refusal {
        Refusal { message: message.into() }
    }
}
