//! Malformed and oversized input through the component: every case is a typed
//! deny (never an allow, never a `policy-fault`, which would mean the guest
//! panicked), and no message repeats a huge input back.

use tokenscope::contract::Grants;
use tokenscope::runtime::PolicyInstance;
use tokenscope::verdict::Verdict;
use tokenscope_tests::modules::default_policy;
use tokenscope_tests::tokens::{request, rights, scopes, token};

fn decide_scopes(instance: &mut PolicyInstance, granted: Grants, action: &str, resource: &str) -> Verdict {
    let t = token(granted, &["/=manage"]).unwrap();
    instance.decide(&t, &request(action, resource, 1))
}

fn refused(instance: &mut PolicyInstance, requested: Grants) -> (String, String) {
    match instance.check_grants(&rights(&["/=manage"]).unwrap(), &requested, None).unwrap() {
        Ok(grants) => panic!("issued {grants:?}"),
        Err(denial) => (tokenscope::verdict::Code::Policy(denial.code).as_str().to_owned(), denial.message),
    }
}

#[test]
fn malformed_scopes_are_typed_errors() {
    let mut instance = default_policy().unwrap().instantiate();
    for (text, code) in [
        ("", "malformed-scope"),
        (";;", "malformed-scope"),
        ("artifact:", "malformed-scope"),
        ("artifact:view,", "malformed-scope"),
        (":view", "malformed-scope"),
        ("channel.:edit", "malformed-scope"),
        ("artifact:view,view", "malformed-scope"),
        ("artifact:*,view", "malformed-scope"),
        ("Artifact:View", "malformed-scope"),
        ("artefakt:löschen", "malformed-scope"),
        ("artifact:view;", "malformed-scope"),
        ("galaxy", "unknown-scope"),
        ("artifact:fly", "unknown-scope"),
    ] {
        let (got, message) = refused(&mut instance, scopes(&[text]));
        assert_eq!(got, code, "scope {text:?}: {message}");
        let verdict = decide_scopes(&mut instance, scopes(&[text]), "artifact:view", "channel/a");
        assert_eq!(verdict.code_str(), code, "deciding with scope {text:?}");
    }
}

#[test]
fn scopes_over_the_policy_limit_are_refused_by_the_component() {
    let mut instance = default_policy().unwrap().instantiate();
    let over = vec!["artifact:view"; 300];
    let (code, message) = refused(&mut instance, scopes(&over));
    assert_eq!(code, "too-large");
    assert!(message.contains("256"), "the policy's own limit: {message}");
}

#[test]
fn ten_thousand_scopes_are_refused_as_too_large() {
    let mut instance = default_policy().unwrap().instantiate();
    let many: Vec<&str> = vec!["artifact:view"; 10_000];
    assert_eq!(refused(&mut instance, scopes(&many)).0, "too-large");
    let joined = many.join(";");
    assert_eq!(refused(&mut instance, scopes(&[&joined])).0, "too-large");
    assert_eq!(decide_scopes(&mut instance, scopes(&many), "artifact:view", "channel/a").code_str(), "too-large");
}

#[test]
fn megabyte_inputs_are_refused_with_short_messages() {
    let mut instance = default_policy().unwrap().instantiate();
    let huge = "a".repeat(1 << 20);
    let (code, message) = refused(&mut instance, scopes(&[&huge]));
    assert_eq!(code, "too-large");
    assert!(message.len() < 300, "message is {} bytes", message.len());
    for (action, resource, code) in
        [(huge.as_str(), "channel/a", "unknown-action"), ("artifact:view", huge.as_str(), "too-large")]
    {
        let verdict = decide_scopes(&mut instance, scopes(&["artifact"]), action, resource);
        assert_eq!(verdict.code_str(), code);
        let Verdict::Deny { message, .. } = verdict else { unreachable!() };
        assert!(message.len() < 300, "message is {} bytes", message.len());
    }
    let huge_grant = format!("channel/{huge}=read");
    let (code, _) = refused(&mut instance, Grants::Resources(rights(&[&huge_grant]).unwrap()));
    assert_eq!(code, "too-large");
}

#[test]
fn malformed_resources_are_denied() {
    let mut instance = default_policy().unwrap().instantiate();
    for resource in
        ["channel", "channel//a", "channel/a/", "channel/..", "channel/a b", "planet/x", "project/web", "channel/ä"]
    {
        let verdict = decide_scopes(&mut instance, scopes(&["artifact"]), "artifact:view", resource);
        assert_eq!(verdict.code_str(), "malformed-request", "resource {resource:?}");
    }
}
