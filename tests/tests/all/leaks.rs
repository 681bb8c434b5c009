//! Leaked secrets are found by the scanners people already run, with the rules
//! `tokenscope leaks rules` prints (the real secretlint from npm and the real
//! detect-secrets from PyPI), and by `tokenscope leaks scan` over files, folders
//! and git history: each reports exactly the well-formed secrets planted in a
//! fixture tree, never a lookalike, a broken checksum or a binary file's bytes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tokenscope::secret::Secret;
use tokenscope_tests::binary::tokenscope;
use tokenscope_tests::scanners::{detect_secrets, secretlint_home};
use tokenscope_tests::server::Server;

/// A fixture tree with two secrets planted where they would leak, and what only
/// looks like one: the planted secrets by (file, line).
struct Fixture {
    dir: tempfile::TempDir,
    planted: BTreeSet<(String, u64, String)>,
}

fn broken_checksum(secret: &str) -> String {
    let mut text = secret.to_owned();
    let last = if text.ends_with('0') { "1" } else { "0" };
    text.replace_range(text.len() - 1.., last);
    text
}

fn fixture(live: &[String]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let [first, second] = live else { panic!("two secrets") };
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    write(
        "deploy/app.env",
        format!("# the deploy's settings\nAPI_URL=https://example.test\nAPI_TOKEN={first}\n").as_bytes(),
    );
    write(
        "src/client.py",
        format!("import os\n\n\ndef client():\n    return Client(token=\"{second}\")  # TODO: remove\n").as_bytes(),
    );
    let other = Secret::generate().unwrap();
    let other = other.expose();
    write(
        "docs/tokens.md",
        format!(
            "Tokens start with tks_ followed by base62; see tks_docs.\n\
             A mistyped one: {broken}\n\
             A truncated one: {truncated}\n\
             Glued to a word: x{other} and {other}_v2\n\
             Too long: {other}AB\n",
            broken = broken_checksum(first),
            truncated = &second[..second.len() - 3],
        )
        .as_bytes(),
    );
    let mut blob = vec![0u8, 159, 146, 150, 0, 1, 2];
    blob.extend_from_slice(other.as_bytes());
    blob.extend_from_slice(&[0, 0, 255]);
    write("assets/logo.bin", &blob);
    let planted = BTreeSet::from([
        ("deploy/app.env".to_owned(), 3, first.clone()),
        ("src/client.py".to_owned(), 5, second.clone()),
    ]);
    Fixture { dir, planted }
}

fn relative(dir: &Path, path: &str) -> String {
    let path = PathBuf::from(path);
    path.strip_prefix(dir).map(|p| p.to_path_buf()).unwrap_or(path).display().to_string()
}

fn rule_files(format: &str, out: &Path) {
    let done = tokenscope().unwrap().args(["leaks", "rules", "--format", format, "--out"]).arg(out).output().unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
}

fn secrets() -> Vec<String> {
    (0..2).map(|_| Secret::generate().unwrap().expose().to_owned()).collect()
}

#[test]
fn secretlint_with_the_printed_rule_reports_exactly_the_planted_secrets() {
    let fixture = fixture(&secrets());
    let home = secretlint_home().unwrap();
    let package = home.join("node_modules").join(tokenscope::leaks::SECRETLINT_PACKAGE);
    rule_files("secretlint", &package);
    let config = fixture.dir.path().join(".secretlintrc.json");
    std::fs::write(&config, format!("{{\"rules\": [{{\"id\": \"{}\"}}]}}", tokenscope::leaks::SECRETLINT_PACKAGE))
        .unwrap();
    let out = Command::new(home.join("node_modules/.bin/secretlint"))
        .current_dir(fixture.dir.path())
        .env("NODE_PATH", home.join("node_modules"))
        .args(["**/*", "--format", "json", "--secretlintrc"])
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "secretlint found nothing: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Value = serde_json::from_str(&stdout).unwrap();
    let mut found = BTreeSet::new();
    for file in results.as_array().unwrap() {
        let path = relative(fixture.dir.path(), file["filePath"].as_str().unwrap());
        let messages = file["messages"].as_array().unwrap();
        if messages.is_empty() {
            continue;
        }
        // The ranges are in the text secretlint read (the planted files are ASCII).
        let text = std::fs::read_to_string(fixture.dir.path().join(&path)).unwrap();
        for message in messages {
            assert_eq!(message["ruleId"].as_str(), Some(tokenscope::leaks::SECRETLINT_PACKAGE), "{message}");
            let [start, end] = [0, 1].map(|i| message["range"][i].as_u64().unwrap() as usize);
            found.insert((
                path.clone(),
                message["loc"]["start"]["line"].as_u64().unwrap(),
                text[start..end].to_owned(),
            ));
        }
    }
    assert_eq!(found, fixture.planted);
}

#[test]
fn detect_secrets_with_the_printed_plugin_reports_exactly_the_planted_secrets() {
    let fixture = fixture(&secrets());
    let plugin_dir = tempfile::tempdir().unwrap();
    rule_files("detect-secrets", plugin_dir.path());
    let out = Command::new(detect_secrets().unwrap())
        .current_dir(fixture.dir.path())
        .args(["scan", "--all-files", "--plugin"])
        .arg(plugin_dir.path().join("tokenscope_detector.py"))
        .arg(".")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let baseline: Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_sha1: std::collections::HashMap<String, String> =
        fixture.planted.iter().map(|(_, _, secret)| (sha1_hex(secret), secret.clone())).collect();
    let mut found = BTreeSet::new();
    for (path, secrets) in baseline["results"].as_object().unwrap() {
        for secret in secrets.as_array().unwrap() {
            if secret["type"].as_str() != Some("tokenscope access token") {
                continue;
            }
            let hashed = secret["hashed_secret"].as_str().unwrap();
            let text = by_sha1.get(hashed).unwrap_or_else(|| panic!("a secret that was not planted: {secret}"));
            found.insert((path.clone(), secret["line_number"].as_u64().unwrap(), text.clone()));
        }
    }
    assert_eq!(found, fixture.planted);
}

/// detect-secrets names a secret by its SHA-1 (computed here with python3's hashlib, as it does).
fn sha1_hex(text: &str) -> String {
    let out = Command::new("python3")
        .args(["-c", "import hashlib,sys; print(hashlib.sha1(sys.argv[1].encode()).hexdigest())", text])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn the_gitleaks_and_regex_rules_say_the_shape() {
    // No gitleaks binary can be had here: its config is checked for syntax and shape only.
    let dir = tempfile::tempdir().unwrap();
    rule_files("gitleaks", dir.path());
    let config: toml::Value =
        toml::from_str(&std::fs::read_to_string(dir.path().join("gitleaks.toml")).unwrap()).unwrap();
    let rule = &config["rules"][0];
    assert_eq!(rule["id"].as_str(), Some("tokenscope-access-token"));
    assert_eq!(rule["keywords"][0].as_str(), Some("tks_"));
    let regex = rule["regex"].as_str().unwrap();
    let printed = tokenscope().unwrap().args(["leaks", "rules", "--format", "regex"]).output().unwrap();
    assert_eq!(String::from_utf8(printed.stdout).unwrap().trim(), regex);
    // The shape alone: every planted secret matches it, as do lookalikes with a broken checksum.
    let fixture = fixture(&secrets());
    let grep = |pattern: &str, text: &str| {
        Command::new("grep").args(["-P", "-c", pattern]).stdin(std::process::Stdio::piped()).output_with(text)
    };
    for (_, _, secret) in &fixture.planted {
        assert_eq!(grep(regex, secret), "1");
        assert_eq!(grep(regex, &broken_checksum(secret)), "1");
        assert_eq!(grep(regex, &format!("x{secret}")), "0");
        assert_eq!(grep(regex, &secret[..secret.len() - 1]), "0");
    }
}

trait OutputWith {
    fn output_with(&mut self, stdin: &str) -> String;
}

impl OutputWith for Command {
    fn output_with(&mut self, stdin: &str) -> String {
        use std::io::Write;
        let mut child = self.stdout(std::process::Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap().trim().to_owned()
    }
}

fn scan(args: &[&str], dir: &Path) -> Output {
    tokenscope().unwrap().current_dir(dir).args(["leaks", "scan"]).args(args).output().unwrap()
}

fn findings(out: &Output) -> Vec<Value> {
    let doc: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stdout)));
    doc["findings"].as_array().unwrap().clone()
}

#[test]
fn leaks_scan_finds_exactly_the_planted_secrets_in_files_and_in_history() {
    let live = secrets();
    let fixture = fixture(&live);
    let dir = fixture.dir.path();
    let out = scan(&["--json", "."], dir);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let found: BTreeSet<(String, u64, String)> = findings(&out)
        .iter()
        .map(|f| {
            let path = f["path"].as_str().unwrap().trim_start_matches("./").to_owned();
            (path, f["line"].as_u64().unwrap(), f["hint"].as_str().unwrap().to_owned())
        })
        .collect();
    let expected: BTreeSet<_> =
        fixture.planted.iter().map(|(p, l, s)| (p.clone(), *l, Secret::parse(s).unwrap().hint())).collect();
    assert_eq!(found, expected);
    let text = scan(&["."], dir);
    let shown = String::from_utf8_lossy(&text.stdout);
    for secret in &live {
        assert!(!shown.contains(secret.as_str()) && !String::from_utf8_lossy(&text.stderr).contains(secret.as_str()));
        assert!(!String::from_utf8_lossy(&out.stdout).contains(secret.as_str()), "the secret is never printed");
    }
    assert!(shown.contains("deploy/app.env:3: tks_"), "{shown}");
    // Binary files are skipped unless asked for.
    let with_binary = findings(&scan(&["--json", "--binary", "."], dir));
    assert_eq!(with_binary.len(), 3);
    assert!(with_binary.iter().any(|f| f["path"].as_str().unwrap().ends_with("assets/logo.bin")));

    // Nothing found: 0; a path that is not there: 2.
    let clean = tempfile::tempdir().unwrap();
    std::fs::write(clean.path().join("README"), "tks_ is our prefix\n").unwrap();
    assert_eq!(scan(&["."], clean.path()).status.code(), Some(0));
    assert_eq!(scan(&["no/such/path"], clean.path()).status.code(), Some(2));

    // History: a secret committed and then removed is still found, with its commit.
    let git = |args: &[&str]| {
        let done = Command::new("git")
            .current_dir(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.test"])
            .args(args)
            .output()
            .unwrap();
        assert!(done.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&done.stderr));
        String::from_utf8(done.stdout).unwrap()
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "first"]);
    let first = git(&["rev-parse", "HEAD"]).trim().to_owned();
    std::fs::write(dir.join("deploy/app.env"), "API_TOKEN=${FROM_THE_VAULT}\n").unwrap();
    git(&["commit", "-q", "-am", "take the token out"]);
    let now = scan(&["--json", "."], dir);
    assert_eq!(findings(&now).len(), 1, "only the one left in the files");
    let history = scan(&["--git", "--json", "."], dir);
    assert_eq!(history.status.code(), Some(1), "{}", String::from_utf8_lossy(&history.stderr));
    let mut in_history: Vec<(String, u64, String)> = findings(&history)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["commit"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    in_history.sort();
    assert_eq!(in_history, [("deploy/app.env".to_owned(), 3, first.clone()), ("src/client.py".to_owned(), 5, first)]);
}

#[test]
fn leaks_scan_asks_a_server_whether_each_find_is_live_without_sending_it() {
    let server = Server::start("").unwrap();
    let scanner = server.issue("scanner", "/=manage", &["--scope", "system.tokens:introspect"]).unwrap();
    let live = server.issue("ci", "channel/main=read", &["--scope", "artifact:download"]).unwrap();
    let revoked = {
        let out = server
            .cli()
            .args(["token", "create", "--owner", "ci", "--name", "old", "--scope", "artifact:download", "--json"])
            .output()
            .unwrap();
        let made: Value = serde_json::from_slice(&out.stdout).unwrap();
        let id = made["id"].as_u64().unwrap().to_string();
        assert!(server.cli().args(["token", "revoke", &id]).status().unwrap().success());
        made["secret"].as_str().unwrap().to_owned()
    };
    let never = Secret::generate().unwrap().expose().to_owned();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ci.log"), format!("a {live}\nb {revoked}\nc {never}\n")).unwrap();
    let out = tokenscope()
        .unwrap()
        .current_dir(dir.path())
        .env("TOKENSCOPE_TOKEN", &scanner)
        .args(["leaks", "scan", "--json", "--to", &server.url(""), "ci.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let statuses: Vec<(u64, String)> = findings(&out)
        .iter()
        .map(|f| (f["line"].as_u64().unwrap(), f["status"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(statuses, [(1, "live".to_owned()), (2, "revoked".to_owned()), (3, "unknown".to_owned())]);
    for secret in [&live, &revoked, &never] {
        assert!(!server.log().contains(secret.as_str()), "the secret never reaches the server");
    }
    // A token that may not introspect is an error, not an answer.
    let refused = tokenscope()
        .unwrap()
        .current_dir(dir.path())
        .env("TOKENSCOPE_TOKEN", &live)
        .args(["leaks", "scan", "--to", &server.url(""), "ci.log"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", String::from_utf8_lossy(&refused.stderr));
}
