//! Fail closed: a policy that loops, traps or eats memory is stopped within its
//! budget and every such call is a `policy-fault` deny; the instance recovers for
//! the next call. A file that is not a usable policy is refused at load time.

use std::path::Path;
use std::time::{Duration, Instant};

use tokenscope::runtime::{Grants, Limits, PolicyModule, TokenStatus};
use tokenscope::verdict::Verdict;
use tokenscope_tests::modules::{HOSTILE, hostile_policy, runtime};
use tokenscope_tests::tokens::{request, scopes, token};

#[test]
fn hostile_module_allows_ordinary_requests() {
    let mut instance = hostile_policy().unwrap().instantiate();
    let t = token(scopes(&["anything"]), &[]).unwrap();
    assert!(instance.decide(&t, &request("artifact:download", "/", 1)).is_allow());
}

#[test]
fn loop_trap_and_memory_hog_are_policy_faults_and_the_instance_recovers() {
    let mut instance = hostile_policy().unwrap().instantiate();
    let t = token(scopes(&["anything"]), &[]).unwrap();
    for action in ["hostile:loop", "hostile:trap", "hostile:grow"] {
        let started = Instant::now();
        let verdict = instance.decide(&t, &request(action, "/", 1));
        assert_eq!(verdict.code_str(), "policy-fault", "{action}: {verdict:?}");
        assert!(started.elapsed() < Duration::from_secs(10), "{action} was not stopped");
        assert!(
            instance.decide(&t, &request("artifact:download", "/", 1)).is_allow(),
            "instance did not recover after {action}"
        );
    }
}

#[test]
fn timeout_fault_names_the_budget() {
    let limits = Limits { call_timeout: Duration::from_millis(30), ..Limits::default() };
    let module = PolicyModule::from_file(&runtime().unwrap(), Path::new(HOSTILE), limits).unwrap();
    let mut instance = module.instantiate();
    let t = token(scopes(&["anything"]), &[]).unwrap();
    let Verdict::Deny { message, .. } = instance.decide(&t, &request("hostile:loop", "/", 1)) else {
        panic!("allowed")
    };
    assert!(message.contains("time budget of 30 ms"), "{message}");
}

#[test]
fn hot_path_faults_are_denies_and_old_handles_are_refused_after() {
    let module = hostile_policy().unwrap();
    let mut instance = module.instantiate();
    let grants = instance.compile(&Grants::Scopes(vec![])).unwrap().unwrap();
    let owner = instance.compile(&Grants::Resources(vec![])).unwrap().unwrap();
    let status = TokenStatus { expires_at: None, revoked: false };
    let ordinary = module.action_id("artifact:download").unwrap();
    let trap = module.action_id("hostile:trap").unwrap();
    assert!(instance.decide_compiled(&grants, &owner, status, ordinary, "/", 1).is_allow());
    assert_eq!(instance.decide_compiled(&grants, &owner, status, trap, "/", 1).code_str(), "policy-fault");
    // The trapped instance was replaced: handles compiled in it are gone, and using one is a deny.
    assert_eq!(instance.decide_compiled(&grants, &owner, status, ordinary, "/", 1).code_str(), "policy-fault");
}

#[test]
fn files_that_are_not_policies_are_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.wasm");
    std::fs::write(&garbage, b"this is not wasm").unwrap();
    let err = PolicyModule::from_file(&runtime().unwrap(), &garbage, Limits::default()).err().unwrap();
    let text = format!("{err:#}");
    assert!(text.contains("garbage.wasm") && text.contains("not a valid WebAssembly component"), "{text}");
    let missing = dir.path().join("missing.wasm");
    let err = PolicyModule::from_file(&runtime().unwrap(), &missing, Limits::default()).err().unwrap();
    assert!(format!("{err:#}").contains("missing.wasm"));
}
