//! The gate, on the built fixture components: the default, the variant and the
//! hostile module that misbehaves only later pass it; every other hostile
//! module is refused with a report that names what is wrong, in bounded time.

use std::time::Instant;

use tokenscope::gate::{GateOptions, GateReport, admit};
use tokenscope::runtime::{DEFAULT_POLICY, Limits};
use tokenscope_tests::modules::{
    HOSTILE, HOSTILE_GROW, HOSTILE_HUGE_INFO, HOSTILE_LENIENT, HOSTILE_LOOP, HOSTILE_TRAP, HOSTILE_WRONG_WORLD,
    VARIANT, bytes, runtime,
};

fn gate(bytes: &[u8], source: &str) -> (bool, GateReport) {
    let options = GateOptions {
        require_vectors: true,
        now: tokenscope::time::UnixTime::from_secs(1_800_000_000),
        trust: tokenscope::gate::Trust::Anyone,
    };
    let (module, report) = admit(&runtime().unwrap(), bytes, source, Limits::default(), &options, None);
    assert_eq!(module.is_some(), report.passed);
    (report.passed, report)
}

fn failed_check<'a>(report: &'a GateReport, name: &str) -> &'a tokenscope::gate::GateCheck {
    report
        .checks
        .iter()
        .find(|c| c.name == name && !c.passed)
        .unwrap_or_else(|| panic!("{name} did not fail: {report:#?}"))
}

#[test]
fn well_behaved_modules_pass_the_gate() {
    for (path, name) in
        [(None, "tokenscope-default"), (Some(VARIANT), "tokenscope-variant"), (Some(HOSTILE), "tokenscope-hostile")]
    {
        let module = path.map_or_else(|| DEFAULT_POLICY.to_vec(), bytes);
        let (passed, report) = gate(&module, name);
        assert!(passed, "{name}: {}", report.reasons());
        assert_eq!(report.name.as_deref(), Some(name));
        assert!(report.checks.iter().all(|c| c.passed));
    }
}

#[test]
fn modules_that_loop_trap_or_grow_are_refused_within_the_budget() {
    for path in [HOSTILE_LOOP, HOSTILE_TRAP, HOSTILE_GROW] {
        let started = Instant::now();
        let (passed, report) = gate(&bytes(path), path);
        assert!(!passed);
        let vectors = failed_check(&report, "vectors");
        assert!(vectors.summary.contains("stopped after a policy fault"), "{vectors:?}");
        assert!(vectors.failures.iter().any(|f| f.contains("got policy-fault")), "{vectors:?}");
        // A faulting module stops the run at its first fault: a few call budgets, not one per case.
        tokenscope_tests::wait::report_lag("gate.faulting-module-refused", started.elapsed());
    }
}

#[test]
fn a_module_that_ignores_expiry_passes_its_own_vectors_but_not_the_safety_vectors() {
    let (passed, report) = gate(&bytes(HOSTILE_LENIENT), "lenient");
    assert!(!passed);
    assert!(report.checks.iter().any(|c| c.name == "vectors" && c.passed), "{report:#?}");
    let safety = failed_check(&report, "safety");
    assert!(
        safety.failures.iter().any(|f| f.contains("an expired token is denied as expired") && f.contains("got allow"))
    );
    assert!(safety.failures.iter().any(|f| f.contains("a revoked token is denied as revoked")));
}

#[test]
fn a_huge_name_the_wrong_world_and_garbage_are_refused_at_load() {
    let (passed, report) = gate(&bytes(HOSTILE_HUGE_INFO), "huge");
    assert!(!passed);
    assert!(failed_check(&report, "load").summary.contains("its name is 8388608 bytes long"), "{}", report.reasons());
    assert!(report.reasons().len() < 1000);

    let (passed, report) = gate(&bytes(HOSTILE_WRONG_WORLD), "wrong");
    assert!(!passed);
    let load = failed_check(&report, "load");
    assert!(load.summary.contains("does not export `tokenscope:policy/evaluator`"), "{load:?}");

    let (passed, report) = gate(b"\0asm\x01\0\0\0", "core module");
    assert!(!passed);
    assert!(failed_check(&report, "load").summary.contains("not a valid WebAssembly component"));
}

#[test]
fn a_module_without_vectors_is_refused_unless_the_operator_allows_it() {
    // The default policy's bytes without their vectors section: the component up to it.
    let text = tokenscope::runtime::embedded_vectors(DEFAULT_POLICY).unwrap().unwrap();
    // The section at the end: id, LEB128 size, LEB128 name length (1 byte), name, data.
    let size = 1 + tokenscope::runtime::VECTORS_SECTION.len() + text.len();
    let leb = (1..).find(|n| size < 1 << (7 * n)).unwrap();
    let bare = &DEFAULT_POLICY[..DEFAULT_POLICY.len() - 1 - leb - size];
    assert_eq!(tokenscope::runtime::embedded_vectors(bare).unwrap(), None);
    let (passed, report) = gate(bare, "bare");
    assert!(!passed);
    assert_eq!(failed_check(&report, "vectors").summary, "it ships no test vectors");
    let options = GateOptions {
        require_vectors: false,
        now: tokenscope::time::UnixTime::from_secs(1),
        trust: tokenscope::gate::Trust::Anyone,
    };
    let (module, report) = admit(&runtime().unwrap(), bare, "bare", Limits::default(), &options, None);
    assert!(module.is_some(), "{}", report.reasons());
}
