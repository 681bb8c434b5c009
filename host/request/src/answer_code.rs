//! Every code a check answers with, one enum for the server and the wasm
//! gateway: the policy's deny codes (`deny-code` in `wit/policy.wit`, tested
//! against it) and the host's own, each with its wire name, its HTTP status and,
//! for a 401, its Bearer challenge. Exhaustive: a new code does not compile
//! until it has all three.

/// A deny code of the policy contract, in the order `wit/policy.wit` lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyCode {
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
    /// A resource grant is not valid.
    InvalidGrant,
    /// The requested grants exceed the creator's rights.
    Escalation,
    /// Binding a token at this node needs admin (manage) rights the creator lacks.
    AdminRequired,
    /// An input is over one of the policy's size limits.
    TooLarge,
}

impl PolicyCode {
    /// Every policy code, in the WIT file's order.
    pub const ALL: [PolicyCode; 13] = [
        PolicyCode::MalformedRequest,
        PolicyCode::UnknownAction,
        PolicyCode::WrongTarget,
        PolicyCode::NoGrant,
        PolicyCode::OwnerLacksRight,
        PolicyCode::Expired,
        PolicyCode::Revoked,
        PolicyCode::MalformedScope,
        PolicyCode::UnknownScope,
        PolicyCode::InvalidGrant,
        PolicyCode::Escalation,
        PolicyCode::AdminRequired,
        PolicyCode::TooLarge,
    ];

    /// The WIT name, e.g. `no-grant`.
    pub const fn name(self) -> &'static str {
        match self {
            PolicyCode::MalformedRequest => "malformed-request",
            PolicyCode::UnknownAction => "unknown-action",
            PolicyCode::WrongTarget => "wrong-target",
            PolicyCode::NoGrant => "no-grant",
            PolicyCode::OwnerLacksRight => "owner-lacks-right",
            PolicyCode::Expired => "expired",
            PolicyCode::Revoked => "revoked",
            PolicyCode::MalformedScope => "malformed-scope",
            PolicyCode::UnknownScope => "unknown-scope",
            PolicyCode::InvalidGrant => "invalid-grant",
            PolicyCode::Escalation => "escalation",
            PolicyCode::AdminRequired => "admin-required",
            PolicyCode::TooLarge => "too-large",
        }
    }

    /// The code named `name`, if it names one.
    pub fn from_name(name: &str) -> Option<PolicyCode> {
        PolicyCode::ALL.into_iter().find(|code| code.name() == name)
    }
}

/// What a check answers: an allow, a policy's deny, or one of the host's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnswerCode {
    /// Allowed (or a public route).
    Allow,
    /// The policy's own refusal.
    Policy(PolicyCode),
    /// The policy trapped, timed out, or could not be run.
    PolicyFault,
    /// No token was presented.
    MissingToken,
    /// The presented token is not shaped like a tokenscope secret.
    MalformedToken,
    /// No stored token has this secret.
    UnknownToken,
    /// The token store could not be read (or is too slow to wait for).
    StoreUnavailable,
    /// The request has no canonical form (its path or headers cannot be read).
    BadRequest,
    /// No route maps the request to an action.
    UnmappedRoute,
    /// The gateway's upstream failed (filter mode).
    UpstreamUnavailable,
}

impl AnswerCode {
    /// Every code but the policy's, which `PolicyCode::ALL` lists.
    pub const HOST_CODES: [AnswerCode; 9] = [
        AnswerCode::Allow,
        AnswerCode::PolicyFault,
        AnswerCode::MissingToken,
        AnswerCode::MalformedToken,
        AnswerCode::UnknownToken,
        AnswerCode::StoreUnavailable,
        AnswerCode::BadRequest,
        AnswerCode::UnmappedRoute,
        AnswerCode::UpstreamUnavailable,
    ];

    /// The stable wire name, e.g. `no-grant` or `policy-fault`.
    pub const fn name(self) -> &'static str {
        match self {
            AnswerCode::Allow => "allow",
            AnswerCode::Policy(code) => code.name(),
            AnswerCode::PolicyFault => "policy-fault",
            AnswerCode::MissingToken => "missing-token",
            AnswerCode::MalformedToken => "malformed-token",
            AnswerCode::UnknownToken => "unknown-token",
            AnswerCode::StoreUnavailable => "store-unavailable",
            AnswerCode::BadRequest => "bad-request",
            AnswerCode::UnmappedRoute => "unmapped-route",
            AnswerCode::UpstreamUnavailable => "upstream-unavailable",
        }
    }

    /// The HTTP status of a check's answer: 401 for a token that cannot be used
    /// (missing, malformed, unknown, expired, revoked), 400 for a request with no
    /// canonical form, 503 when the store or the policy failed, 502 when the
    /// gateway's upstream did, 403 for the rights a token lacks.
    pub const fn status(self) -> u16 {
        match self {
            AnswerCode::Allow => 200,
            AnswerCode::MissingToken | AnswerCode::MalformedToken | AnswerCode::UnknownToken => 401,
            AnswerCode::Policy(PolicyCode::Expired | PolicyCode::Revoked) => 401,
            AnswerCode::BadRequest => 400,
            AnswerCode::StoreUnavailable | AnswerCode::PolicyFault => 503,
            AnswerCode::UpstreamUnavailable => 502,
            AnswerCode::UnmappedRoute => 403,
            AnswerCode::Policy(
                PolicyCode::MalformedRequest
                | PolicyCode::UnknownAction
                | PolicyCode::WrongTarget
                | PolicyCode::NoGrant
                | PolicyCode::OwnerLacksRight
                | PolicyCode::MalformedScope
                | PolicyCode::UnknownScope
                | PolicyCode::InvalidGrant
                | PolicyCode::Escalation
                | PolicyCode::AdminRequired
                | PolicyCode::TooLarge,
            ) => 403,
        }
    }

    /// The `WWW-Authenticate` value of a 401 answer (RFC 6750 `invalid_token`,
    /// the code as its description), written out once; `None` for other statuses.
    pub const fn challenge(self) -> Option<&'static str> {
        macro_rules! bearer {
            ($code:literal) => {
                concat!("Bearer realm=\"tokenscope\", error=\"invalid_token\", error_description=\"", $code, "\"")
            };
        }
        match self {
            AnswerCode::MissingToken => Some(bearer!("missing-token")),
            AnswerCode::MalformedToken => Some(bearer!("malformed-token")),
            AnswerCode::UnknownToken => Some(bearer!("unknown-token")),
            AnswerCode::Policy(PolicyCode::Expired) => Some(bearer!("expired")),
            AnswerCode::Policy(PolicyCode::Revoked) => Some(bearer!("revoked")),
            _ => None,
        }
    }

    /// The code named `name`, if it names one.
    pub fn from_name(name: &str) -> Option<AnswerCode> {
        PolicyCode::from_name(name)
            .map(AnswerCode::Policy)
            .or_else(|| AnswerCode::HOST_CODES.into_iter().find(|code| code.name() == name))
    }
}

impl From<PolicyCode> for AnswerCode {
    fn from(code: PolicyCode) -> AnswerCode {
        AnswerCode::Policy(code)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The cases of `enum <name>` in `wit/policy.wit`, in order.
    pub(crate) fn wit_enum(name: &str) -> Vec<String> {
        let wit = include_str!("../../../wit/policy.wit");
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
    fn the_policy_codes_are_the_wit_files_in_its_order() {
        let names: Vec<&str> = PolicyCode::ALL.iter().map(|code| code.name()).collect();
        assert_eq!(names, wit_enum("deny-code"));
    }

    #[test]
    fn every_name_is_one_code_and_reads_back() {
        let all = PolicyCode::ALL.into_iter().map(AnswerCode::Policy).chain(AnswerCode::HOST_CODES);
        let mut seen = std::collections::HashSet::new();
        for code in all {
            assert!(seen.insert(code.name()), "{} named twice", code.name());
            assert_eq!(AnswerCode::from_name(code.name()), Some(code));
        }
        assert_eq!(AnswerCode::from_name("no-such-code"), None);
    }

    #[test]
    fn token_problems_are_401_with_a_challenge_rights_are_403_failures_5xx() {
        for code in PolicyCode::ALL.into_iter().map(AnswerCode::Policy).chain(AnswerCode::HOST_CODES) {
            assert_eq!(code.status() == 401, code.challenge().is_some(), "{}", code.name());
            if let Some(challenge) = code.challenge() {
                assert_eq!(
                    challenge,
                    format!(
                        "Bearer realm=\"tokenscope\", error=\"invalid_token\", error_description=\"{}\"",
                        code.name()
                    )
                );
            }
        }
        assert_eq!(AnswerCode::Allow.status(), 200);
        assert_eq!(AnswerCode::Policy(PolicyCode::Revoked).status(), 401);
        assert_eq!(AnswerCode::UnknownToken.status(), 401);
        assert_eq!(AnswerCode::Policy(PolicyCode::NoGrant).status(), 403);
        assert_eq!(AnswerCode::UnmappedRoute.status(), 403);
        assert_eq!(AnswerCode::BadRequest.status(), 400);
        assert_eq!(AnswerCode::StoreUnavailable.status(), 503);
        assert_eq!(AnswerCode::UpstreamUnavailable.status(), 502);
    }
}
