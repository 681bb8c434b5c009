//! The contract's wire names and bounds: every deny code and level mapped to its
//! twin in `tokenscope-request`, which holds the one table of their names
//! (exhaustive, so a code added to the WIT file does not compile until it is
//! mapped here), the catalog index type, and the longest reason a policy may give.

use tokenscope_request::{Level as LevelText, PolicyCode};

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

/// The request crate's twin of a policy deny code (which holds its wire name
/// and status); exhaustive, so a code added to the WIT file does not compile
/// until it is mapped here.
pub fn policy_code(code: DenyCode) -> PolicyCode {
    match code {
        DenyCode::MalformedRequest => PolicyCode::MalformedRequest,
        DenyCode::UnknownAction => PolicyCode::UnknownAction,
        DenyCode::WrongTarget => PolicyCode::WrongTarget,
        DenyCode::NoGrant => PolicyCode::NoGrant,
        DenyCode::OwnerLacksRight => PolicyCode::OwnerLacksRight,
        DenyCode::Expired => PolicyCode::Expired,
        DenyCode::Revoked => PolicyCode::Revoked,
        DenyCode::MalformedScope => PolicyCode::MalformedScope,
        DenyCode::UnknownScope => PolicyCode::UnknownScope,
        DenyCode::InvalidGrant => PolicyCode::InvalidGrant,
        DenyCode::Escalation => PolicyCode::Escalation,
        DenyCode::AdminRequired => PolicyCode::AdminRequired,
        DenyCode::TooLarge => PolicyCode::TooLarge,
    }
}

/// The WIT name of a policy deny code, e.g. `no-grant`.
pub fn deny_code_name(code: DenyCode) -> &'static str {
    policy_code(code).name()
}

/// The request crate's twin of a level, the other way round from `wit_level`.
fn level_text(level: Level) -> LevelText {
    match level {
        Level::Read => LevelText::Read,
        Level::Write => LevelText::Write,
        Level::Manage => LevelText::Manage,
    }
}

/// The contract's level for the request crate's.
pub fn wit_level(level: LevelText) -> Level {
    match level {
        LevelText::Read => Level::Read,
        LevelText::Write => Level::Write,
        LevelText::Manage => Level::Manage,
    }
}

/// `read`, `write` or `manage`.
pub fn level_name(level: Level) -> &'static str {
    level_text(level).name()
}

/// The level named `text`, if it names one.
pub fn parse_level(text: &str) -> Option<Level> {
    LevelText::from_name(text).map(wit_level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_deny_code_maps_to_the_request_crates_twin_of_its_name() {
        for code in PolicyCode::ALL {
            assert_eq!(PolicyCode::from_name(code.name()), Some(code));
        }
        assert_eq!(deny_code_name(DenyCode::OwnerLacksRight), "owner-lacks-right");
    }

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
