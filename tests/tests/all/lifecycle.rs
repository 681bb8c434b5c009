//! Issue 3 end to end through the library: a real SQLite file, the built policy
//! component, a manual clock. Issue, verify, reissue, revoke, delete; expiry and
//! its operator rules; escalation refused; a demoted owner's tokens lose the
//! right; usage counted and flushed.

use std::time::Duration;

use tokenscope::authority::{Actor, Expiry, IssueRequest, LifecycleError, TokenChange};
use tokenscope::contract::Grants;
use tokenscope::store::Binding;
use tokenscope_tests::authority::TestAuthority;
use tokenscope_tests::tokens::{resources, scopes};

pub(super) fn request(owner: &str, grants: Grants) -> IssueRequest {
    IssueRequest {
        owner: owner.into(),
        name: "ci".into(),
        description: String::new(),
        expiry: Expiry::Default,
        grants,
        exchange: None,
    }
}

fn refused_code(err: LifecycleError) -> &'static str {
    match err {
        LifecycleError::Refused { code, .. } => code.as_str(),
        other => panic!("expected a refusal, got {other}"),
    }
}

pub(super) fn principal(t: &TestAuthority, name: &str, bindings: &[Binding]) {
    let p = t.store().add_principal(name, tokenscope::time::UnixTime::from_secs(1), &[], &audit()).unwrap();
    for b in bindings {
        t.store().bind(p.id, std::slice::from_ref(b), &audit()).unwrap();
    }
}

pub(super) fn grant(text: &str) -> Binding {
    Binding::Grant(text.into())
}

#[test]
fn issue_verify_reissue_revoke_delete() {
    let t = TestAuthority::new().unwrap();
    principal(&t, "alice", &[grant("channel/main=manage")]);
    let a = &t.authority;
    let issued =
        a.create_token(Actor::Operator, &request("alice", resources(&["channel/main=write"]).unwrap())).unwrap();
    let old = issued.secret.expose().to_owned();
    let v = a.verify(Some(&old), "artifact:create", "channel/main/artifact/pkg.conda");
    assert!(v.verdict.is_allow(), "{v:?}");
    assert_eq!(v.grant.as_deref(), Some("channel/main=write"));

    let reissued = a.reissue_token(Actor::Operator, issued.record.id).unwrap();
    assert_eq!(a.verify(Some(&old), "artifact:view", "channel/main").verdict.code_str(), "unknown-token");
    let new = reissued.secret.expose().to_owned();
    assert!(a.verify(Some(&new), "artifact:view", "channel/main").verdict.is_allow());

    a.revoke_token(Actor::Operator, issued.record.id, None).unwrap();
    assert_eq!(a.verify(Some(&new), "artifact:view", "channel/main").verdict.code_str(), "revoked");
    assert_eq!(refused_code(a.reissue_token(Actor::Operator, issued.record.id).err().unwrap()), "revoked");

    a.delete_token(Actor::Operator, issued.record.id, None).unwrap();
    assert_eq!(a.verify(Some(&new), "artifact:view", "channel/main").verdict.code_str(), "unknown-token");
    assert!(matches!(a.delete_token(Actor::Operator, issued.record.id, None), Err(LifecycleError::NotFound(_))));
}

#[test]
fn expiry_defaults_to_a_year_and_expired_tokens_are_denied() {
    let t = TestAuthority::new().unwrap();
    principal(&t, "alice", &[grant("/=manage")]);
    let a = &t.authority;
    let issued = a.create_token(Actor::Operator, &request("alice", scopes(&["artifact"]))).unwrap();
    assert_eq!(
        issued.record.expires_at,
        Some(
            tokenscope::time::Clock::now(t.clock.as_ref()).saturating_add(std::time::Duration::from_secs(365 * 86_400))
        )
    );
    let mut short = request("alice", scopes(&["artifact"]));
    short.expiry = Expiry::Ttl(Duration::from_secs(3600));
    let short = a.create_token(Actor::Operator, &short).unwrap();
    let secret = short.secret.expose().to_owned();
    assert!(a.verify(Some(&secret), "artifact:view", "channel/a").verdict.is_allow());
    t.clock.advance(3600);
    assert_eq!(a.verify(Some(&secret), "artifact:view", "channel/a").verdict.code_str(), "expired");
    // Moving the expiry with `edit` brings it back.
    let change = TokenChange { expiry: Some(Expiry::Ttl(Duration::from_secs(60))), ..TokenChange::default() };
    a.change_token(Actor::Operator, short.record.id, None, change).unwrap();
    assert!(a.verify(Some(&secret), "artifact:view", "channel/a").verdict.is_allow());
}

#[test]
fn operator_expiry_rules_are_enforced() {
    let t = TestAuthority::new().unwrap();
    principal(&t, "alice", &[grant("/=manage")]);
    let a = &t.authority;
    let mut long = request("alice", scopes(&["artifact"]));
    long.expiry = Expiry::Ttl(Duration::from_secs(3 * 365 * 86_400));
    assert_eq!(refused_code(a.create_token(Actor::Operator, &long).err().unwrap()), "expiry-too-long");
    let mut never = request("alice", scopes(&["artifact"]));
    never.expiry = Expiry::Never;
    assert_eq!(refused_code(a.create_token(Actor::Operator, &never).err().unwrap()), "no-expiry-not-allowed");
    let mut past = request("alice", scopes(&["artifact"]));
    past.expiry = Expiry::At(tokenscope::time::UnixTime::from_secs(1));
    assert_eq!(refused_code(a.create_token(Actor::Operator, &past).err().unwrap()), "expiry-in-past");

    let dir = tempfile::tempdir().unwrap();
    let mut config = tokenscope_tests::authority::test_config(dir.path().join("t.db"));
    config.tokens.allow_no_expiry = true;
    let t = TestAuthority::open(dir, config).unwrap();
    principal(&t, "alice", &[grant("/=manage")]);
    assert_eq!(t.authority.create_token(Actor::Operator, &never).unwrap().record.expires_at, None);
}

#[test]
fn escalation_is_refused_at_issuance() {
    let t = TestAuthority::new().unwrap();
    principal(&t, "pat", &[grant("vault/acme/project/web=manage")]);
    principal(&t, "ci", &[Binding::Role { role: "continuous-integration".into(), at: "/".into() }]);
    principal(&t, "certbot", &[Binding::Role { role: "cert-integration".into(), at: "/".into() }]);
    let a = &t.authority;
    // cvescan: a project admin cannot mint a vault token, but can mint a component token.
    let vault = request("pat", resources(&["vault/acme=create-scan"]).unwrap());
    assert_eq!(refused_code(a.create_token(Actor::Operator, &vault).err().unwrap()), "admin-required");
    let component = request("pat", resources(&["vault/acme/project/web/component/api=create-scan"]).unwrap());
    a.create_token(Actor::Operator, &component).unwrap();
    // acs: the Continuous Integration role cannot mint `role:edit`.
    assert_eq!(
        refused_code(a.create_token(Actor::Operator, &request("ci", scopes(&["role:edit"]))).err().unwrap()),
        "escalation"
    );
    a.create_token(Actor::Operator, &request("ci", scopes(&["artifact:create,download"]))).unwrap();
    // venafi: an integration caps the scopes a token may ask for.
    assert_eq!(
        refused_code(
            a.create_token(Actor::Operator, &request("certbot", scopes(&["certificate:manage"]))).err().unwrap()
        ),
        "escalation"
    );
    a.create_token(Actor::Operator, &request("certbot", scopes(&["certificate:approve"]))).unwrap();
    // psm: resources xor scopes cannot even be expressed; unknown scopes are refused.
    assert_eq!(
        refused_code(a.create_token(Actor::Operator, &request("ci", scopes(&["artifact:fly"]))).err().unwrap()),
        "unknown-scope"
    );
    assert!(matches!(
        a.create_token(Actor::Operator, &request("nobody", scopes(&["artifact"]))),
        Err(LifecycleError::NotFound(_))
    ));
}

#[test]
fn demoted_owner_tokens_lose_the_right_at_the_next_verify() {
    let t = TestAuthority::new().unwrap();
    principal(&t, "alice", &[grant("channel/main=manage")]);
    let a = &t.authority;
    let issued = a.create_token(Actor::Operator, &request("alice", scopes(&["artifact:create"]))).unwrap();
    let secret = issued.secret.expose().to_owned();
    assert!(a.verify(Some(&secret), "artifact:create", "channel/main/artifact/x").verdict.is_allow());
    a.unbind(Actor::Operator, "alice", &[grant("channel/main=manage")]).unwrap();
    a.bind(Actor::Operator, "alice", &[grant("channel/main=read")]).unwrap();
    let v = a.verify(Some(&secret), "artifact:create", "channel/main/artifact/x");
    assert_eq!(v.verdict.code_str(), "owner-lacks-right", "{v:?}");
}

#[test]
fn component_token_never_reaches_a_sibling_component() {
    let t = TestAuthority::new().unwrap();
    principal(&t, "pat", &[grant("vault/acme/project/web=manage")]);
    let a = &t.authority;
    let issued = a
        .create_token(
            Actor::Operator,
            &request("pat", resources(&["vault/acme/project/web/component/api=create-scan"]).unwrap()),
        )
        .unwrap();
    let s = issued.secret.expose().to_owned();
    assert!(a.verify(Some(&s), "create-scan", "vault/acme/project/web/component/api").verdict.is_allow());
    for sibling in
        ["vault/acme/project/web/component/db", "vault/acme/project/web", "vault/acme/project/mobile/component/api"]
    {
        assert_eq!(a.verify(Some(&s), "create-scan", sibling).verdict.code_str(), "no-grant", "{sibling}");
    }
}

#[test]
fn malformed_missing_and_unknown_tokens_have_their_own_codes() {
    let t = TestAuthority::new().unwrap();
    let a = &t.authority;
    assert_eq!(a.verify(None, "artifact:view", "/").verdict.code_str(), "missing-token");
    assert_eq!(a.verify(Some("Bearer xyz"), "artifact:view", "/").verdict.code_str(), "malformed-token");
    let unknown = tokenscope::secret::Secret::generate().unwrap();
    assert_eq!(a.verify(Some(unknown.expose()), "artifact:view", "/").verdict.code_str(), "unknown-token");
    let mut typo = unknown.expose().to_owned();
    typo.replace_range(8..9, if &typo[8..9] == "x" { "y" } else { "x" });
    assert_eq!(a.verify(Some(&typo), "artifact:view", "/").verdict.code_str(), "malformed-token");
}

#[test]
fn usage_is_counted_in_memory_and_flushed_in_one_batch() {
    let t = TestAuthority::new().unwrap();
    principal(&t, "alice", &[grant("/=manage")]);
    let a = &t.authority;
    let issued = a.create_token(Actor::Operator, &request("alice", scopes(&["artifact"]))).unwrap();
    let s = issued.secret.expose().to_owned();
    for _ in 0..5 {
        assert!(a.verify(Some(&s), "artifact:view", "channel/a").verdict.is_allow());
        t.clock.advance(10);
    }
    a.verify(Some(&s), "artifact:delete", "channel/a"); // denied: not counted
    assert_eq!(a.token(issued.record.id).unwrap().use_count, 0, "nothing written before a flush");
    assert_eq!(a.flush_usage().unwrap(), 1);
    let record = a.token(issued.record.id).unwrap();
    assert_eq!(record.use_count, 5);
    assert_eq!(record.last_used_at, Some(tokenscope::time::UnixTime::from_secs(tokenscope_tests::authority::T0 + 40)));
}

/// The event these tests' direct store writes record.
fn audit() -> tokenscope::audit::AuditEvent {
    tokenscope::audit::AuditEvent::by_operator("test", "")
}
