//! Deciding a request: (token, owner's current rights, request) -> allow with the
//! grant that matched, or deny with a code. The reason for a deny is a `Refusal`
//! that holds what it needs and is put into words only when asked (`explain`), so
//! neither an allow nor a deny allocates: the resource is parsed in place and
//! the decision compares ids and nodes.

use crate::catalog::{self, ActionDef, ActionId};
use crate::grant_set::GrantSet;
use crate::model::{Decision, Denial, DenyCode, Request, Ruling, Token, TokenStatus};
use crate::quote::Quoted;
use crate::resource::{NodeRef, PathError};

/// Why a request was denied, kept as data until someone reads it.
#[derive(Clone, Debug)]
pub enum Refusal<'a> {
    /// The token was revoked (this wins over everything).
    Revoked,
    /// The token expired at this unix second.
    Expired(u64),
    /// No catalog action has this id.
    UnknownAction(ActionId),
    /// The resource path does not parse.
    BadPath(PathError, &'a str),
    /// The action does not act on this kind of node.
    WrongTarget(&'static ActionDef, &'a str),
    /// No grant of the token covers the action at this node.
    NoGrant(&'static ActionDef, NodeRef<'a>),
    /// The owner no longer holds the action at this node.
    OwnerLacksRight(&'static ActionDef, NodeRef<'a>),
}

impl Refusal<'_> {
    /// The deny code.
    pub fn code(&self) -> DenyCode {
        match self {
            Refusal::Revoked => DenyCode::Revoked,
            Refusal::Expired(_) => DenyCode::Expired,
            Refusal::UnknownAction(_) => DenyCode::UnknownAction,
            Refusal::BadPath(PathError::TooLong { .. }, _) => DenyCode::TooLarge,
            Refusal::BadPath(..) => DenyCode::MalformedRequest,
            Refusal::WrongTarget(..) => DenyCode::WrongTarget,
            Refusal::NoGrant(..) => DenyCode::NoGrant,
            Refusal::OwnerLacksRight(..) => DenyCode::OwnerLacksRight,
        }
    }

    /// The reason in words (user input quoted and truncated).
    pub fn message(&self) -> String {
        match self {
            Refusal::Revoked => "the token was revoked".to_owned(),
            Refusal::Expired(at) => format!("the token expired at {at} (unix seconds)"),
            Refusal::UnknownAction(action) => format!("no action has id {action}"),
            Refusal::BadPath(err, resource) => format!("resource {}: {err}", Quoted(resource)),
            Refusal::WrongTarget(def, resource) => {
                let targets: Vec<&str> = def.targets.iter().map(|k| k.name()).collect();
                format!("`{}` acts on {}, not on {}", def.name, targets.join(" or "), Quoted(resource))
            }
            Refusal::NoGrant(def, at) => {
                format!("no grant of the token allows `{}` ({}) on {}", def.name, def.level, Quoted(&at.to_string()))
            }
            Refusal::OwnerLacksRight(def, at) => format!(
                "the token's owner no longer holds `{}` ({}) on {}",
                def.name,
                def.level,
                Quoted(&at.to_string())
            ),
        }
    }

    /// The code and the reason.
    pub fn denial(&self) -> Denial {
        Denial::new(self.code(), self.message())
    }
}

/// One request against compiled grants: everything a decision reads.
#[derive(Clone, Copy, Debug)]
pub struct Query<'a> {
    /// The token's grants.
    pub token: &'a GrantSet,
    /// Its owner's current rights.
    pub owner: &'a GrantSet,
    /// Its expiry and revocation.
    pub status: TokenStatus,
    /// The action asked for, as a catalog id.
    pub action: ActionId,
    /// The resource path acted on.
    pub resource: &'a str,
    /// The current time in unix seconds.
    pub now: u64,
}

/// Decides a query: the index of the normalised grant that allows it, or why not.
pub fn judge<'r>(q: &Query<'r>) -> Result<u32, Refusal<'r>> {
    let Query { token, owner, status, action, resource, now } = *q;
    if status.revoked {
        return Err(Refusal::Revoked);
    }
    if let Some(at) = status.expires_at.filter(|at| now >= *at) {
        return Err(Refusal::Expired(at));
    }
    let def = catalog::get(action).ok_or(Refusal::UnknownAction(action))?;
    let node = NodeRef::parse(resource).map_err(|err| Refusal::BadPath(err, resource))?;
    if !def.targets.contains(&node.kind()) {
        return Err(Refusal::WrongTarget(def, resource));
    }
    let at = if def.on_parent { node.parent() } else { node };
    let grant = token.allows(action, def.level, &at).ok_or(Refusal::NoGrant(def, at))?;
    if owner.allows(action, def.level, &at).is_none() {
        return Err(Refusal::OwnerLacksRight(def, at));
    }
    Ok(grant)
}

/// The hot path: `judge`, with only the deny's code.
pub fn decide(q: &Query<'_>) -> Ruling {
    match judge(q) {
        Ok(grant) => Ruling::Allow(grant),
        Err(refusal) => Ruling::Deny(refusal.code()),
    }
}

/// The same decision as `decide`, with the deny's reason in words.
pub fn explain(q: &Query<'_>) -> Decision {
    match judge(q) {
        Ok(grant) => Decision::Allow { grant },
        Err(refusal) => Decision::Deny(refusal.denial()),
    }
}

/// Revoked, then expired: the checks no grant can override.
fn status_denial(status: TokenStatus, now: u64) -> Option<Denial> {
    if status.revoked {
        return Some(Refusal::Revoked.denial());
    }
    status.expires_at.filter(|at| now >= *at).map(|at| Refusal::Expired(at).denial())
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
    explain(&Query { token: &grants, owner: &owner, status, action, resource: &request.resource, now: request.now })
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
