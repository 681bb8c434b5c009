//! The seed table. Decisions: the default policy's test vectors
//! (`policy/vectors.toml`, embedded in the component), each naming the seed
//! sentence it checks, run through the built component on the hot path and
//! cross-checked with the one-shot path. Issuances: the table below, drawn from
//! the four source descriptions in `shared/seeds/`.

use tokenscope::contract::Grants;
use tokenscope::grant_text::print_all;
use tokenscope::vectors::{Vectors, run_vectors};
use tokenscope_tests::modules::default_policy;
use tokenscope_tests::tokens::{resources, rights, scopes};

const PSM_RESOURCE: &str = "psm: Resource tokens provide the token holder with read, write, or manage permissions for a specific set of channels.";
const PSM_SCOPE: &str = "psm: Scope tokens provide the token holder with a fine-grained set of custom user permissions";
const VEN_MANY: &str = "venafi: (Many scopes) Use a semi-colon (;)";
const ACS_ESCALATION: &str = "acs: To prevent privilege escalation, when you create a new token, your role's permissions limit the permissions you can assign to that token.";

#[test]
fn seed_decision_table_is_decided_right_by_the_component() {
    let module = default_policy().unwrap();
    let vectors = Vectors::from_toml(module.vectors().unwrap()).unwrap();
    assert!(vectors.cases.len() >= 60, "the table must keep at least 60 cases, has {}", vectors.cases.len());
    for seed in ["psm:", "venafi:", "cvescan:", "acs:"] {
        let n = vectors.cases.iter().filter(|c| c.seed.as_deref().is_some_and(|s| s.starts_with(seed))).count();
        assert!(n >= 5, "only {n} cases are drawn from {seed}");
    }
    assert!(vectors.cases.iter().all(|c| c.seed.is_some()), "every case names the sentence it checks");
    let results = run_vectors(&module, &vectors, 0);
    assert_eq!(results.len(), vectors.cases.len());
    let failures: Vec<String> = results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| {
            format!(
                "[{}] {}: expected {}, got {} {:?}",
                r.seed.as_deref().unwrap_or(""),
                r.name,
                r.expected,
                r.got,
                r.problem
            )
        })
        .collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), results.len(), failures.join("\n"));
}

const ROOT_ADMIN: &[&str] = &["/=manage"];

pub(super) enum Issued {
    Ok(&'static [&'static str]),
    Refused(&'static str),
}

const CVE_VAULT_ADMIN: &str = "cvescan: Vault-Level Tokens — Creation: Requires vault admin or higher role.";
const CVE_PROJECT_ADMIN: &str = "cvescan: Project-Level Tokens — Creation: Requires project admin or higher role.";
const CVE_COMPONENT_ADMIN: &str = "cvescan: Component-Level Tokens — Creation: Requires project admin or higher role.";
const ACS_READ_ONLY: &str = "acs: if you only have read permission for the Integration resource, you cannot create a token with write permission.";
const ACS_ROLE: &str =
    "acs: select a role that provides the required level of access (for example, Continuous Integration)";
const VEN_CAP: &str =
    "venafi: Use all or part of the scope that matches the API application (known as an integration in the UI).";
const VEN_BAD: &str =
    "venafi: Restriction — The part of a scope that allows endpoints to update or change Venafi resources.";
const PSM_SUB_ADMIN: &str = "design §1: subchannel-level [tokens] need channel manage (psm)";

/// The issuance table: seed sentence, creator's rights, requested grants, outcome.
pub(super) fn issuance_cases() -> Vec<(&'static str, &'static [&'static str], Grants, Issued)> {
    let g = |t: &[&str]| resources(t).unwrap();
    let ci: &[&str] = &["/=artifact:create,artifact:download,artifact:view,channel:view"];
    vec![
        (
            CVE_VAULT_ADMIN,
            &["vault/acme=manage"],
            g(&["vault/acme=create-scan"]),
            Issued::Ok(&["vault/acme=create-scan"]),
        ),
        (
            CVE_VAULT_ADMIN,
            &["vault/acme/project/web=manage"],
            g(&["vault/acme=create-scan"]),
            Issued::Refused("admin-required"),
        ),
        (CVE_VAULT_ADMIN, &["/=manage"], g(&["vault/acme=create-scan"]), Issued::Ok(&["vault/acme=create-scan"])),
        (CVE_VAULT_ADMIN, &["vault/acme=write"], g(&["vault/acme=create-scan"]), Issued::Refused("admin-required")),
        (
            CVE_PROJECT_ADMIN,
            &["vault/acme/project/web=manage"],
            g(&["vault/acme/project/web=create-scan"]),
            Issued::Ok(&["vault/acme/project/web=create-scan"]),
        ),
        (
            CVE_PROJECT_ADMIN,
            &["vault/acme/project/mobile=manage"],
            g(&["vault/acme/project/web=create-scan"]),
            Issued::Refused("admin-required"),
        ),
        (
            CVE_COMPONENT_ADMIN,
            &["vault/acme/project/web=manage"],
            g(&["vault/acme/project/web/component/api=create-scan"]),
            Issued::Ok(&["vault/acme/project/web/component/api=create-scan"]),
        ),
        (
            CVE_COMPONENT_ADMIN,
            &["vault/acme/project/web/component/api=manage"],
            g(&["vault/acme/project/web/component/api=create-scan"]),
            Issued::Refused("admin-required"),
        ),
        (
            PSM_SUB_ADMIN,
            &["channel/main=manage"],
            g(&["channel/main/subchannel/nightly=read"]),
            Issued::Ok(&["channel/main/subchannel/nightly=read"]),
        ),
        (
            PSM_SUB_ADMIN,
            &["channel/main/subchannel/nightly=manage"],
            g(&["channel/main/subchannel/nightly=read"]),
            Issued::Refused("admin-required"),
        ),
        (
            PSM_RESOURCE,
            &["channel/main=manage"],
            g(&["channel/main=write", "channel/docs=read"]),
            Issued::Refused("admin-required"),
        ),
        (
            PSM_RESOURCE,
            &["/=manage"],
            g(&["channel/main=write", "channel/docs=read"]),
            Issued::Ok(&["channel/docs=read", "channel/main=write"]),
        ),
        (PSM_RESOURCE, &["/=manage"], g(&["channel/main/artifact/x=read"]), Issued::Refused("invalid-grant")),
        (PSM_RESOURCE, &["/=manage"], g(&["channel/main=role:edit"]), Issued::Refused("invalid-grant")),
        (ACS_READ_ONLY, &["/=role:view"], scopes(&["role"]), Issued::Ok(&["role"])),
        (ACS_READ_ONLY, &["/=role:view"], scopes(&["role:edit"]), Issued::Refused("escalation")),
        (ACS_ESCALATION, &["channel/main=write"], scopes(&["channel:edit"]), Issued::Refused("escalation")),
        (ACS_ESCALATION, &["channel/main=manage"], scopes(&["channel:edit"]), Issued::Ok(&["channel:edit"])),
        (ACS_ROLE, ci, scopes(&["artifact:create,download"]), Issued::Ok(&["artifact:create,download"])),
        (ACS_ROLE, ci, scopes(&["role:edit"]), Issued::Refused("escalation")),
        (ACS_ROLE, ci, scopes(&["artifact:delete"]), Issued::Refused("escalation")),
        (
            VEN_CAP,
            &["/=certificate,certificate:approve"],
            scopes(&["certificate:approve"]),
            Issued::Ok(&["certificate:approve"]),
        ),
        (
            VEN_CAP,
            &["/=certificate,certificate:approve"],
            scopes(&["certificate:manage"]),
            Issued::Refused("escalation"),
        ),
        (VEN_BAD, ROOT_ADMIN, scopes(&["codesignclient:manage"]), Issued::Refused("unknown-scope")),
        (VEN_BAD, ROOT_ADMIN, scopes(&["statistics:delete"]), Issued::Refused("unknown-scope")),
        (VEN_BAD, ROOT_ADMIN, scopes(&["galaxy:manage"]), Issued::Refused("unknown-scope")),
        (
            VEN_MANY,
            ROOT_ADMIN,
            scopes(&["certificate:approve,delete;configuration"]),
            Issued::Ok(&["certificate:approve,delete", "configuration"]),
        ),
        (PSM_SCOPE, ROOT_ADMIN, scopes(&[]), Issued::Refused("invalid-grant")),
        (PSM_SCOPE, ROOT_ADMIN, scopes(&["mirror"]), Issued::Refused("unknown-scope")),
        (
            PSM_SCOPE,
            ROOT_ADMIN,
            scopes(&["mirror:view", "artifact:view;artifact:download"]),
            Issued::Ok(&["artifact", "mirror:view"]),
        ),
    ]
}

#[test]
fn seed_issuance_table_is_decided_right_by_the_component() {
    let mut instance = default_policy().unwrap().instantiate();
    let mut failures = Vec::new();
    for (i, (seed, creator, requested, expect)) in issuance_cases().into_iter().enumerate() {
        let result = instance.check_grants(&rights(creator).unwrap(), &requested, None).unwrap();
        let outcome = match (&expect, &result) {
            (Issued::Ok(want), Ok(grants)) if print_all(grants) == *want => continue,
            (Issued::Refused(want), Err(denial))
                if tokenscope::verdict::Code::Policy(denial.code).as_str() == *want =>
            {
                continue;
            }
            (_, Ok(grants)) => format!("issued {:?}", print_all(grants)),
            (_, Err(denial)) => format!("refused: {}", denial.message),
        };
        let want = match expect {
            Issued::Ok(g) => format!("issued {g:?}"),
            Issued::Refused(code) => format!("refused {code}"),
        };
        failures.push(format!("case {i} [{seed}] creator {creator:?}: expected {want}, got {outcome}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
