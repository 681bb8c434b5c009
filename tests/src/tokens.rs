//! Building the contract's tokens and requests from short text, the way the
//! case tables write them: grants as `RESOURCE=ACCESS`, scopes as strings.

use anyhow::Result;
use tokenscope::contract::{Grants, Request, ResourceGrant, Token};
use tokenscope::grant_text::parse_grant;

pub fn rights(texts: &[&str]) -> Result<Vec<ResourceGrant>> {
    texts.iter().map(|t| parse_grant(t)).collect()
}

pub fn scopes(texts: &[&str]) -> Grants {
    Grants::Scopes(texts.iter().map(|t| (*t).to_owned()).collect())
}

pub fn resources(texts: &[&str]) -> Result<Grants> {
    Ok(Grants::Resources(rights(texts)?))
}

pub fn token(grants: Grants, owner: &[&str]) -> Result<Token> {
    Ok(Token { grants, owner_rights: rights(owner)?, expires_at: None, revoked: false })
}

pub fn request(action: &str, resource: &str, now: u64) -> Request {
    Request { action: action.to_owned(), resource: resource.to_owned(), now }
}
