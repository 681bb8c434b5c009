//! No import cycles: in every crate of the workspace, no two modules (top-level,
//! or siblings inside one) need each other. The graph is read with `syn` from
//! the sources; the checker itself is shown to find a planted cycle.

use std::path::Path;

use tokenscope_tests::layering::Graph;

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn assert_acyclic(src: &str, min_edges: usize) {
    let graph = Graph::read(&workspace().join(src)).unwrap();
    assert!(
        graph.edge_count() >= min_edges,
        "{src}: only {} references found; the reader is broken",
        graph.edge_count()
    );
    for depth in [1, 2, 3] {
        let cycles = graph.cycles(depth);
        assert!(cycles.is_empty(), "{src}: modules that import each other (depth {depth}): {cycles:#?}");
    }
}

#[test]
fn host_modules_import_each_other_in_one_direction_only() {
    assert_acyclic("host/src", 100);
}

#[test]
fn request_and_policy_modules_import_each_other_in_one_direction_only() {
    assert_acyclic("host/request/src", 8);
    assert_acyclic("policy/src", 15);
}

#[test]
fn a_planted_cycle_is_found_and_a_facade_is_not_one() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "pub mod a;\npub mod b;\npub mod f;\n");
    write("a.rs", "use crate::b::B;\npub struct A;\n");
    write(
        "b.rs",
        "pub struct B;\nfn f() -> crate::a::A { crate::a::A }\n#[cfg(test)]\nmod tests { use crate::f::F; }\n",
    );
    write("f/mod.rs", "mod inner;\npub use inner::F;\n");
    write("f/inner.rs", "pub struct F;\nfn g() -> super::F { super::F }\n");
    let graph = Graph::read(dir.path()).unwrap();
    assert_eq!(graph.cycles(1), ["b <-> a"]);
    assert!(
        graph.cycles(2).iter().all(|c| !c.contains('f')),
        "a facade's re-export is no dependency: {:?}",
        graph.cycles(2)
    );
    assert!(
        !graph.at_depth(1).get(&vec!["b".to_owned()]).is_some_and(|to| to.contains(&vec!["f".to_owned()])),
        "test code counts"
    );
}
