//! The real `tokenscope` binary: `check` from flags and from TOML/JSON files
//! with exit codes 0/1/2, `catalog`, and `policy inspect`.

use std::process::Output;

use serde_json::Value;
use tokenscope_tests::binary::tokenscope;
use tokenscope_tests::modules::HOSTILE;

fn run(args: &[&str]) -> Output {
    tokenscope().unwrap().args(args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn check_allows_with_exit_0_and_names_the_grant() {
    let out = run(&[
        "check",
        "--grant",
        "channel/main=write",
        "--owner-right",
        "/=manage",
        "--action",
        "artifact:create",
        "--resource",
        "channel/main/artifact/pkg-1.0.conda",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("allow: `artifact:create` on `channel/main/artifact/pkg-1.0.conda`"), "{text}");
    assert!(text.contains("grant:  channel/main=write"), "{text}");
    assert!(text.contains("policy: tokenscope-default"), "{text}");
}

#[test]
fn check_denies_with_exit_1_and_json_reason() {
    let out = run(&[
        "check",
        "--scope",
        "channel:view",
        "--owner-right",
        "/=manage",
        "--action",
        "channel:view-artifacts",
        "--resource",
        "channel/main",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["decision"], "deny");
    assert_eq!(json["code"], "no-grant");
    assert_eq!(json["policy"]["name"], "tokenscope-default");
    assert_eq!(json["policy"]["sha256"].as_str().map(str::len), Some(64));
}

#[test]
fn check_reads_toml_and_json_files() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("expired.toml");
    std::fs::write(
        &toml,
        "[token]\nscopes = [\"certificate:approve\"]\nowner_rights = [\"/=manage\"]\nexpires_at = \"2026-01-01\"\n\n\
         [request]\naction = \"certificate:approve\"\nnow = \"2026-06-01T00:00:00Z\"\n",
    )
    .unwrap();
    let out = run(&["check", "--file", toml.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("deny (expired)"), "{}", stdout(&out));
    // The same file with --now before the expiry is allowed.
    let out = run(&["check", "--file", toml.to_str().unwrap(), "--now", "2025-12-31"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    let json = dir.path().join("scan.json");
    std::fs::write(
        &json,
        r#"{"token": {"grants": ["vault/acme/project/web/component/api=create-scan"], "owner_rights": ["vault/acme=manage"]},
            "request": {"action": "create-scan", "resource": "vault/acme/project/web/component/db"}}"#,
    )
    .unwrap();
    let out = run(&["check", "--file", json.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["code"], "no-grant");
}

#[test]
fn usage_errors_exit_2_with_a_reason() {
    let out = run(&["check", "--scope", "artifact", "--grant", "channel/a=read", "--action", "artifact:view"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("never both"), "{}", stderr(&out));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[token]\nscopez = []\n").unwrap();
    let out = run(&["check", "--file", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("bad.toml"), "{}", stderr(&out));
}

#[test]
fn bad_policy_file_is_a_clear_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("policy.wasm");
    std::fs::write(&bad, b"\0asm\x0d\0\x01\0garbage").unwrap();
    let out = run(&["catalog", "--policy", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.starts_with("tokenscope: policy module `") && err.contains("policy.wasm"), "{err}");
}

#[test]
fn check_with_an_unusable_policy_is_a_policy_fault_deny_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken-policy.wasm");
    std::fs::write(&bad, b"not wasm at all").unwrap();
    let out = run(&[
        "check",
        "--policy",
        bad.to_str().unwrap(),
        "--scope",
        "artifact",
        "--action",
        "artifact:view",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["decision"], "deny");
    assert_eq!(report["code"], "policy-fault");
    assert!(report["message"].as_str().unwrap().contains("broken-policy.wasm"), "{report}");
}

#[test]
fn hostile_policy_through_the_binary_is_a_policy_fault_deny() {
    let out = run(&[
        "check",
        "--policy",
        HOSTILE,
        "--scope",
        "artifact",
        "--owner-right",
        "/=manage",
        "--action",
        "artifact:view",
        "--resource",
        "channel/hostile-loop",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["decision"], "deny");
    assert_eq!(report["code"], "policy-fault");
}

#[test]
fn catalog_lists_every_action_as_table_and_json() {
    let out = run(&["catalog", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let entries: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(entries.len(), 74);
    let scan = entries.iter().find(|e| e["action"] == "create-scan").unwrap();
    assert_eq!(scan["level"], "write");
    assert_eq!(scan["targets"], serde_json::json!(["vault", "project", "component"]));
    let out = run(&["catalog"]);
    let table = stdout(&out);
    assert!(table.starts_with("ACTION"), "{table}");
    assert!(table.contains("subchannel:create") && table.contains("parent of subchannel"), "{table}");
}

#[test]
fn policy_inspect_shows_digest_imports_and_exports() {
    let out = run(&["policy", "inspect", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["usable"], true);
    assert_eq!(report["imports"], serde_json::json!([]));
    assert_eq!(report["exports"][0]["name"], "tokenscope:policy/evaluator@0.3.0");
    assert_eq!(report["catalog_actions"], 74);
    let out = run(&["policy", "inspect", HOSTILE]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("name:        tokenscope-hostile"), "{}", stdout(&out));
}
