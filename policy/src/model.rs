//! The policy's plain Rust vocabulary, one type per WIT type of `wit/policy.wit`.
//! The decision code works on these; only `component.rs` converts them to and from
//! the generated bindings, so everything here is unit-tested natively.

use std::fmt;

/// Access levels, ordered: read < write < manage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// May read.
    Read,
    /// May read and write.
    Write,
    /// May read, write and administer (bind tokens, manage rights).
    Manage,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 3] = [Level::Read, Level::Write, Level::Manage];

    /// The level's name in grants and on the wire: `read`, `write` or `manage`.
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
    /// Every action up to this level.
    Level(Level),
    /// Exactly these catalog actions (and the base actions they imply).
    Actions(Vec<String>),
}

/// A grant bound to one resource node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResourceGrant {
    /// The node's path, e.g. `channel/main` (empty for the root).
    pub resource: String,
    /// What the grant allows on the node and below.
    pub access: Access,
}

impl ResourceGrant {
    /// A grant of `level` on `resource`.
    pub fn level(resource: &str, level: Level) -> Self {
        ResourceGrant { resource: resource.to_owned(), access: Access::Level(level) }
    }

    /// A grant of the named `actions` on `resource`.
    pub fn actions(resource: &str, actions: &[&str]) -> Self {
        let actions = actions.iter().map(|a| (*a).to_owned()).collect();
        ResourceGrant { resource: resource.to_owned(), access: Access::Actions(actions) }
    }
}

/// A token's grants: resource grants xor scope strings.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Grants {
    /// Grants bound to resource nodes (`channel/main=write`).
    Resources(Vec<ResourceGrant>),
    /// Scope strings (`artifact:download`, `channel:view`).
    Scopes(Vec<String>),
}

/// Everything the policy needs to know about a token to decide a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// What the token was issued with.
    pub grants: Grants,
    /// What its owner holds now: a token never does more than its owner may.
    pub owner_rights: Vec<ResourceGrant>,
    /// When it expires (unix seconds), if ever.
    pub expires_at: Option<u64>,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// What a token is being used for; `now` is unix seconds from the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The catalog action asked for, e.g. `artifact:download`.
    pub action: String,
    /// The resource path it is asked on.
    pub resource: String,
    /// The time of the request, unix seconds.
    pub now: u64,
}

/// The part of a token's state that changes without its grants changing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TokenStatus {
    /// When the token expires (unix seconds), if ever.
    pub expires_at: Option<u64>,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// Why a request or an issuance was refused (mirrors the WIT `deny-code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DenyCode {
    /// The request's resource path does not parse.
    MalformedRequest,
    /// The action is not in the catalog.
    UnknownAction,
    /// The action does not act on this kind of resource.
    WrongTarget,
    /// No grant of the token covers the action on the resource.
    NoGrant,
    /// The token's owner no longer holds the right.
    OwnerLacksRight,
    /// The token is past its expiry.
    Expired,
    /// The token was revoked.
    Revoked,
    /// A scope string does not follow the grammar.
    MalformedScope,
    /// A scope names a category or restriction the catalog does not have.
    UnknownScope,
    /// A resource grant is not valid (bad path, a kind that cannot be bound, an action that cannot apply there).
    InvalidGrant,
    /// The requested grants exceed the creator's rights.
    Escalation,
    /// Binding a token at this node needs admin (manage) rights the creator lacks.
    AdminRequired,
    /// An input is over one of the policy's size limits.
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
    /// Why, as a stable code.
    pub code: DenyCode,
    /// Why, in words; user input appears quoted and truncated.
    pub message: String,
}

impl Denial {
    /// A refusal with `code` and `message`.
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
    /// Allowed by a normalised grant.
    Allow {
        /// Its index in the token's normalised grants.
        grant: u32,
    },
    /// Denied, with the reason.
    Deny(Denial),
}

impl Decision {
    /// A deny with `code` and `message`.
    pub fn deny(code: DenyCode, message: impl Into<String>) -> Self {
        Decision::Deny(Denial::new(code, message))
    }

    /// Whether the request is allowed.
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
    /// Allowed by the normalised grant at this index.
    Allow(u32),
    /// Denied with this code (its reason from `explain`).
    Deny(DenyCode),
}

impl Ruling {
    /// Whether the request is allowed.
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
