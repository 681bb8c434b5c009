//! The contract's wire names and bounds: the text of every deny code and level
//! (exhaustive, so a code added to the WIT file does not compile until it is
//! named here), the catalog index type, and the longest reason a policy may give.

use super::bindings::{Denial, DenyCode, Level};

/// An action as the policy numbers it: its index in the module's catalog. It is
/// a `u32` on the wire (`decide-compiled`), as in the policy crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActionId(u32);

impl ActionId {
    /// The id of catalog entry `index`; `None` past what the wire can carry.
    pub fn from_index(index: usize) -> Option<ActionId> {
        u32::try_from(index).ok().map(ActionId)
    }

    /// The catalog entry this id names.
    pub fn index(self) -> usize {
        // u32 always fits the usize of the 64-bit and wasm32 targets we build for.
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }

    /// The value passed to `decide-compiled`.
    pub fn wire(self) -> u32 {
        self.0
    }
}

/// The longest reason a policy may give, in bytes; a longer one is the policy
/// misbehaving (a `policy-fault`), and its text goes nowhere.
pub const MAX_REASON: usize = 4096;

/// Why `denial` cannot be passed on: its reason is over `MAX_REASON` bytes.
pub fn oversized_reason(denial: &Denial) -> Option<String> {
    let len = denial.message.len();
    (len > MAX_REASON).then(|| format!("the policy gave a reason of {len} bytes (at most {MAX_REASON})"))
}

/// The WIT name of a policy deny code, e.g. `no-grant`.
pub fn deny_code_name(code: DenyCode) -> &'static str {
    match code {
        DenyCode::MalformedRequest => "malformed-request",
        DenyCode::UnknownAction => "unknown-action",
        DenyCode::WrongTarget => "wrong-target",
        DenyCode::NoGrant => "no-grant",
        DenyCode::OwnerLacksRight => "owner-lacks-right",
        DenyCode::Expired => "expired",
        DenyCode::Revoked => "revoked",
        DenyCode::MalformedScope => "malformed-scope",
        DenyCode::UnknownScope => "unknown-scope",
        DenyCode::InvalidGrant => "invalid-grant",
        DenyCode::Escalation => "escalation",
        DenyCode::AdminRequired => "admin-required",
        DenyCode::TooLarge => "too-large",
    }
}

/// `read`, `write` or `manage`.
pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::Read => "read",
        Level::Write => "write",
        Level::Manage => "manage",
    }
}

/// The level named `text`, if it names one.
pub fn parse_level(text: &str) -> Option<Level> {
    match text {
        "read" => Some(Level::Read),
        "write" => Some(Level::Write),
        "manage" => Some(Level::Manage),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names_round_trip() {
        for level in [Level::Read, Level::Write, Level::Manage] {
            assert_eq!(parse_level(level_name(level)), Some(level));
        }
        assert_eq!(parse_level("admin"), None);
    }

    #[test]
    fn reasons_over_the_limit_are_named() {
        let denial = |n| Denial { code: DenyCode::NoGrant, message: "x".repeat(n) };
        assert!(oversized_reason(&denial(MAX_REASON)).is_none());
        assert!(oversized_reason(&denial(MAX_REASON + 1)).is_some_and(|m| m.contains("4097 bytes")));
    }
}
