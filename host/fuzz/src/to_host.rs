//! The native policy crate's types in the host's (WIT-generated) vocabulary and
//! back, so one input can be decided by both and the answers compared.

use tokenscope::contract as host;
use tokenscope_policy as native;

pub fn level(level: native::Level) -> host::Level {
    match level {
        native::Level::Read => host::Level::Read,
        native::Level::Write => host::Level::Write,
        native::Level::Manage => host::Level::Manage,
    }
}

/// A host grant in the native policy's vocabulary (the way back).
pub fn to_native(grant: &host::ResourceGrant) -> native::ResourceGrant {
    let access = match &grant.access {
        host::Access::Level(host::Level::Read) => native::Access::Level(native::Level::Read),
        host::Access::Level(host::Level::Write) => native::Access::Level(native::Level::Write),
        host::Access::Level(host::Level::Manage) => native::Access::Level(native::Level::Manage),
        host::Access::Actions(actions) => native::Access::Actions(actions.clone()),
    };
    native::ResourceGrant { resource: grant.resource.clone(), access }
}

pub fn resource_grant(grant: &native::ResourceGrant) -> host::ResourceGrant {
    let access = match &grant.access {
        native::Access::Level(l) => host::Access::Level(level(*l)),
        native::Access::Actions(actions) => host::Access::Actions(actions.clone()),
    };
    host::ResourceGrant { resource: grant.resource.clone(), access }
}

pub fn rights(rights: &[native::ResourceGrant]) -> Vec<host::ResourceGrant> {
    rights.iter().map(resource_grant).collect()
}

pub fn grants(grants: &native::Grants) -> host::Grants {
    match grants {
        native::Grants::Scopes(scopes) => host::Grants::Scopes(scopes.clone()),
        native::Grants::Resources(grants) => host::Grants::Resources(rights(grants)),
    }
}

pub fn token(token: &native::Token) -> host::Token {
    host::Token {
        grants: grants(&token.grants),
        owner_rights: rights(&token.owner_rights),
        expires_at: token.expires_at,
        revoked: token.revoked,
    }
}

pub fn request(request: &native::Request) -> host::Request {
    host::Request { action: request.action.clone(), resource: request.resource.clone(), now: request.now }
}

/// A native decision as the host's verdict would show it: `allow #n` or the deny code.
pub fn outcome(decision: &native::Decision) -> String {
    match decision {
        native::Decision::Allow { grant } => format!("allow #{grant}"),
        native::Decision::Deny(denial) => denial.code.as_str().to_owned(),
    }
}

/// A native ruling (the hot path's code-only answer) in the same form.
pub fn ruling(ruling: &native::Ruling) -> String {
    match ruling {
        native::Ruling::Allow(grant) => format!("allow #{grant}"),
        native::Ruling::Deny(code) => code.as_str().to_owned(),
    }
}

/// The host's verdict in the same form as `outcome`.
pub fn verdict(verdict: &tokenscope::verdict::Verdict) -> String {
    match verdict {
        tokenscope::verdict::Verdict::Allow { grant } => format!("allow #{grant}"),
        tokenscope::verdict::Verdict::Deny { .. } => verdict.code_str().to_owned(),
    }
}

/// A host deny code's wire name.
pub fn code(code: host::DenyCode) -> &'static str {
    tokenscope::verdict::Code::Policy(code).as_str()
}
