//! The HTTP API against its own OpenAPI document: schemathesis runs every phase
//! (examples, coverage, fuzzing, stateful) and every check against a real
//! `tokenscope serve` with a real token on a real SQLite store. No 5xx, every
//! answer as documented. `TOKENSCOPE_SCHEMATHESIS_EXAMPLES` sets the examples per
//! operation (default 50; RELIABILITY.md records a long run).

use serde_json::Value;
use tokenscope_tests::schemathesis::schemathesis;
use tokenscope_tests::server::Server;

/// What the run may not check, each refused by design (RELIABILITY.md says why):
/// - the check endpoint answers 400 to schema-valid requests that are not
///   canonical (dot segments, mixed conventions) and takes any method (Envoy
///   sends the original one);
/// - token bodies and modules have grammars a JSON Schema cannot state (grant
///   text, catalog scopes, times, a wasm component): 422 names what is wrong.
const CONFIG: &str = r#"
[auth.openapi.bearer]
bearer = "${TOKENSCOPE_FUZZ_TOKEN}"

[[operations]]
include-path-regex = "^/v1/check"
checks.positive_data_acceptance.enabled = false
checks.unsupported_method.enabled = false

[[operations]]
include-path-regex = "^/api/(account/tokens|system/policy$|principals)"
checks.positive_data_acceptance.expected-statuses = ["2xx", 401, 403, 404, 409, 422, 429]
"#;

/// The run must not revoke or delete the token it authenticates with (a caller
/// may, and the stateful phase finds its id in the token list), nor remove or
/// unbind the principal that owns it, or every later request is a 401 and
/// tests nothing.
const HOOKS: &str = r#"
import os
import schemathesis

CALLER = os.environ["TOKENSCOPE_FUZZ_TOKEN_ID"]

@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if case.path_parameters and str(case.path_parameters.get("id")) == CALLER:
        case.path_parameters["id"] = 0
    if case.path_parameters and case.path_parameters.get("name") == "fuzz" and not case.path.endswith("/tokens"):
        case.path_parameters["name"] = "someone-else"
"#;

#[test]
fn the_api_answers_as_its_openapi_document_says() {
    let bin = schemathesis().unwrap();
    let server = Server::start("[check]\nconvention = \"nginx\"\n[roles.reader]\naccess = \"read\"\n").unwrap();
    let out = server.cli().args(["principal", "add", "fuzz", "--grant", "/=manage"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = server
        .cli()
        .args(["token", "create", "--owner", "fuzz", "--name", "fuzz", "--resource", "/=manage", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (secret, id) = (token["secret"].as_str().unwrap().to_owned(), token["id"].to_string());

    let dir = server.dir.path();
    std::fs::write(dir.join("schemathesis.toml"), CONFIG).unwrap();
    std::fs::write(dir.join("tokenscope_hooks.py"), HOOKS).unwrap();
    let examples = std::env::var("TOKENSCOPE_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "50".to_owned());
    let run = std::process::Command::new(&bin)
        .arg("--config-file")
        .arg(dir.join("schemathesis.toml"))
        .arg("run")
        .arg(server.url("/api/openapi.json"))
        .args(["--max-examples", &examples, "--workers", "1", "--seed", "20261123", "--continue-on-failure"])
        .current_dir(dir)
        .env("PYTHONPATH", dir)
        .env("SCHEMATHESIS_HOOKS", "tokenscope_hooks")
        .env("TOKENSCOPE_FUZZ_TOKEN", &secret)
        .env("TOKENSCOPE_FUZZ_TOKEN_ID", &id)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "schemathesis found failures:\n{report}\n{}", String::from_utf8_lossy(&run.stderr));
    assert!(!report.contains("Authentication failed"), "the run lost its token:\n{report}");
    eprintln!(
        "{}",
        report.lines().filter(|l| l.contains("generated") || l.contains("passed")).collect::<Vec<_>>().join("\n")
    );

    let log = server.log();
    assert!(!log.contains("panicked"), "{log}");
    assert!(!log.contains(&secret), "the token's secret is in the log");
    let still =
        ureq::get(&server.url("/api/account/tokens")).header("authorization", &format!("Bearer {secret}")).call();
    assert_eq!(still.map(|r| r.status().as_u16()).ok(), Some(200), "the run's token was revoked or deleted");
}
