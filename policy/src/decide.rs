//! Deciding a request: (token, owner's current rights, request) -> allow with the
//! grant that matched, or deny with a code and a reason. The allow path parses the
//! resource in place and compares ids and nodes; it allocates nothing.

use crate::catalog::{self, ActionId};
use crate::grant_set::GrantSet;
use crate::model::{Decision, Denial, DenyCode, Request, Token, TokenStatus};
use crate::quote::Quoted;
use crate::resource::NodeRef;

/// Decides `action` (a catalog id) on `resource` at `now` with compiled grants.
pub fn decide(
    token: &GrantSet,
    owner: &GrantSet,
    status: TokenStatus,
    action: ActionId,
    resource: &str,
    now: u64,
) -> Decision {
    if let Some(denied) = status_denial(status, now) {
        return Decision::Deny(denied);
    }
    let Some(def) = catalog::get(action) else {
        return Decision::deny(DenyCode::UnknownAction, format!("no action has id {action}"));
    };
    let node = match NodeRef::parse(resource) {
        Ok(node) => node,
        Err(err) => {
            let code = if matches!(err, crate::resource::PathError::TooLong { .. }) {
                DenyCode::TooLarge
            } else {
                DenyCode::MalformedRequest
            };
            return Decision::deny(code, format!("resource {}: {err}", Quoted(resource)));
        }
    };
    if !def.targets.contains(&node.kind()) {
        let targets: Vec<&str> = def.targets.iter().map(|k| k.name()).collect();
        return Decision::deny(
            DenyCode::WrongTarget,
            format!("`{}` acts on {}, not on {}", def.name, targets.join(" or "), Quoted(resource)),
        );
    }
    let at = if def.on_parent { node.parent() } else { node };
    let Some(grant) = token.allows(action, def.level, &at) else {
        return Decision::deny(
            DenyCode::NoGrant,
            format!("no grant of the token allows `{}` ({}) on {}", def.name, def.level, Quoted(&at.to_string())),
        );
    };
    if owner.allows(action, def.level, &at).is_none() {
        return Decision::deny(
            DenyCode::OwnerLacksRight,
            format!("the token's owner no longer holds `{}` ({}) on {}", def.name, def.level, Quoted(&at.to_string())),
        );
    }
    Decision::Allow { grant }
}

/// Revoked, then expired: the checks no grant can override.
fn status_denial(status: TokenStatus, now: u64) -> Option<Denial> {
    if status.revoked {
        return Some(Denial::new(DenyCode::Revoked, "the token was revoked"));
    }
    match status.expires_at {
        Some(at) if now >= at => {
            Some(Denial::new(DenyCode::Expired, format!("the token expired at {at} (unix seconds)")))
        }
        _ => None,
    }
}

/// Decides a request for a token given in full, compiling its grants first.
pub fn decide_token(token: &Token, request: &Request) -> Decision {
    let status = TokenStatus { expires_at: token.expires_at, revoked: token.revoked };
    if let Some(denied) = status_denial(status, request.now) {
        return Decision::Deny(denied);
    }
    let Some(action) = catalog::lookup(&request.action) else {
        return Decision::deny(DenyCode::UnknownAction, format!("unknown action {}", Quoted(&request.action)));
    };
    let grants = match GrantSet::compile(&token.grants) {
        Ok(grants) => grants,
        Err(denial) => return Decision::Deny(denial),
    };
    let owner = match GrantSet::compile_rights(&token.owner_rights) {
        Ok(owner) => owner,
        Err(denial) => return Decision::Deny(Denial::new(denial.code, format!("owner rights: {}", denial.message))),
    };
    decide(&grants, &owner, status, action, &request.resource, request.now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Grants, Level, ResourceGrant};

    fn token(grants: Grants, owner: Vec<ResourceGrant>) -> Token {
        Token { grants, owner_rights: owner, expires_at: None, revoked: false }
    }

    fn request(action: &str, resource: &str) -> Request {
        Request { action: action.to_owned(), resource: resource.to_owned(), now: 1_000 }
    }

    fn scopes(s: &[&str]) -> Grants {
        Grants::Scopes(s.iter().map(|x| (*x).to_owned()).collect())
    }

    #[test]
    fn channel_view_does_not_grant_channel_view_artifacts() {
        let t = token(scopes(&["channel:view"]), vec![ResourceGrant::level("/", Level::Manage)]);
        assert!(decide_token(&t, &request("channel:view", "channel/main")).is_allow());
        assert_eq!(
            decide_token(&t, &request("channel:view-artifacts", "channel/main")).code(),
            Some(DenyCode::NoGrant)
        );
    }

    #[test]
    fn revoked_wins_over_expired_and_expired_over_grants() {
        let mut t = token(scopes(&["artifact"]), vec![ResourceGrant::level("/", Level::Manage)]);
        t.expires_at = Some(1_000);
        assert_eq!(decide_token(&t, &request("artifact:view", "channel/a")).code(), Some(DenyCode::Expired));
        t.revoked = true;
        assert_eq!(decide_token(&t, &request("artifact:view", "channel/a")).code(), Some(DenyCode::Revoked));
        t.revoked = false;
        t.expires_at = Some(1_001);
        assert!(decide_token(&t, &request("artifact:view", "channel/a")).is_allow());
    }

    #[test]
    fn allow_names_the_matching_grant() {
        let t = token(
            Grants::Resources(vec![
                ResourceGrant::level("channel/b", Level::Read),
                ResourceGrant::level("channel/a", Level::Write),
            ]),
            vec![ResourceGrant::level("/", Level::Manage)],
        );
        // Normalised grants are sorted by node: channel/a is grant 0.
        assert_eq!(decide_token(&t, &request("artifact:create", "channel/a")), Decision::Allow { grant: 0 });
        assert_eq!(
            decide_token(&t, &request("artifact:download", "channel/b/artifact/x")),
            Decision::Allow { grant: 1 }
        );
    }
}
