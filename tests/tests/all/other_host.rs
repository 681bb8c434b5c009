//! The default `policy.wasm` runs unchanged in other component hosts, which
//! must decide exactly as this one: jco transpiles it for Node (every vector of
//! the default policy, one-shot and compiled paths), and the wasmtime CLI calls
//! its one-shot exports with `run --invoke` (every vector through `decide`, the
//! issuance table through `check-grants`), reading and printing WAVE.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use tokenscope::contract::{Access, Grants, Level, ResourceGrant};
use tokenscope::runtime::{DEFAULT_POLICY, Evaluator};
use tokenscope::vectors::{Vectors, decide_case};
use tokenscope::verdict::Verdict;
use tokenscope_tests::modules::default_policy;

fn grant_json(grant: &ResourceGrant) -> Value {
    let access = match &grant.access {
        Access::Level(level) => {
            let level = match level {
                Level::Read => "read",
                Level::Write => "write",
                Level::Manage => "manage",
            };
            json!({"tag": "level", "val": level})
        }
        Access::Actions(actions) => json!({"tag": "actions", "val": actions}),
    };
    json!({"resource": grant.resource, "access": access})
}

fn grants_json(grants: &Grants) -> Value {
    match grants {
        Grants::Resources(list) => json!({"tag": "resources", "val": list.iter().map(grant_json).collect::<Vec<_>>()}),
        Grants::Scopes(list) => json!({"tag": "scopes", "val": list}),
    }
}

fn shown(verdict: &Verdict) -> Value {
    match verdict {
        Verdict::Allow { grant } => json!({"decision": "allow", "grant": grant}),
        Verdict::Deny { code, .. } => json!({"decision": "deny", "code": code.as_str()}),
    }
}

#[test]
fn jco_under_node_decides_the_vectors_like_this_host() {
    let dir = tempfile::tempdir().unwrap();
    let component = dir.path().join("policy.wasm");
    std::fs::write(&component, DEFAULT_POLICY).unwrap();
    let js = tokenscope_tests::jco::transpile(&component, &dir.path().join("out")).unwrap();

    let module = default_policy().unwrap();
    let vectors = Vectors::from_toml(module.vectors().unwrap()).unwrap();
    let now = vectors.default_now(0);
    let mut evaluator = Evaluator::new(&module);
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for (i, case) in vectors.cases.iter().enumerate() {
        let (token, request) = (case.token.to_token().unwrap(), case.request.to_request(now).unwrap());
        let decided = decide_case(
            &module,
            &mut evaluator,
            tokenscope::store::TokenId::new(i64::try_from(i).unwrap()),
            &token,
            &request,
        );
        ours.push(shown(&decided.verdict));
        cases.push(json!({
            "token": {"grants": grants_json(&token.grants),
                      "ownerRights": token.owner_rights.iter().map(grant_json).collect::<Vec<_>>(),
                      "expiresAt": token.expires_at, "revoked": token.revoked},
            "request": {"action": request.action, "resource": request.resource, "now": request.now},
        }));
    }

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/jco/decide.mjs");
    let mut node = Command::new("node")
        .arg(script)
        .arg(&js)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs");
    node.stdin.take().unwrap().write_all(serde_json::to_string(&cases).unwrap().as_bytes()).unwrap();
    let out = node.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0], json!({"module": "tokenscope-default 0.1.0", "actions": module.catalog().len()}));
    let theirs = &lines[1..];
    assert_eq!(theirs.len(), vectors.cases.len());
    let mut differ = Vec::new();
    for ((case, ours), theirs) in vectors.cases.iter().zip(&ours).zip(theirs) {
        for path in ["oneshot", "compiled"] {
            if &theirs[path] != ours {
                differ.push(format!("{} ({path}): this host {ours}, jco {}", case.label(), theirs[path]));
            }
        }
    }
    assert!(differ.is_empty(), "{} of {} decisions differ:\n{}", differ.len(), 2 * ours.len(), differ.join("\n"));
    let allowed = ours.iter().filter(|v| v["decision"] == "allow").count();
    assert!(allowed > 20 && allowed < ours.len() - 20, "a table of allows and denies: {allowed} allowed");
}

#[test]
fn the_wasmtime_cli_decides_every_vector_and_issuance_like_this_host() {
    use tokenscope_tests::wasmtime_cli::invoke;
    use tokenscope_tests::wave::{self, Printed};

    let dir = tempfile::tempdir().unwrap();
    let component = dir.path().join("policy.wasm");
    std::fs::write(&component, DEFAULT_POLICY).unwrap();
    assert!(invoke(&component, "info()").unwrap().starts_with("{name: \"tokenscope-default\", version: \"0.1.0\""));

    let module = default_policy().unwrap();
    let vectors = Vectors::from_toml(module.vectors().unwrap()).unwrap();
    let now = vectors.default_now(0);
    let mut instance = module.instantiate();
    // Each call is one `wasmtime` process; four at a time.
    let mut calls: Vec<(String, String, Printed)> = vectors
        .cases
        .iter()
        .map(|case| {
            let (token, request) = (case.token.to_token().unwrap(), case.request.to_request(now).unwrap());
            let ours = match instance.decide(&token, &request) {
                Verdict::Allow { grant } => Printed::Allow(grant),
                Verdict::Deny { code, message } => {
                    Printed::Refused { code: code.as_str().to_owned(), message: message.to_string() }
                }
            };
            (case.label(), format!("decide({}, {})", wave::token(&token), wave::request(&request)), ours)
        })
        .collect();
    calls.extend(super::seed_cases::issuance_cases().into_iter().enumerate().map(
        |(i, (seed, creator, requested, _))| {
            let creator = tokenscope_tests::tokens::rights(creator).unwrap();
            let ours = match instance.check_grants(&creator, &requested, None).unwrap() {
                Ok(grants) => Printed::Ok(wave::grants(&grants).replace("%resource:", "resource:")),
                Err(denial) => Printed::Refused {
                    code: tokenscope::verdict::Code::Policy(denial.code).as_str().to_owned(),
                    message: denial.message,
                },
            };
            let call = format!("check-grants({}, {}, none)", wave::rights(&creator), wave::grants(&requested));
            (format!("issuance {i} [{seed}]"), call, ours)
        },
    ));
    let theirs: Vec<Printed> = std::thread::scope(|scope| {
        let chunks: Vec<_> = calls
            .chunks(calls.len().div_ceil(4))
            .map(|chunk| {
                scope.spawn(|| {
                    chunk
                        .iter()
                        .map(|(_, call, _)| wave::printed(&invoke(&component, call).unwrap()).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        chunks.into_iter().flat_map(|chunk| chunk.join().unwrap()).collect()
    });
    assert_eq!(theirs.len(), calls.len());
    let differ: Vec<String> = calls
        .iter()
        .zip(&theirs)
        .filter(|((_, _, ours), theirs)| ours != *theirs)
        .map(|((label, call, ours), theirs)| format!("{label}: this host {ours:?}, wasmtime {theirs:?}\n  {call}"))
        .collect();
    assert!(differ.is_empty(), "{} of {} calls differ:\n{}", differ.len(), calls.len(), differ.join("\n"));
    let allowed = theirs.iter().filter(|p| matches!(p, Printed::Allow(_))).count();
    let issued = theirs.iter().filter(|p| matches!(p, Printed::Ok(_))).count();
    assert!(allowed > 20 && issued > 3, "a table of allows and denies: {allowed} allowed, {issued} issued");
}
