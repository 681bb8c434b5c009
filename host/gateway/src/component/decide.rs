//! One decision by the composed policy: the introspected token (its grants and
//! its owner's current rights from their text form, its expiry and revoked
//! state) and the route's action and resource, at the current wall-clock time,
//! through the contract's one-shot `decide`.

use tokenscope_request::{AccessText, split_grant};

use super::bindings::evaluator::{self, Access, Decision, DenyCode, Grants, Level, ResourceGrant};
use crate::wire::{TokenData, WireGrants};

/// Allowed, or denied with a code and the policy's reason.
pub enum Ruling {
    /// Allowed.
    Allow,
    /// Denied: the code's wire name and the reason.
    Deny(&'static str, String),
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
        Decision::Deny(denial) => Ruling::Deny(code_name(denial.code), denial.message),
    })
}

fn resource_grants(texts: &[String]) -> Result<Vec<ResourceGrant>, String> {
    texts
        .iter()
        .map(|text| {
            let (resource, access) = split_grant(text).map_err(|e| e.to_string())?;
            let access = match access {
                AccessText::Level("read") => Access::Level(Level::Read),
                AccessText::Level("write") => Access::Level(Level::Write),
                AccessText::Level(_) => Access::Level(Level::Manage),
                AccessText::Actions(actions) => Access::Actions(actions.into_iter().map(str::to_owned).collect()),
            };
            Ok(ResourceGrant { resource: resource.to_owned(), access })
        })
        .collect()
}

/// The deny code's wire name, as the WIT file spells it.
fn code_name(code: DenyCode) -> &'static str {
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
