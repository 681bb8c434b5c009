//! The policy's plain Rust vocabulary, one type per WIT type of `wit/policy.wit`.
//! The decision code works on these; only `component.rs` converts them to and from
//! the generated bindings, so everything here is unit-tested natively.

use std::fmt;

/// Access levels, ordered: read < write < manage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Read,
    Write,
    Manage,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Read, Level::Write, Level::Manage];

    pub fn name(self) -> &'static str {
        match self {
            Level::Read => "read",
            Level::Write => "write",
            Level::Manage => "manage",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a resource grant allows on its node and everything below it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    Level(Level),
    Actions(Vec<String>),
}

/// A grant bound to one resource node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResourceGrant {
    pub resource: String,
    pub access: Access,
}

impl ResourceGrant {
    pub fn level(resource: &str, level: Level) -> Self {
        ResourceGrant { resource: resource.to_owned(), access: Access::Level(level) }
    }

    pub fn actions(resource: &str, actions: &[&str]) -> Self {
        let actions = actions.iter().map(|a| (*a).to_owned()).collect();
        ResourceGrant { resource: resource.to_owned(), access: Access::Actions(actions) }
    }
}

/// A token's grants: resource grants xor scope strings.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Grants {
    Resources(Vec<ResourceGrant>),
    Scopes(Vec<String>),
}

/// Everything the policy needs to know about a token to decide a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub grants: Grants,
    pub owner_rights: Vec<ResourceGrant>,
    pub expires_at: Option<u64>,
    pub revoked: bool,
}

/// What a token is being used for; `now` is unix seconds from the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub action: String,
    pub resource: String,
    pub now: u64,
}

/// The part of a token's state that changes without its grants changing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TokenStatus {
    pub expires_at: Option<u64>,
    pub revoked: bool,
}

/// Why a request or an issuance was refused (mirrors the WIT `deny-code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DenyCode {
    MalformedRequest,
    UnknownAction,
    WrongTarget,
    NoGrant,
    OwnerLacksRight,
    Expired,
    Revoked,
    MalformedScope,
    UnknownScope,
    InvalidGrant,
    Escalation,
    AdminRequired,
    TooLarge,
}

impl DenyCode {
    /// Every code, in the WIT file's order.
    pub const ALL: [DenyCode; 13] = [
        DenyCode::MalformedRequest,
        DenyCode::UnknownAction,
        DenyCode::WrongTarget,
        DenyCode::NoGrant,
        DenyCode::OwnerLacksRight,
        DenyCode::Expired,
        DenyCode::Revoked,
        DenyCode::MalformedScope,
        DenyCode::UnknownScope,
        DenyCode::InvalidGrant,
        DenyCode::Escalation,
        DenyCode::AdminRequired,
        DenyCode::TooLarge,
    ];

    /// The code as written in the WIT contract and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
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
}

/// A refusal with its reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    pub code: DenyCode,
    pub message: String,
}

impl Denial {
    pub fn new(code: DenyCode, message: impl Into<String>) -> Self {
        Denial { code, message: message.into() }
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

/// The outcome of a request: allowed by the grant at `grant` in the token's
/// normalised grants, or denied with a reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow { grant: u32 },
    Deny(Denial),
}

impl Decision {
    pub fn deny(code: DenyCode, message: impl Into<String>) -> Self {
        Decision::Deny(Denial::new(code, message))
    }

    pub fn is_allow(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }

    /// The deny code, if denied.
    pub fn code(&self) -> Option<DenyCode> {
        match self {
            Decision::Allow { .. } => None,
            Decision::Deny(d) => Some(d.code),
        }
    }
}

/// The hot path's outcome: allowed by the normalised grant at this index, or
/// denied with a code whose reason is built only on request (`explain`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ruling {
    Allow(u32),
    Deny(DenyCode),
}

impl Ruling {
    pub fn is_allow(self) -> bool {
        matches!(self, Ruling::Allow(_))
    }

    /// The deny code, if denied.
    pub fn code(self) -> Option<DenyCode> {
        match self {
            Ruling::Allow(_) => None,
            Ruling::Deny(code) => Some(code),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases of `enum <name>` in the contract this crate is built against, in order.
    fn wit_enum(name: &str) -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit").join("policy.wit");
        let wit = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let start = wit.find(&format!("enum {name} {{")).unwrap_or_else(|| panic!("enum {name} in the WIT file"));
        let body = &wit[start..];
        let body = &body[body.find('{').unwrap_or(0) + 1..body.find('}').unwrap_or(0)];
        body.lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with("//"))
            .map(|line| line.trim_end_matches(',').to_owned())
            .collect()
    }

    #[test]
    fn deny_codes_and_levels_are_named_as_the_wit_file_names_them() {
        let codes: Vec<&str> = DenyCode::ALL.iter().map(|code| code.as_str()).collect();
        assert_eq!(codes, wit_enum("deny-code"));
        let levels: Vec<&str> = Level::ALL.iter().map(|level| level.name()).collect();
        assert_eq!(levels, wit_enum("level"));
    }
}
