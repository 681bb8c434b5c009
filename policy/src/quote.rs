//! Quoting user input inside messages: in backticks, with control and non-ASCII
//! characters escaped and long input cut short, so a 1 MB string never becomes a
//! 1 MB error message.

use std::fmt;

/// The longest piece of user input a message repeats, in characters.
const MAX_QUOTED: usize = 48;

/// Displays `text` as `` `text` ``, escaped and truncated.
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("`")?;
        for (n, c) in self.0.chars().enumerate() {
            if n == MAX_QUOTED {
                f.write_str("…")?;
                break;
            }
            if c.is_ascii() && !c.is_ascii_control() && c != '`' {
                write!(f, "{c}")?;
            } else {
                write!(f, "{}", c.escape_unicode())?;
            }
        }
        f.write_str("`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_input_is_cut_short() {
        let long = "a".repeat(1_000_000);
        let shown = Quoted(&long).to_string();
        assert!(shown.len() < 60, "{shown}");
        assert!(shown.ends_with("…`"));
    }

    #[test]
    fn control_and_non_ascii_characters_are_escaped() {
        assert_eq!(Quoted("a\nb").to_string(), "`a\\u{a}b`");
        assert_eq!(Quoted("é").to_string(), "`\\u{e9}`");
    }
}
