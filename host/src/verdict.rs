//! The host's answer to "may this token do this": allow with the matching grant,
//! or deny with a stable code and a reason. Policy deny codes come from the WIT
//! contract; the host adds its own (a policy fault) and never allows on doubt.

use std::sync::{Arc, LazyLock};

use serde::Serialize;

use tokenscope_request::AnswerCode;

use crate::contract::{Decision, DenyCode, oversized_reason, policy_code};

/// Why a request was denied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// The policy's own refusal.
    Policy(DenyCode),
    /// The policy trapped, timed out, or could not be run.
    PolicyFault,
    /// No token was presented.
    MissingToken,
    /// The presented token is not shaped like a tokenscope secret (checked before any lookup).
    MalformedToken,
    /// No stored token has this secret (never issued, reissued, or deleted).
    UnknownToken,
    /// The token store could not be read.
    StoreUnavailable,
}

impl Code {
    /// The code a check answers with (its wire name and status).
    pub fn answer(self) -> AnswerCode {
        match self {
            Code::Policy(code) => AnswerCode::Policy(policy_code(code)),
            Code::PolicyFault => AnswerCode::PolicyFault,
            Code::MissingToken => AnswerCode::MissingToken,
            Code::MalformedToken => AnswerCode::MalformedToken,
            Code::UnknownToken => AnswerCode::UnknownToken,
            Code::StoreUnavailable => AnswerCode::StoreUnavailable,
        }
    }

    /// The stable wire name, e.g. `no-grant` or `policy-fault`.
    pub fn as_str(&self) -> &'static str {
        self.answer().name()
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The host's answer for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed; `grant` indexes the token's normalised grants.
    Allow {
        /// The index of the token's normalised grant that allowed it.
        grant: u32,
    },
    /// Denied.
    Deny {
        /// Why, as a stable code.
        code: Code,
        /// Why, in words (shared: a kept reason is handed out without a copy).
        message: Arc<str>,
    },
}

impl Verdict {
    /// A deny with `code` and `message`.
    pub fn deny(code: Code, message: impl Into<Arc<str>>) -> Verdict {
        Verdict::Deny { code, message: message.into() }
    }

    /// The empty reason of a ruling not yet explained, shared (no allocation per deny).
    pub fn no_reason() -> Arc<str> {
        static EMPTY: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from(""));
        Arc::clone(&EMPTY)
    }

    /// Whether it allows.
    pub fn is_allow(&self) -> bool {
        matches!(self, Verdict::Allow { .. })
    }

    /// The deny code, or `None` when allowed.
    pub fn code(&self) -> Option<Code> {
        match self {
            Verdict::Allow { .. } => None,
            Verdict::Deny { code, .. } => Some(*code),
        }
    }

    /// The deny code's wire name, or `allow`.
    pub fn code_str(&self) -> &'static str {
        self.code().map_or("allow", |c| c.as_str())
    }
}

impl From<Decision> for Verdict {
    /// The policy's decision; a deny whose reason is over the contract's
    /// `MAX_REASON` is a `policy-fault` (the reason is not passed on to logs or answers).
    fn from(decision: Decision) -> Verdict {
        match decision {
            Decision::Allow(allowance) => Verdict::Allow { grant: allowance.grant },
            Decision::Deny(denial) => match oversized_reason(&denial) {
                Some(message) => Verdict::deny(Code::PolicyFault, message),
                None => Verdict::deny(Code::Policy(denial.code), denial.message),
            },
        }
    }
}
