//! One decision by the composed policy: the introspected token (its grants and
//! its owner's current rights from their text form, its expiry and revoked
//! state) and the route's action and resource, at the current wall-clock time,
//! through the contract's one-shot `decide`.

use tokenscope_request::{AccessText, AnswerCode, Level as LevelText, PolicyCode, split_grant};

use super::bindings::evaluator::{self, Access, Decision, DenyCode, Grants, Level, ResourceGrant};
use crate::introspection_format::{TokenData, WireGrants};

/// Allowed, or denied with a code and the policy's reason.
pub enum Ruling {
    /// Allowed.
    Allow,
    /// Denied: the code and the reason.
    Deny(AnswerCode, String),
}

/// Decides `action` on `resource` for `token` now.
pub fn decide(token: &TokenData, action: &str, resource: &str) -> Result<Ruling, String> {
    let grants = match &token.grants {
        WireGrants::Scopes(scopes) => Grants::Scopes(scopes.clone()),
        WireGrants::Resources(texts) => Grants::Resources(resource_grants(texts)?),
    };
    let token = evaluator::Token {
        grants,
        owner_rights: resource_grants(&token.owner_rights)?,
        expires_at: token.expires_at,
        revoked: token.revoked,
    };
    let now = wasip2::clocks::wall_clock::now().seconds;
    let request = evaluator::Request { action: action.to_owned(), resource: resource.to_owned(), now };
    Ok(match evaluator::decide(&token, &request) {
        Decision::Allow(_) => Ruling::Allow,
        Decision::Deny(denial) => Ruling::Deny(AnswerCode::Policy(policy_code(denial.code)), denial.message),
    })
}

fn resource_grants(texts: &[String]) -> Result<Vec<ResourceGrant>, String> {
    texts
        .iter()
        .map(|text| {
            let (resource, access) = split_grant(text).map_err(|e| e.to_string())?;
            let access = match access {
                AccessText::Level(LevelText::Read) => Access::Level(Level::Read),
                AccessText::Level(LevelText::Write) => Access::Level(Level::Write),
                AccessText::Level(LevelText::Manage) => Access::Level(Level::Manage),
                AccessText::Actions(actions) => Access::Actions(actions.into_iter().map(str::to_owned).collect()),
            };
            Ok(ResourceGrant { resource: resource.to_owned(), access })
        })
        .collect()
}

/// The deny code's twin in the request crate (its wire name and status);
/// exhaustive, so a code added to the WIT file does not compile until it is mapped.
fn policy_code(code: DenyCode) -> PolicyCode {
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
