//! Secret parsing: never panics, accepts only the exact shape (prefix, length,
//! base62, checksum), and nothing derived from a secret for display shows it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenscope::secret::{PREFIX, SECRET_LEN, Secret};
use tokenscope_request::Presented;

fuzz_target!(|text: &str| {
    let presented = format!("{:?}", Presented::new(text));
    assert_eq!(presented, format!("Presented({} bytes, redacted)", text.len()), "Presented shows more than its length");
    let Ok(secret) = Secret::parse(text) else { return };
    assert_eq!(secret.expose(), text);
    assert_eq!(text.len(), SECRET_LEN);
    assert!(text.starts_with(PREFIX) && text[PREFIX.len()..].bytes().all(|b| b.is_ascii_alphanumeric()));
    let shown = format!("{secret:?} {:?} {}", secret.hash(), secret.hint());
    assert!(!shown.contains(&text[PREFIX.len() + 4..]), "{shown}");
});
