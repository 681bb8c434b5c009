//! Leaked secrets: finding them (`finder`: the shape and checksum in any bytes;
//! `scan`: files, folders and git history), the rules that teach other
//! scanners to find them (`rules`), and the body of a report of them (`report`).

mod finder;
mod report;
mod rules;
mod scan;

pub use finder::{OVERLAP, Spotted, pattern, pattern_with_lookaround, spot};
pub use report::{BadReport, LeakReport, MAX_ENTRIES, parse_report};
pub use rules::{RuleFormat, SECRETLINT_PACKAGE};
pub use scan::{Finding, Scanned, scan_file, scan_history, scan_paths};
