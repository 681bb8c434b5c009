//! Leaked secrets: finding them (`finder`: the shape and checksum in any bytes;
//! `scan`: files, folders and git history) and the rules that teach other
//! scanners to find them (`rules`).

mod finder;
mod rules;
mod scan;

pub use finder::{OVERLAP, Spotted, pattern, pattern_with_lookaround, spot};
pub use rules::{RuleFormat, SECRETLINT_PACKAGE};
pub use scan::{Finding, Scanned, scan_file, scan_history, scan_paths};
