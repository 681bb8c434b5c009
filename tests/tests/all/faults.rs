//! Fail closed: a policy that loops, traps, eats memory or answers megabytes is
//! stopped within its budget and every such call is a `policy-fault` deny; the
//! instance recovers for the next call. A file that is not a usable policy is
//! refused at load time.

use std::path::Path;
use std::time::{Duration, Instant};

use tokenscope::contract::{Grants, TokenStatus};
use tokenscope::runtime::{CompiledGrants, HotCall, Limits, PolicyInstance, PolicyModule};
use tokenscope::verdict::Verdict;
use tokenscope_tests::modules::{HOSTILE, hostile_policy, runtime};
use tokenscope_tests::tokens::{request, scopes, token};

const T: u64 = 1_800_000_000;

fn reader() -> tokenscope::contract::Token {
    token(scopes(&["artifact"]), &["/=manage"]).unwrap()
}

#[test]
fn hostile_module_decides_ordinary_requests_like_the_default() {
    let mut instance = hostile_policy().unwrap().instantiate();
    assert!(instance.decide(&reader(), &request("artifact:view", "channel/main", T)).is_allow());
    assert_eq!(instance.decide(&reader(), &request("artifact:create", "channel/main", T)).code_str(), "no-grant");
}

#[test]
fn loop_trap_memory_hog_and_huge_answer_are_policy_faults_and_the_instance_recovers() {
    let mut instance = hostile_policy().unwrap().instantiate();
    for trigger in ["hostile-loop", "hostile-trap", "hostile-grow", "hostile-huge"] {
        let started = Instant::now();
        let verdict = instance.decide(&reader(), &request("artifact:view", &format!("channel/{trigger}"), T));
        assert_eq!(verdict.code_str(), "policy-fault", "{trigger}: {verdict:?}");
        // Returning at all is the loop stopped by the call budget; how soon is measured.
        tokenscope_tests::wait::report_lag(&format!("policy.{trigger}-stopped"), started.elapsed());
        let Verdict::Deny { message, .. } = &verdict else { unreachable!() };
        assert!(message.len() < 1000, "{trigger}: the fault's reason is short: {message}");
        assert!(
            instance.decide(&reader(), &request("artifact:view", "channel/main", T)).is_allow(),
            "instance did not recover after {trigger}"
        );
    }
}

#[test]
fn timeout_fault_names_the_budget() {
    let limits = Limits { call_timeout: Duration::from_millis(30), ..Limits::default() };
    let module = PolicyModule::from_file(&runtime().unwrap(), Path::new(HOSTILE), limits).unwrap();
    let mut instance = module.instantiate();
    let Verdict::Deny { message, .. } =
        instance.decide(&reader(), &request("artifact:view", "channel/hostile-loop", T))
    else {
        panic!("allowed")
    };
    assert!(message.contains("time budget of 30 ms"), "{message}");
}

#[test]
fn hot_path_faults_are_denies_and_old_handles_are_refused_after() {
    let module = hostile_policy().unwrap();
    let mut instance = module.instantiate();
    let sets = compiled_reader(&mut instance);
    assert!(instance.decide_compiled(&viewing(&module, &sets, "channel/main")).is_allow());
    let trapped = instance.decide_compiled(&viewing(&module, &sets, "channel/hostile-trap"));
    assert_eq!(trapped.code_str(), "policy-fault");
    // The trapped instance was replaced: handles compiled in it are gone, and using one is a deny.
    assert_eq!(instance.decide_compiled(&viewing(&module, &sets, "channel/main")).code_str(), "policy-fault");
}

#[test]
fn an_explanation_that_contradicts_the_ruling_is_a_fault_never_an_allow() {
    let module = hostile_policy().unwrap();
    let mut instance = module.instantiate();
    let sets = compiled_reader(&mut instance);
    // The hot path rules a deny; asked why, the module claims it allows.
    let lies = viewing(&module, &sets, "channel/hostile-lies");
    let ruling = instance.decide_compiled(&lies);
    assert_eq!(ruling.code_str(), "no-grant");
    let explained = instance.explain(&ruling, &lies);
    assert_eq!(explained.code_str(), "policy-fault", "{explained:?}");
    let Verdict::Deny { message, .. } = &explained else { unreachable!() };
    assert!(message.contains("disagrees"), "{message}");
    // And through the evaluator a live check uses: a deny, never the allow.
    let mut evaluator = tokenscope::runtime::Evaluator::new(&module);
    let token = reader();
    let grants = tokenscope::runtime::KeyedGrants::from(token.grants.clone());
    let owner_rights = tokenscope::runtime::KeyedRights::from(&token.owner_rights[..]);
    let question = tokenscope::runtime::Question {
        token: tokenscope::store::TokenId::new(1),
        grants: &grants,
        owner_rights: &owner_rights,
        status: lies.status,
        action: lies.action,
        resource: lies.resource,
        now: tokenscope::time::UnixTime::from_secs(T),
    };
    assert_eq!(evaluator.decide(&question).code_str(), "policy-fault");
}

/// The reader's grants and its owner's rights, compiled in `instance`.
fn compiled_reader(instance: &mut PolicyInstance) -> (CompiledGrants, CompiledGrants) {
    let grants = instance.compile(&Grants::Scopes(vec!["artifact".into()])).unwrap().unwrap();
    let owner = instance.compile(&reader_rights()).unwrap().unwrap();
    (grants, owner)
}

/// `artifact:view` on `resource` at `T` with those sets, a token without expiry.
fn viewing<'a>(module: &PolicyModule, sets: &'a (CompiledGrants, CompiledGrants), resource: &'a str) -> HotCall<'a> {
    HotCall {
        token: &sets.0,
        owner: &sets.1,
        status: TokenStatus { expires_at: None, revoked: false },
        action: module.action_id("artifact:view").unwrap(),
        resource,
        now: T,
    }
}

fn reader_rights() -> Grants {
    Grants::Resources(reader().owner_rights)
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
