//! Building the contract's tokens and requests from short text, the way the
//! case tables write them: grants as `RESOURCE=ACCESS`, scopes as strings.

use anyhow::Result;
use tokenscope::contract::{Grants, Request, ResourceGrant, Token};
use tokenscope::grant_text::parse_grant;

/// Resource grants from `RESOURCE=ACCESS` texts.
pub fn rights(texts: &[&str]) -> Result<Vec<ResourceGrant>> {
    texts.iter().map(|t| parse_grant(t)).collect()
}

/// Scope grants from scope strings.
pub fn scopes(texts: &[&str]) -> Grants {
    Grants::Scopes(texts.iter().map(|t| (*t).to_owned()).collect())
}

/// Resource grants of a token from `RESOURCE=ACCESS` texts.
pub fn resources(texts: &[&str]) -> Result<Grants> {
    Ok(Grants::Resources(rights(texts)?))
}

/// A token with `grants`, owned by someone holding `owner` rights, live and not revoked.
pub fn token(grants: Grants, owner: &[&str]) -> Result<Token> {
    Ok(Token { grants, owner_rights: rights(owner)?, expires_at: None, revoked: false })
}

/// A request for `action` on `resource` at `now`.
pub fn request(action: &str, resource: &str, now: u64) -> Request {
    Request { action: action.to_owned(), resource: resource.to_owned(), now }
}
