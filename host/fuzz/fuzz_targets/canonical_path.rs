//! The canonical path: never panics; an accepted path has no dot segment, no
//! empty inner segment, no backslash, control character or `%`, and parsing it
//! again changes nothing (so no later decoding can read another path). Public
//! prefixes cover whole segments only.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenscope_request::{CanonicalPath, PublicPrefix};

fuzz_target!(|input: (&str, &str)| {
    let (raw, prefix) = input;
    let Ok(path) = CanonicalPath::parse(raw) else { return };
    let text = path.as_str();
    assert!(text.starts_with('/'), "{raw:?}");
    assert!(!text.contains('%') && !text.contains('\\'), "{raw:?} -> {text:?}");
    assert!(!text.chars().any(char::is_control), "{raw:?}");
    let segments: Vec<&str> = text.split('/').skip(1).collect();
    for (i, segment) in segments.iter().enumerate() {
        let bare = segment.split(';').next().unwrap_or(segment);
        assert!(bare != "." && bare != "..", "{raw:?} -> {text:?}");
        assert!(!segment.is_empty() || i + 1 == segments.len(), "{raw:?} -> {text:?}");
    }
    if !text.contains(['?', '#']) {
        assert_eq!(CanonicalPath::parse(text).as_ref(), Ok(&path), "{raw:?} -> {text:?} is not stable");
    }
    if let Ok(public) = PublicPrefix::parse(prefix) {
        let base = public.as_str();
        let covered = base == "/" || text == base || text.strip_prefix(base).is_some_and(|rest| rest.starts_with('/'));
        assert_eq!(public.covers(&path), covered, "{prefix:?} on {text:?}");
    }
});
