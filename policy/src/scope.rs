//! The scope grammar, syntax only: one parser and its printer, with
//! `parse(print(x)) == x`. What the names mean (the catalog) is checked in
//! `grant_set.rs`.
//!
//! ```text
//! scopes   = scope *( ";" scope )
//! scope    = category [ ":" actions ]          ; a bare category grants read only
//! category = name [ "." name ]
//! actions  = "*" / name *( "," name )
//! name     = ( lower / digit ) *( lower / digit / "-" )
//! ```

use std::fmt;

use thiserror::Error;

use crate::quote::Quoted;

/// The longest scope text accepted, in bytes.
pub const MAX_TEXT: usize = 16 * 1024;
/// The most scopes one token may carry.
pub const MAX_SCOPES: usize = 256;
/// The longest single name.
pub const MAX_NAME: usize = 64;

/// One parsed scope.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Scope {
    /// `category` or `category.sub`.
    pub category: String,
    /// The actions the scope names.
    pub actions: Actions,
}

/// The part after `:`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Actions {
    /// A bare category: its read-level actions.
    Bare,
    /// `*`: every action of the category.
    All,
    /// Named actions (restrictions), in the order written, without duplicates.
    Named(Vec<String>),
}

/// Why a scope string does not parse. Positions are byte offsets from 0.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ScopeError {
    /// The text is over `MAX_TEXT` bytes.
    #[error("scope text is {len} bytes long, more than the {MAX_TEXT} allowed")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// More than `MAX_SCOPES` scopes.
    #[error("more than {MAX_SCOPES} scopes")]
    TooMany,
    /// A character outside ASCII.
    #[error("scope text has a non-ASCII character at byte {at}")]
    NotAscii {
        /// Its byte offset.
        at: usize,
    },
    /// An empty scope between `;`.
    #[error("empty scope at byte {at} (two `;` in a row, or one at an end)")]
    EmptyScope {
        /// Its byte offset.
        at: usize,
    },
    /// A name was expected.
    #[error("expected a name at byte {at}")]
    EmptyName {
        /// Its byte offset.
        at: usize,
    },
    /// A name over `MAX_NAME` characters.
    #[error("name at byte {at} is longer than {MAX_NAME} characters")]
    NameTooLong {
        /// Its byte offset.
        at: usize,
    },
    /// A character scopes do not use.
    #[error("unexpected character {} at byte {at} (scopes use lowercase letters, digits and `-`)", Quoted(&.ch.to_string()))]
    UnexpectedChar {
        /// The character.
        ch: char,
        /// Its byte offset.
        at: usize,
    },
    /// A category with more than one `.`.
    #[error("category at byte {at} has more than one `.`")]
    TooManyDots {
        /// Its byte offset.
        at: usize,
    },
    /// `*` with other actions after `:`.
    #[error("`*` must stand alone after `:` (at byte {at})")]
    StarNotAlone {
        /// Its byte offset.
        at: usize,
    },
    /// An action named twice in one scope.
    #[error("action {} appears twice in scope {}", Quoted(.action), Quoted(.scope))]
    DuplicateAction {
        /// The action.
        action: String,
        /// The scope.
        scope: String,
    },
}

/// Parses `scope(;scope)*`.
pub fn parse(text: &str) -> Result<Vec<Scope>, ScopeError> {
    if text.len() > MAX_TEXT {
        return Err(ScopeError::TooLong { len: text.len() });
    }
    if let Some(at) = text.bytes().position(|b| !b.is_ascii()) {
        return Err(ScopeError::NotAscii { at });
    }
    let mut scopes = Vec::new();
    let mut offset = 0;
    for piece in text.split(';') {
        if scopes.len() == MAX_SCOPES {
            return Err(ScopeError::TooMany);
        }
        scopes.push(parse_one(piece, offset)?);
        offset += piece.len() + 1;
    }
    Ok(scopes)
}

fn parse_one(piece: &str, offset: usize) -> Result<Scope, ScopeError> {
    if piece.is_empty() {
        return Err(ScopeError::EmptyScope { at: offset });
    }
    let (category, actions) = match piece.split_once(':') {
        Some((c, a)) => (c, Some(a)),
        None => (piece, None),
    };
    let mut at = offset;
    for (n, part) in category.split('.').enumerate() {
        if n == 2 {
            return Err(ScopeError::TooManyDots { at: offset });
        }
        name(part, at)?;
        at += part.len() + 1;
    }
    let actions = match actions {
        None => Actions::Bare,
        Some("*") => Actions::All,
        Some(list) => {
            let mut at = offset + category.len() + 1;
            let mut named: Vec<String> = Vec::new();
            for action in list.split(',') {
                if action == "*" {
                    return Err(ScopeError::StarNotAlone { at });
                }
                name(action, at)?;
                if named.iter().any(|a| a == action) {
                    return Err(ScopeError::DuplicateAction { action: action.to_owned(), scope: piece.to_owned() });
                }
                named.push(action.to_owned());
                at += action.len() + 1;
            }
            Actions::Named(named)
        }
    };
    Ok(Scope { category: category.to_owned(), actions })
}

fn name(text: &str, at: usize) -> Result<(), ScopeError> {
    if text.is_empty() {
        return Err(ScopeError::EmptyName { at });
    }
    if text.len() > MAX_NAME {
        return Err(ScopeError::NameTooLong { at });
    }
    for (i, ch) in text.char_indices() {
        let ok = ch.is_ascii_lowercase() || ch.is_ascii_digit() || (ch == '-' && i > 0);
        if !ok {
            return Err(ScopeError::UnexpectedChar { ch, at: at + i });
        }
    }
    Ok(())
}

/// Prints scopes joined by `;`, the inverse of `parse`.
pub fn print(scopes: &[Scope]) -> String {
    let mut out = String::new();
    for (i, scope) in scopes.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(&scope.to_string());
    }
    out
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.category)?;
        match &self.actions {
            Actions::Bare => Ok(()),
            Actions::All => f.write_str(":*"),
            Actions::Named(actions) => write!(f, ":{}", actions.join(",")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn named(category: &str, actions: &[&str]) -> Scope {
        Scope {
            category: category.to_owned(),
            actions: Actions::Named(actions.iter().map(|a| (*a).to_owned()).collect()),
        }
    }

    #[test]
    fn venafi_multi_scope_string_parses() {
        let scopes = parse("certificate:approve,delete;configuration").unwrap_or_default();
        assert_eq!(
            scopes,
            [
                named("certificate", &["approve", "delete"]),
                Scope { category: "configuration".into(), actions: Actions::Bare }
            ]
        );
    }

    #[test]
    fn subcategories_and_star_parse() {
        assert_eq!(parse("channel.mirror:edit"), Ok(vec![named("channel.mirror", &["edit"])]));
        assert_eq!(parse("artifact:*"), Ok(vec![Scope { category: "artifact".into(), actions: Actions::All }]));
    }

    #[test]
    fn malformed_scopes_give_typed_errors() {
        assert_eq!(parse(""), Err(ScopeError::EmptyScope { at: 0 }));
        assert_eq!(parse("a;;b"), Err(ScopeError::EmptyScope { at: 2 }));
        assert_eq!(parse("a;"), Err(ScopeError::EmptyScope { at: 2 }));
        assert_eq!(parse("artifact:"), Err(ScopeError::EmptyName { at: 9 }));
        assert_eq!(parse(":view"), Err(ScopeError::EmptyName { at: 0 }));
        assert_eq!(parse("channel.:edit"), Err(ScopeError::EmptyName { at: 8 }));
        assert_eq!(parse("a.b.c"), Err(ScopeError::TooManyDots { at: 0 }));
        assert_eq!(parse("artifact:view,"), Err(ScopeError::EmptyName { at: 14 }));
        assert_eq!(parse("artifact:*,view"), Err(ScopeError::StarNotAlone { at: 9 }));
        assert_eq!(parse("Artifact"), Err(ScopeError::UnexpectedChar { ch: 'A', at: 0 }));
        assert_eq!(parse("artifact:view:x"), Err(ScopeError::UnexpectedChar { ch: ':', at: 13 }));
        assert_eq!(parse("artifact: view"), Err(ScopeError::UnexpectedChar { ch: ' ', at: 9 }));
        assert_eq!(parse("-a"), Err(ScopeError::UnexpectedChar { ch: '-', at: 0 }));
        assert_eq!(parse("artefakt:löschen"), Err(ScopeError::NotAscii { at: 10 }));
        assert!(matches!(parse("artifact:view,view"), Err(ScopeError::DuplicateAction { .. })));
    }

    #[test]
    fn size_limits_are_typed_errors() {
        assert_eq!(parse(&"a".repeat(1 << 20)), Err(ScopeError::TooLong { len: 1 << 20 }));
        let many = vec!["a"; 10_000].join(";");
        assert_eq!(parse(&many), Err(ScopeError::TooLong { len: many.len() }));
        let just_over = vec!["a"; MAX_SCOPES + 1].join(";");
        assert_eq!(parse(&just_over), Err(ScopeError::TooMany));
        assert!(matches!(parse(&"a".repeat(MAX_NAME + 1)), Err(ScopeError::NameTooLong { at: 0 })));
    }

    fn ident() -> impl Strategy<Value = String> {
        "[a-z0-9][a-z0-9-]{0,12}"
    }

    fn scope() -> impl Strategy<Value = Scope> {
        let category =
            (ident(), proptest::option::of(ident())).prop_map(|(c, sub)| sub.map_or(c.clone(), |s| format!("{c}.{s}")));
        let actions = prop_oneof![
            Just(Actions::Bare),
            Just(Actions::All),
            proptest::collection::btree_set(ident(), 1..5).prop_map(|s| Actions::Named(s.into_iter().collect())),
        ];
        (category, actions).prop_map(|(category, actions)| Scope { category, actions })
    }

    proptest! {
        #[test]
        fn parse_inverts_print(scopes in proptest::collection::vec(scope(), 1..8)) {
            prop_assert_eq!(parse(&print(&scopes)), Ok(scopes));
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,64}") {
            let _ = parse(&text);
        }

        #[test]
        fn parse_never_panics_on_scope_like_text(text in "[a-z.:,;*\\- ]{0,64}") {
            if let Ok(scopes) = parse(&text) {
                prop_assert_eq!(print(&scopes), text);
            }
        }
    }
}
