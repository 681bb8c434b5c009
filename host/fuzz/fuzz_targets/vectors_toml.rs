//! Test-vector files, TOML and JSON lines: any text is read or refused with an
//! error, never a panic; the cases of an accepted file resolve to tokens and
//! requests (or a clear error) without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenscope::vectors::Vectors;

fuzz_target!(|text: &str| {
    for parsed in [Vectors::from_toml(text), Vectors::from_jsonl(text)] {
        let Ok(vectors) = parsed else { continue };
        let now = vectors.default_now(0);
        for case in &vectors.cases {
            let _ = case.label();
            let _ = case.token.to_token();
            let _ = case.request.to_request(now);
        }
    }
});
