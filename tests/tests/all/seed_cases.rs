//! The seed table: decisions and issuances drawn from the four source
//! descriptions in `shared/seeds/`, each case naming the sentence it checks. Every
//! case is decided by the built policy component, through both the one-shot
//! `decide` and the compiled hot path, which must agree.

use tokenscope::grant_text::{print_all, print_nth};
use tokenscope::runtime::{Grants, PolicyInstance, Token, TokenStatus};
use tokenscope::verdict::Verdict;
use tokenscope_tests::modules::default_policy;
use tokenscope_tests::tokens::{request, resources, rights, scopes, token};

/// 2027-01-15, the "now" of every case unless a case says otherwise.
const NOW: u64 = 1_800_000_000;

enum Expect {
    /// Allowed, by the normalised grant printed so.
    Allow(&'static str),
    /// Denied with this code.
    Deny(&'static str),
}

struct Case {
    seed: &'static str,
    token: Token,
    action: &'static str,
    resource: &'static str,
    now: u64,
    expect: Expect,
}

fn res(seed: &'static str, grants: &[&str], owner: &[&str], action: &'static str, resource: &'static str) -> Case {
    let token = token(resources(grants).unwrap(), owner).unwrap();
    Case { seed, token, action, resource, now: NOW, expect: Expect::Deny("unset") }
}

fn sco(seed: &'static str, granted: &[&str], owner: &[&str], action: &'static str, resource: &'static str) -> Case {
    let token = token(scopes(granted), owner).unwrap();
    Case { seed, token, action, resource, now: NOW, expect: Expect::Deny("unset") }
}

impl Case {
    fn allow(mut self, grant: &'static str) -> Case {
        self.expect = Expect::Allow(grant);
        self
    }
    fn deny(mut self, code: &'static str) -> Case {
        self.expect = Expect::Deny(code);
        self
    }
    fn expires(mut self, at: u64) -> Case {
        self.token.expires_at = Some(at);
        self
    }
    fn revoked(mut self) -> Case {
        self.token.revoked = true;
        self
    }
    fn at(mut self, now: u64) -> Case {
        self.now = now;
        self
    }
}

const PSM_RESOURCE: &str = "psm: Resource tokens provide the token holder with read, write, or manage permissions for a specific set of channels.";
const PSM_SCOPE: &str = "psm: Scope tokens provide the token holder with a fine-grained set of custom user permissions";
const PSM_CHANNEL_EDIT: &str =
    "psm: if you provide the scope channel:edit, you are also providing manage level permissions over channels.";
const PSM_CREATE: &str = "psm: artifact:create — Write permissions to parent resource (channel or subchannel)";
const PSM_SUBCREATE: &str = "psm: subchannel:create — Manage permissions to parent channel";
const PSM_EXPIRY: &str = "psm: Set an expiration date for your token.";
const PSM_TREE: &str = "design §1: A grant on a node covers that node and everything below it (channel > subchannel).";
const VEN_SCOPE: &str = "venafi: certificate scope: certificate:approve,delete,discover,manage,revoke";
const VEN_READ: &str = "venafi: If the endpoint supplies read-only data, it may not have a restriction.";
const VEN_MANY: &str = "venafi: (Many scopes) Use a semi-colon (;)";
const VEN_RO: &str = "venafi: codesignclient / statistics — This is a read-only privilege.";
const VEN_ADMIN: &str = "venafi: admin … [Other] recyclebin";
const VEN_REVOKE: &str = "venafi: When your client completes its task, it can revoke its token.";
const CVE_VAULT: &str = "cvescan: Vault-Level Tokens — Scope: Access to all projects and components within a vault.";
const CVE_PROJECT: &str = "cvescan: Project-Level Tokens — Scope: Access to a specific project and all its components.";
const CVE_COMPONENT: &str = "cvescan: Component-Level Tokens — Scope: Access to a specific component only.";
const CVE_PERM: &str =
    "cvescan: Permission-Based Access: Fine-grained permissions control what actions tokens can perform.";
const CVE_EXPIRY: &str = "cvescan: Expiration Support: Optional expiration dates for enhanced security.";
const ACS_ESCALATION: &str = "acs: To prevent privilege escalation, when you create a new token, your role's permissions limit the permissions you can assign to that token.";
const ACS_EXPIRE: &str = "acs: API tokens expire one year from the creation date.";
const ALL_UNKNOWN: &str = "design §1: unknown actions are denied, never allowed by prefix accident";

const ROOT_ADMIN: &[&str] = &["/=manage"];

fn decision_cases() -> Vec<Case> {
    let main_docs = &["channel/main=write", "channel/docs=read"][..];
    let vault = &["vault/acme=create-scan"][..];
    let project = &["vault/acme/project/web=create-scan"][..];
    let component = &["vault/acme/project/web/component/api=create-scan"][..];
    let cert_all = &["certificate:approve,delete,discover,manage,revoke"][..];
    vec![
        // psm resource tokens
        res(PSM_RESOURCE, main_docs, ROOT_ADMIN, "artifact:download", "channel/main/artifact/numpy-1.26.tar.bz2")
            .allow("channel/main=write"),
        res(PSM_RESOURCE, main_docs, ROOT_ADMIN, "artifact:create", "channel/main/artifact/new.conda")
            .allow("channel/main=write"),
        res(PSM_RESOURCE, main_docs, ROOT_ADMIN, "artifact:download", "channel/docs").allow("channel/docs=read"),
        res(PSM_RESOURCE, main_docs, ROOT_ADMIN, "artifact:create", "channel/docs/artifact/x").deny("no-grant"),
        res(PSM_RESOURCE, main_docs, ROOT_ADMIN, "artifact:delete", "channel/main/artifact/x").deny("no-grant"),
        res(PSM_RESOURCE, main_docs, ROOT_ADMIN, "artifact:download", "channel/other").deny("no-grant"),
        res(PSM_RESOURCE, main_docs, ROOT_ADMIN, "channel:view", "channel/main").allow("channel/main=write"),
        res(PSM_RESOURCE, &["channel/main=manage"], ROOT_ADMIN, "channel:edit", "channel/main")
            .allow("channel/main=manage"),
        res(PSM_RESOURCE, &["channel/main=manage"], ROOT_ADMIN, "artifact:delete", "channel/main/artifact/x")
            .allow("channel/main=manage"),
        res(PSM_RESOURCE, &["channel/main=manage"], ROOT_ADMIN, "role:edit", "/").deny("no-grant"),
        res(
            PSM_RESOURCE,
            &["channel/main=write"],
            &["channel/main=read"],
            "artifact:create",
            "channel/main/artifact/x",
        )
        .deny("owner-lacks-right"),
        // the tree: channel > subchannel > artifact
        res(
            PSM_TREE,
            &["channel/main=read"],
            ROOT_ADMIN,
            "artifact:download",
            "channel/main/subchannel/nightly/artifact/x",
        )
        .allow("channel/main=read"),
        res(PSM_TREE, &["channel/main=read"], ROOT_ADMIN, "subchannel:view", "channel/main/subchannel/nightly")
            .allow("channel/main=read"),
        res(PSM_TREE, &["channel/main/subchannel/nightly=read"], ROOT_ADMIN, "channel:view", "channel/main")
            .deny("no-grant"),
        res(
            PSM_TREE,
            &["channel/main/subchannel/nightly=read"],
            ROOT_ADMIN,
            "artifact:download",
            "channel/main/artifact/x",
        )
        .deny("no-grant"),
        res(
            PSM_TREE,
            &["channel/main/subchannel/nightly=read"],
            ROOT_ADMIN,
            "artifact:download",
            "channel/main/subchannel/other",
        )
        .deny("no-grant"),
        res(PSM_TREE, &["channel/main=read"], ROOT_ADMIN, "artifact:download", "channel/mainline").deny("no-grant"),
        // psm scope tokens
        sco(PSM_SCOPE, &["artifact:download"], &["channel/main=read"], "artifact:download", "channel/main/artifact/x")
            .allow("artifact:download"),
        sco(PSM_SCOPE, &["artifact:download"], &["channel/main=read"], "artifact:view", "channel/main/artifact/x")
            .deny("no-grant"),
        sco(PSM_SCOPE, &["artifact:download"], &["channel/main=read"], "artifact:download", "channel/other/artifact/x")
            .deny("owner-lacks-right"),
        sco(PSM_SCOPE, &["artifact"], ROOT_ADMIN, "artifact:view", "channel/a").allow("artifact"),
        sco(PSM_SCOPE, &["artifact"], ROOT_ADMIN, "artifact:create", "channel/a").deny("no-grant"),
        sco(PSM_SCOPE, &["artifact:*"], ROOT_ADMIN, "artifact:edit", "channel/a/artifact/x")
            .allow("artifact:create,delete,download,edit,view"),
        sco(PSM_SCOPE, &["role:edit"], ROOT_ADMIN, "role:edit", "/").allow("role:edit"),
        sco(PSM_SCOPE, &["role:edit"], ROOT_ADMIN, "role:edit", "channel/main").deny("wrong-target"),
        sco(PSM_SCOPE, &["system.settings:edit"], ROOT_ADMIN, "system.settings:edit", "/")
            .allow("system.settings:edit"),
        sco(PSM_SCOPE, &["system:delete-blobs"], &["channel/main=manage"], "system:delete-blobs", "/")
            .deny("owner-lacks-right"),
        sco(PSM_SCOPE, &["user.token:view"], &["user/alice=manage"], "user.token:view", "user/alice")
            .allow("user.token:view"),
        sco(PSM_SCOPE, &["user.token:view"], &["user/alice=manage"], "user.token:view", "user/bob")
            .deny("owner-lacks-right"),
        sco(PSM_SCOPE, &["channel.mirror:edit"], ROOT_ADMIN, "channel.mirror:edit", "channel/main")
            .allow("channel.mirror:edit"),
        sco(PSM_SCOPE, &["subchannel.mirror:view"], ROOT_ADMIN, "subchannel.mirror:view", "channel/a/subchannel/b")
            .allow("subchannel.mirror:view"),
        // channel:edit means manage
        sco(PSM_CHANNEL_EDIT, &["channel:edit"], &["channel/main=manage"], "channel:edit", "channel/main")
            .allow("channel:edit"),
        sco(PSM_CHANNEL_EDIT, &["channel:edit"], &["channel/main=write"], "channel:edit", "channel/main")
            .deny("owner-lacks-right"),
        // parent-level actions
        sco(
            PSM_CREATE,
            &["artifact:create"],
            &["channel/main=write"],
            "artifact:create",
            "channel/main/artifact/x.conda",
        )
        .allow("artifact:create"),
        sco(
            PSM_CREATE,
            &["artifact:create"],
            &["channel/main=read"],
            "artifact:create",
            "channel/main/artifact/x.conda",
        )
        .deny("owner-lacks-right"),
        sco(
            PSM_CREATE,
            &["artifact:create"],
            &["channel/main/subchannel/dev=write"],
            "artifact:create",
            "channel/main/subchannel/dev/artifact/y",
        )
        .allow("artifact:create"),
        sco(
            PSM_SUBCREATE,
            &["subchannel:create"],
            &["channel/main=manage"],
            "subchannel:create",
            "channel/main/subchannel/new",
        )
        .allow("subchannel:create"),
        sco(
            PSM_SUBCREATE,
            &["subchannel:create"],
            &["channel/main/subchannel/new=manage"],
            "subchannel:create",
            "channel/main/subchannel/new",
        )
        .deny("owner-lacks-right"),
        res(
            PSM_SUBCREATE,
            &["channel/main/subchannel/new=manage"],
            ROOT_ADMIN,
            "subchannel:create",
            "channel/main/subchannel/new",
        )
        .deny("no-grant"),
        res(PSM_SUBCREATE, &["channel/main=manage"], ROOT_ADMIN, "subchannel:create", "channel/main/subchannel/new")
            .allow("channel/main=manage"),
        // expiry (psm, cvescan, acs)
        sco(PSM_EXPIRY, &["artifact"], ROOT_ADMIN, "artifact:view", "channel/a").expires(NOW + 1).allow("artifact"),
        sco(PSM_EXPIRY, &["artifact"], ROOT_ADMIN, "artifact:view", "channel/a").expires(NOW).deny("expired"),
        res(CVE_EXPIRY, vault, &["vault/acme=manage"], "create-scan", "vault/acme")
            .at(u64::MAX / 2)
            .allow("vault/acme=create-scan"),
        res(ACS_EXPIRE, vault, &["vault/acme=manage"], "create-scan", "vault/acme").expires(NOW - 1).deny("expired"),
        // venafi
        sco(VEN_SCOPE, cert_all, ROOT_ADMIN, "certificate:approve", "/")
            .allow("certificate:approve,delete,discover,manage,revoke"),
        sco(VEN_SCOPE, cert_all, ROOT_ADMIN, "certificate:revoke", "/")
            .allow("certificate:approve,delete,discover,manage,revoke"),
        sco(VEN_SCOPE, cert_all, ROOT_ADMIN, "certificate", "/")
            .allow("certificate:approve,delete,discover,manage,revoke"),
        sco(VEN_SCOPE, &["certificate:approve"], ROOT_ADMIN, "certificate:delete", "/").deny("no-grant"),
        sco(VEN_SCOPE, &["codesign:approve,delete,manage"], ROOT_ADMIN, "codesign:manage", "/")
            .allow("codesign:approve,delete,manage"),
        sco(VEN_SCOPE, &["ssh:approve,delete,discover,manage"], ROOT_ADMIN, "ssh:discover", "/")
            .allow("ssh:approve,delete,discover,manage"),
        sco(VEN_SCOPE, &["configuration:delete,manage"], ROOT_ADMIN, "configuration:manage", "/")
            .allow("configuration:delete,manage"),
        sco(VEN_SCOPE, &["restricted:delete,manage"], ROOT_ADMIN, "restricted:delete", "/")
            .allow("restricted:delete,manage"),
        sco(VEN_SCOPE, &["security:delete,manage"], ROOT_ADMIN, "security:delete", "/").allow("security:delete,manage"),
        sco(VEN_READ, &["certificate"], ROOT_ADMIN, "certificate", "/").allow("certificate"),
        sco(VEN_READ, &["certificate"], ROOT_ADMIN, "certificate:approve", "/").deny("no-grant"),
        sco(VEN_READ, &["ssh"], &["/=read"], "ssh", "/").allow("ssh"),
        sco(VEN_READ, &["certificate:manage"], &["/=write"], "certificate:manage", "/").deny("owner-lacks-right"),
        sco(VEN_MANY, &["certificate:approve,delete;configuration"], ROOT_ADMIN, "configuration", "/")
            .allow("configuration"),
        sco(VEN_MANY, &["certificate:approve,delete;configuration"], ROOT_ADMIN, "certificate:delete", "/")
            .allow("certificate:approve,delete"),
        sco(VEN_MANY, &["certificate:approve,delete;configuration"], ROOT_ADMIN, "configuration:manage", "/")
            .deny("no-grant"),
        sco(VEN_MANY, &["certificate:approve;ssh:discover"], ROOT_ADMIN, "codesign:approve", "/").deny("no-grant"),
        sco(VEN_RO, &["codesignclient"], ROOT_ADMIN, "codesignclient", "/").allow("codesignclient"),
        sco(VEN_RO, &["statistics"], &["/=read"], "statistics", "/").allow("statistics"),
        sco(VEN_RO, &["codesignclient;statistics"], ROOT_ADMIN, "codesign", "/").deny("no-grant"),
        sco(VEN_ADMIN, &["admin:recyclebin"], ROOT_ADMIN, "admin:recyclebin", "/").allow("admin:recyclebin"),
        sco(VEN_ADMIN, &["admin"], ROOT_ADMIN, "admin:recyclebin", "/").deny("no-grant"),
        sco(VEN_ADMIN, &["agent"], ROOT_ADMIN, "agent", "/").allow("agent"),
        sco(VEN_REVOKE, &["certificate"], ROOT_ADMIN, "certificate", "/").revoked().deny("revoked"),
        sco(VEN_REVOKE, &["certificate"], ROOT_ADMIN, "certificate", "/").revoked().expires(NOW - 10).deny("revoked"),
        // cvescan
        res(CVE_VAULT, vault, &["vault/acme=manage"], "create-scan", "vault/acme").allow("vault/acme=create-scan"),
        res(CVE_VAULT, vault, &["vault/acme=manage"], "create-scan", "vault/acme/project/web")
            .allow("vault/acme=create-scan"),
        res(CVE_VAULT, vault, &["vault/acme=manage"], "create-scan", "vault/acme/project/web/component/api")
            .allow("vault/acme=create-scan"),
        res(CVE_VAULT, vault, &["vault/acme=manage"], "create-scan", "vault/globex").deny("no-grant"),
        res(CVE_PROJECT, project, &["vault/acme=manage"], "create-scan", "vault/acme/project/web/component/db")
            .allow("vault/acme/project/web=create-scan"),
        res(CVE_PROJECT, project, &["vault/acme=manage"], "create-scan", "vault/acme/project/mobile").deny("no-grant"),
        res(CVE_PROJECT, project, &["vault/acme=manage"], "create-scan", "vault/acme").deny("no-grant"),
        res(CVE_COMPONENT, component, &["vault/acme=manage"], "create-scan", "vault/acme/project/web/component/api")
            .allow("vault/acme/project/web/component/api=create-scan"),
        res(CVE_COMPONENT, component, &["vault/acme=manage"], "create-scan", "vault/acme/project/web/component/db")
            .deny("no-grant"),
        res(CVE_COMPONENT, component, &["vault/acme=manage"], "create-scan", "vault/acme/project/web").deny("no-grant"),
        res(CVE_PERM, &["vault/acme=read"], &["vault/acme=manage"], "create-scan", "vault/acme").deny("no-grant"),
        res(CVE_PERM, &["vault/acme=write"], &["vault/acme=manage"], "create-scan", "vault/acme")
            .allow("vault/acme=write"),
        res(CVE_PERM, vault, &["vault/acme=manage"], "create-scan", "channel/main").deny("wrong-target"),
        res(CVE_PERM, vault, &["vault/acme=manage"], "artifact:download", "vault/acme").deny("wrong-target"),
        // acs: the owner's current rights bound every decision
        res(ACS_ESCALATION, vault, &["vault/acme/project/web=manage"], "create-scan", "vault/acme/project/mobile")
            .deny("owner-lacks-right"),
        res(ACS_ESCALATION, vault, &[], "create-scan", "vault/acme").deny("owner-lacks-right"),
        sco(ACS_ESCALATION, &["role:edit"], &["/=write"], "role:edit", "/").deny("owner-lacks-right"),
        sco(ACS_ESCALATION, &["role"], &["/=role:view"], "role:view", "/").allow("role"),
        // everyone: exact actions only
        sco(ALL_UNKNOWN, &["channel:view"], ROOT_ADMIN, "channel:view-artifacts", "channel/main").deny("no-grant"),
        sco(ALL_UNKNOWN, &["channel:view-artifacts"], ROOT_ADMIN, "channel:view", "channel/main").deny("no-grant"),
        sco(ALL_UNKNOWN, &["channel:view"], ROOT_ADMIN, "channel:vie", "channel/main").deny("unknown-action"),
        sco(ALL_UNKNOWN, &["channel:view"], ROOT_ADMIN, "channel:view-everything", "channel/main")
            .deny("unknown-action"),
        sco(ALL_UNKNOWN, &["channel:view"], ROOT_ADMIN, "CHANNEL:VIEW", "channel/main").deny("unknown-action"),
        res(ALL_UNKNOWN, &["/=manage"], ROOT_ADMIN, "delete-everything", "/").deny("unknown-action"),
        res(ALL_UNKNOWN, &["/=manage"], ROOT_ADMIN, "channel:view", "channel/../secret").deny("malformed-request"),
    ]
}

fn check(instance: &mut PolicyInstance, case: &Case) -> Result<(), String> {
    let req = request(case.action, case.resource, case.now);
    let oneshot = instance.decide(&case.token, &req);
    let shown = |v: &Verdict| match v {
        Verdict::Allow { grant } => format!("allow #{grant}"),
        Verdict::Deny { code, message } => format!("deny {} ({message})", code.as_str()),
    };
    let got = match (&case.expect, &oneshot) {
        (Expect::Allow(want), Verdict::Allow { grant }) => {
            let compiled = instance.compile(&case.token.grants).unwrap().unwrap();
            let text = print_nth(&instance.normalized(&compiled).unwrap(), *grant).unwrap_or_default();
            if &text != want {
                return Err(format!("allowed by `{text}`, expected `{want}`"));
            }
            Ok(())
        }
        (Expect::Deny(want), Verdict::Deny { code, .. }) if code.as_str() == *want => Ok(()),
        (Expect::Allow(want), other) => Err(format!("expected allow by `{want}`, got {}", shown(other))),
        (Expect::Deny(want), other) => Err(format!("expected deny {want}, got {}", shown(other))),
    };
    got?;
    // The hot path must agree with the one-shot path.
    let Ok(Ok(token)) = instance.compile(&case.token.grants) else {
        return match oneshot {
            Verdict::Deny { .. } => Ok(()),
            Verdict::Allow { .. } => Err("allowed, but its grants do not compile".into()),
        };
    };
    let owner = instance.compile(&Grants::Resources(case.token.owner_rights.clone())).unwrap().unwrap();
    let module = default_policy().unwrap();
    let status = TokenStatus { expires_at: case.token.expires_at, revoked: case.token.revoked };
    if let Some(action) = module.action_id(case.action) {
        let hot = instance.decide_compiled(&token, &owner, status, action, case.resource, case.now);
        if hot.code_str() != oneshot.code_str() || hot.is_allow() != oneshot.is_allow() {
            return Err(format!("hot path says {}, one-shot says {}", shown(&hot), shown(&oneshot)));
        }
    }
    instance.release(token).unwrap();
    instance.release(owner).unwrap();
    Ok(())
}

#[test]
fn seed_decision_table_is_decided_right_by_the_component() {
    let cases = decision_cases();
    assert!(cases.len() >= 60, "the table must keep at least 60 cases, has {}", cases.len());
    let mut instance = default_policy().unwrap().instantiate();
    let failures: Vec<String> = cases
        .iter()
        .enumerate()
        .filter_map(|(i, case)| {
            check(&mut instance, case)
                .err()
                .map(|e| format!("case {i} [{}] {} on {}: {e}", case.seed, case.action, case.resource))
        })
        .collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

enum Issued {
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

fn issuance_cases() -> Vec<(&'static str, &'static [&'static str], Grants, Issued)> {
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
        let result = instance.check_grants(&rights(creator).unwrap(), &requested).unwrap();
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
