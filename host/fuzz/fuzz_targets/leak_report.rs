//! Leak report bodies (`POST /v1/leaks`) and text a leak scan reads: any bytes
//! are a report or a refusal, never a panic; an accepted report keeps the
//! bounds it promises; a refusal never echoes what was sent; and every secret a
//! scan finds in the bytes has the right shape and checksum.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenscope::leaks::{MAX_ENTRIES, parse_report, spot};
use tokenscope::secret::check_shape;

fuzz_target!(|data: &[u8]| {
    match parse_report(data) {
        Ok(entries) => {
            assert!(entries.len() <= MAX_ENTRIES);
            for entry in &entries {
                for text in [&entry.token, &entry.kind, &entry.url, &entry.source] {
                    assert!(!text.chars().any(char::is_control), "a control character was let through");
                    assert!(text.chars().count() <= 2048);
                }
            }
        }
        Err(bad) => {
            let message = bad.to_string();
            assert!(message.len() < 200, "a refusal is short: {message}");
            if let Ok(text) = std::str::from_utf8(data) {
                for word in
                    text.split(|c: char| !c.is_ascii_alphanumeric() && c != '_').filter(|w| w.starts_with("tks_"))
                {
                    assert!(!message.contains(word), "the refusal echoes the input: {message}");
                }
            }
        }
    }
    for spotted in spot(data) {
        assert!(check_shape(spotted.secret).is_ok(), "a find that is not a secret: {}", spotted.secret);
        assert_eq!(data.get(spotted.offset..spotted.offset + spotted.secret.len()), Some(spotted.secret.as_bytes()));
    }
});
