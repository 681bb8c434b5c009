//! The built component itself: it imports nothing (no WASI: no clock, files,
//! network or randomness), exports the evaluator, and describes itself.

use tokenscope::contract::EVALUATOR;
use tokenscope::runtime::DEFAULT_POLICY;
use tokenscope_tests::modules::default_policy;

#[test]
fn default_component_imports_nothing() {
    let module = default_policy().unwrap();
    let interface = module.interface();
    assert_eq!(interface.imports, Vec::<String>::new());
    assert_eq!(interface.exports.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), [EVALUATOR]);
}

#[test]
fn default_component_is_a_component_not_a_core_module() {
    // A component's preamble: magic, then layer 1.
    assert_eq!(DEFAULT_POLICY.get(..4), Some(&b"\0asm"[..]));
    assert_eq!(DEFAULT_POLICY.get(6..8), Some(&[1u8, 0][..]));
}

#[test]
fn module_reports_its_name_version_and_catalog() {
    let module = default_policy().unwrap();
    assert_eq!(module.info().name, "tokenscope-default");
    assert_eq!(module.info().version, env!("CARGO_PKG_VERSION"));
    assert_eq!(module.sha256().len(), 64);
    assert!(module.catalog().len() >= 60);
    assert_eq!(
        module.action_id("create-scan").map(|id| module.catalog()[id.index()].action.as_str()),
        Some("create-scan")
    );
    let kinds = module.instantiate().resource_kinds().unwrap();
    let component = kinds.iter().find(|k| k.name == "component").unwrap();
    assert_eq!(component.admin_at.as_deref(), Some("project"));
}
