//! The text form of resource grants used on the command line and in files:
//! `RESOURCE=LEVEL` or `RESOURCE=ACTION[,ACTION...]`, e.g. `channel/main=write`,
//! `vault/acme=create-scan`, `/=manage` (the root), between the contract's types
//! and the one reader of the form (`tokenscope_request::split_grant`).

use std::fmt::Write as _;

use anyhow::{Result, bail};

use tokenscope_request::{AccessText, split_grant};

use crate::contract::{Access, Grants, ResourceGrant, level_name, wit_level};

/// Parses `RESOURCE=LEVEL` or `RESOURCE=ACTION[,ACTION...]`.
pub fn parse_grant(text: &str) -> Result<ResourceGrant> {
    let (resource, access) = split_grant(text)?;
    let access = match access {
        AccessText::Level(level) => Access::Level(wit_level(level)),
        AccessText::Actions(actions) => Access::Actions(actions.into_iter().map(str::to_owned).collect()),
    };
    Ok(ResourceGrant { resource: resource.to_owned(), access })
}

/// A token's grants from scope strings xor `RESOURCE=ACCESS` texts, as the
/// command line and files give them; both or neither is an error.
pub fn grants_from_texts(scopes: &[String], resources: &[String]) -> Result<Grants> {
    match (scopes.is_empty(), resources.is_empty()) {
        (false, false) => {
            bail!("a token carries resource grants or scopes, never both (psm: \"tokens cannot contain both\")")
        }
        (true, true) => bail!("the token has no grants: give scopes or resource grants"),
        (false, true) => Ok(Grants::Scopes(scopes.to_vec())),
        (true, false) => Ok(Grants::Resources(resources.iter().map(|g| parse_grant(g)).collect::<Result<_>>()?)),
    }
}

/// `RESOURCE=ACCESS`, the inverse of `parse_grant`.
pub fn print_grant(grant: &ResourceGrant) -> String {
    let resource = if grant.resource.is_empty() { "/" } else { grant.resource.as_str() };
    let mut out = format!("{resource}=");
    match &grant.access {
        Access::Level(level) => out.push_str(level_name(*level)),
        Access::Actions(actions) => {
            let _ = write!(out, "{}", actions.join(","));
        }
    }
    out
}

/// The `index`th grant of `grants`, printed.
pub fn print_nth(grants: &Grants, index: u32) -> Option<String> {
    let index = usize::try_from(index).ok()?;
    match grants {
        Grants::Resources(list) => list.get(index).map(print_grant),
        Grants::Scopes(list) => list.get(index).cloned(),
    }
}

/// Every grant, printed, one per entry.
pub fn print_all(grants: &Grants) -> Vec<String> {
    match grants {
        Grants::Resources(list) => list.iter().map(print_grant).collect(),
        Grants::Scopes(list) => list.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Level;

    #[test]
    fn levels_and_action_lists_parse() {
        let g = parse_grant("channel/main=write").unwrap();
        assert_eq!(g.resource, "channel/main");
        assert!(matches!(g.access, Access::Level(Level::Write)));
        let g = parse_grant("vault/acme=create-scan,artifact:view").unwrap();
        assert!(matches!(g.access, Access::Actions(ref a) if a == &["create-scan", "artifact:view"]));
        assert_eq!(parse_grant("/=manage").map(|g| g.resource).ok().as_deref(), Some("/"));
    }

    #[test]
    fn malformed_grants_are_errors() {
        assert!(parse_grant("channel/main").is_err());
        assert!(parse_grant("channel/main=").is_err());
    }

    #[test]
    fn print_inverts_parse() {
        for text in ["channel/main=write", "vault/acme=create-scan", "/=manage"] {
            assert_eq!(print_grant(&parse_grant(text).unwrap()), text);
        }
    }
}
