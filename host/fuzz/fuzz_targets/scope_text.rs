//! The scope parser on any text: never panics, anything it accepts prints back to
//! text that parses to the same scopes, and compiling the scopes never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenscope_policy::scope::{parse, print};
use tokenscope_policy::{GrantSet, Grants};

fuzz_target!(|text: &str| {
    if let Ok(scopes) = parse(text) {
        let printed = print(&scopes);
        assert_eq!(parse(&printed).as_ref(), Ok(&scopes), "{text:?} printed as {printed:?}");
        assert!(printed.len() <= text.len(), "printing {text:?} grew it to {printed:?}");
    }
    let _ = GrantSet::compile(&Grants::Scopes(text.split('\n').map(str::to_owned).collect()));
});
