//! Resource paths: never panic; the quick reading and the exact parser agree on
//! every input; an accepted path prints back to itself (up to the leading `/`),
//! covers itself, and is covered by each of its ancestors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenscope_policy::resource::NodeRef;

fuzz_target!(|text: &str| {
    let parsed = NodeRef::parse(text);
    assert_eq!(parsed, NodeRef::parse_exact(text), "{text:?}");
    let Ok(node) = parsed else { return };
    let printed = node.to_string();
    assert_eq!(NodeRef::parse(&printed), Ok(node), "{text:?} printed as {printed:?}");
    assert_eq!(printed.trim_start_matches('/'), text.trim_start_matches('/').trim_end_matches('/'), "{text:?}");
    let owned = node.to_node();
    assert!(owned.covers(&node), "{text:?} does not cover itself");
    for depth in 0..=node.depth() {
        let ancestor = node.ancestor(depth);
        assert_eq!(ancestor.depth(), depth, "{text:?}");
        assert!(ancestor.to_node().covers(&node), "{ancestor} does not cover {text:?}");
    }
    if node.depth() > 0 {
        assert!(!node.to_node().covers(&node.parent()), "{text:?} covers its parent");
    }
    let _ = owned.admin_node();
});
