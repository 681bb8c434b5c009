//! The text form of a resource grant: `RESOURCE=LEVEL` or
//! `RESOURCE=ACTION[,ACTION...]` (`channel/main=write`, `vault/acme=create-scan`,
//! `/=manage`), as the CLI, the store and the introspection answer write it.
//! Only the form is read here; what the names mean is the policy's business.

use thiserror::Error;

/// An access level (`level` in `wit/policy.wit`, tested against it), lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// `read`.
    Read,
    /// `write`.
    Write,
    /// `manage`.
    Manage,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 3] = [Level::Read, Level::Write, Level::Manage];

    /// Its name: `read`, `write` or `manage`.
    pub const fn name(self) -> &'static str {
        match self {
            Level::Read => "read",
            Level::Write => "write",
            Level::Manage => "manage",
        }
    }

    /// The level named `name`, if it names one.
    pub fn from_name(name: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|level| level.name() == name)
    }
}

/// What a grant's text gives on its resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessText<'a> {
    /// A level.
    Level(Level),
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
    let access = match Level::from_name(access) {
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
        assert_eq!(split_grant("channel/main=write"), Ok(("channel/main", AccessText::Level(Level::Write))));
        assert_eq!(split_grant("/=manage"), Ok(("/", AccessText::Level(Level::Manage))));
        assert_eq!(split_grant("a=b=read"), Ok(("a=b", AccessText::Level(Level::Read))));
        assert_eq!(
            split_grant("vault/acme=create-scan,view-scan"),
            Ok(("vault/acme", AccessText::Actions(vec!["create-scan", "view-scan"])))
        );
        assert!(matches!(split_grant("channel/main"), Err(GrantTextError::NoAccess(_))));
        assert!(matches!(split_grant("channel/main="), Err(GrantTextError::Empty(_))));
    }

    #[test]
    fn the_levels_are_the_wit_files_in_its_order() {
        let names: Vec<&str> = Level::ALL.iter().map(|level| level.name()).collect();
        assert_eq!(names, crate::answer_code::tests::wit_enum("level"));
        assert!(Level::ALL.into_iter().all(|level| Level::from_name(level.name()) == Some(level)));
        assert_eq!(Level::from_name("admin"), None);
    }
}
