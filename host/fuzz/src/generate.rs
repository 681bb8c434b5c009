//! Tokens, grants and requests built from fuzzer bytes: mostly names the policy
//! knows (catalog actions, resource kinds), so the fuzzer reaches the decision
//! logic, with hostile text mixed in so it also reaches every refusal.

use arbitrary::{Result, Unstructured};
use tokenscope_policy::catalog::CATALOG;
use tokenscope_policy::resource::KINDS;
use tokenscope_policy::{Access, Grants, Level, Request, ResourceGrant, Token};

/// Node names, including ones that other parsers read specially.
const NAMES: &[&str] = &["acme", "main", "dev", "x", "a-b", "*", "", "..", ".", "%2e", "é", "a b", "A", "0"];

/// A short string of any characters.
pub fn text(u: &mut Unstructured<'_>) -> Result<String> {
    let len = u.int_in_range(0..=24)?;
    (0..len).map(|_| u.arbitrary::<char>()).collect()
}

/// A catalog action name, a bare category, or other text.
pub fn action_name(u: &mut Unstructured<'_>) -> Result<String> {
    let def = u.choose(&CATALOG)?;
    Ok(match u.int_in_range(0..=9)? {
        0 => text(u)?,
        1 => def.category().to_owned(),
        _ => def.name.to_owned(),
    })
}

/// A resource path of `kind/name` segments (the root is empty), or other text.
pub fn resource(u: &mut Unstructured<'_>) -> Result<String> {
    if u.ratio(1, 12)? {
        return text(u);
    }
    let depth = u.int_in_range(0..=4)?;
    let mut segments = Vec::with_capacity(depth);
    for _ in 0..depth {
        let kind = if u.ratio(1, 16)? { text(u)? } else { u.choose(&KINDS)?.name.to_owned() };
        let name = if u.ratio(1, 8)? { text(u)? } else { (*u.choose(NAMES)?).to_owned() };
        segments.push(format!("{kind}/{name}"));
    }
    let path = segments.join("/");
    Ok(if path.is_empty() && u.arbitrary()? { "/".to_owned() } else { path })
}

pub fn level(u: &mut Unstructured<'_>) -> Result<Level> {
    u.choose(&Level::ALL).copied()
}

pub fn access(u: &mut Unstructured<'_>) -> Result<Access> {
    if u.arbitrary()? {
        return Ok(Access::Level(level(u)?));
    }
    let len = u.int_in_range(0..=3)?;
    Ok(Access::Actions((0..len).map(|_| action_name(u)).collect::<Result<_>>()?))
}

pub fn resource_grants(u: &mut Unstructured<'_>, most: usize) -> Result<Vec<ResourceGrant>> {
    let len = u.int_in_range(0..=most)?;
    (0..len).map(|_| Ok(ResourceGrant { resource: resource(u)?, access: access(u)? })).collect()
}

/// One scope string: `category`, `category:*` or `category:a,b`, sometimes
/// several joined by `;`, sometimes other text.
pub fn scope(u: &mut Unstructured<'_>) -> Result<String> {
    if u.ratio(1, 10)? {
        return text(u);
    }
    let def = u.choose(&CATALOG)?;
    let mut out = def.category().to_owned();
    match u.int_in_range(0..=3)? {
        0 => {}
        1 => out.push_str(":*"),
        _ => {
            let len = u.int_in_range(1..=3)?;
            let names = (0..len)
                .map(|_| {
                    let other = u.choose(&CATALOG)?;
                    let same = other.category() == def.category() || u.ratio(1, 4)?;
                    Ok(if same { other.restriction().unwrap_or("view").to_owned() } else { "view".to_owned() })
                })
                .collect::<Result<Vec<_>>>()?;
            out.push(':');
            out.push_str(&names.join(","));
        }
    }
    if u.ratio(1, 6)? {
        out.push(';');
        out.push_str(&scope(u)?);
    }
    Ok(out)
}

pub fn grants(u: &mut Unstructured<'_>) -> Result<Grants> {
    if u.arbitrary()? {
        let len = u.int_in_range(0..=3)?;
        Ok(Grants::Scopes((0..len).map(|_| scope(u)).collect::<Result<_>>()?))
    } else {
        Ok(Grants::Resources(resource_grants(u, 4)?))
    }
}

/// Times around a fixed `now` range, so expiry is sometimes past and sometimes not.
pub fn time(u: &mut Unstructured<'_>) -> Result<u64> {
    u.int_in_range(0..=2_000)
}

pub fn token(u: &mut Unstructured<'_>) -> Result<Token> {
    Ok(Token {
        grants: grants(u)?,
        owner_rights: resource_grants(u, 4)?,
        expires_at: if u.arbitrary()? { Some(time(u)?) } else { None },
        revoked: u.ratio(1, 10)?,
    })
}

pub fn request(u: &mut Unstructured<'_>) -> Result<Request> {
    Ok(Request { action: action_name(u)?, resource: resource(u)?, now: time(u)? })
}
