//! The text form of a resource grant: `RESOURCE=LEVEL` or
//! `RESOURCE=ACTION[,ACTION...]` (`channel/main=write`, `vault/acme=create-scan`,
//! `/=manage`), as the CLI, the store and the introspection answer write it.
//! Only the form is read here; what the names mean is the policy's business.

use thiserror::Error;

/// The level names, lowest first.
pub const LEVELS: [&str; 3] = ["read", "write", "manage"];

/// What a grant's text gives on its resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessText<'a> {
    /// A level: one of `LEVELS`.
    Level(&'a str),
    /// Catalog action names.
    Actions(Vec<&'a str>),
}

/// Why a grant's text does not have the form.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum GrantTextError {
    /// No `=`.
    #[error("grant `{0}` needs the form RESOURCE=LEVEL or RESOURCE=ACTION[,ACTION...], e.g. `channel/main=write`")]
    NoAccess(String),
    /// Nothing after `=`.
    #[error("grant `{0}` names no level or action after `=`")]
    Empty(String),
}

/// Splits `RESOURCE=ACCESS` at its last `=` into the resource and its access.
pub fn split_grant(text: &str) -> Result<(&str, AccessText<'_>), GrantTextError> {
    let (resource, access) = text.rsplit_once('=').ok_or_else(|| GrantTextError::NoAccess(text.to_owned()))?;
    if access.is_empty() {
        return Err(GrantTextError::Empty(text.to_owned()));
    }
    let access = match LEVELS.iter().find(|level| **level == access) {
        Some(level) => AccessText::Level(level),
        None => AccessText::Actions(access.split(',').collect()),
    };
    Ok((resource, access))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_action_lists_split_at_the_last_equals_sign() {
        assert_eq!(split_grant("channel/main=write"), Ok(("channel/main", AccessText::Level("write"))));
        assert_eq!(split_grant("/=manage"), Ok(("/", AccessText::Level("manage"))));
        assert_eq!(split_grant("a=b=read"), Ok(("a=b", AccessText::Level("read"))));
        assert_eq!(
            split_grant("vault/acme=create-scan,view-scan"),
            Ok(("vault/acme", AccessText::Actions(vec!["create-scan", "view-scan"])))
        );
        assert!(matches!(split_grant("channel/main"), Err(GrantTextError::NoAccess(_))));
        assert!(matches!(split_grant("channel/main="), Err(GrantTextError::Empty(_))));
    }
}
