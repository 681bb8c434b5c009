//! The `RESOURCE=ACCESS` grant text of the command line and files: never panics,
//! prints back to text that parses to the same grant, and whatever it yields
//! compiles (or is refused) without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenscope::contract::ResourceGrant;
use tokenscope::grant_text::{parse_grant, print_grant};
use tokenscope_fuzz::to_host;
use tokenscope_policy::GrantSet;

fuzz_target!(|text: &str| {
    let Ok(grant) = parse_grant(text) else { return };
    let printed = print_grant(&grant);
    let again = parse_grant(&printed);
    let same = |a: &ResourceGrant, b: &ResourceGrant| {
        let root = |r: &str| if r.is_empty() { "/".to_owned() } else { r.to_owned() };
        root(&a.resource) == root(&b.resource) && format!("{:?}", a.access) == format!("{:?}", b.access)
    };
    assert!(again.as_ref().is_ok_and(|g| same(g, &grant)), "{text:?} printed as {printed:?}");
    let _ = GrantSet::compile_rights(&[to_host::to_native(&grant)]);
});
