//! State on disk survives: 1,000 tokens issued by one `tokenscope` process all
//! verify after it exits, and a process killed with SIGKILL in the middle of
//! issuing loses no token whose secret it printed. The store is the tests'
//! backend (a SQLite file, or a PostgreSQL database).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;
use tokenscope_tests::authority::{TestAuthority, test_config, test_store};
use tokenscope_tests::binary::tokenscope;

fn cli(store: &str) -> Command {
    let mut cmd = tokenscope().unwrap();
    cmd.arg("--store").arg(store).env_remove("TOKENSCOPE_CONFIG").env_remove("TOKENSCOPE_TOKEN");
    cmd
}

fn init(store: &str) {
    let out = cli(store).args(["init", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn secrets(lines: &str) -> Vec<String> {
    lines
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["secret"].as_str().unwrap().to_owned())
        .collect()
}

/// Opens the store anew (a restart) and verifies every secret.
fn verify_all(dir: tempfile::TempDir, store: &str, secrets: &[String]) {
    let mut config = test_config(dir.path().join("unused.db"));
    config.store.set(tokenscope::store::StoreLocation::parse(store).unwrap());
    let t = TestAuthority::open(dir, config).unwrap();
    for (i, secret) in secrets.iter().enumerate() {
        let v = t.authority.verify(Some(secret), "artifact:view", "channel/main");
        assert!(v.verdict.is_allow(), "token {i} of {}: {v:?}", secrets.len());
    }
}

#[test]
fn a_thousand_tokens_verify_after_the_issuing_process_exits() {
    let dir = tempfile::tempdir().unwrap();
    let store = test_store(dir.path());
    init(&store);
    let out = cli(&store)
        .args([
            "token", "create", "--owner", "admin", "--name", "bulk", "--scope", "artifact", "--count", "1000", "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let issued = secrets(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(issued.len(), 1000);
    // One through a fresh `tokenscope verify` process, all through a fresh store handle.
    let last = issued.last().unwrap();
    let out = cli(&store)
        .args(["verify", "--action", "artifact:download", "--resource", "channel/main/artifact/x"])
        .env("TOKENSCOPE_TOKEN", last)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    verify_all(dir, &store, &issued);
}

#[test]
fn sigkill_while_issuing_loses_no_printed_token() {
    let dir = tempfile::tempdir().unwrap();
    let store = test_store(dir.path());
    init(&store);
    let mut child = cli(&store)
        .args([
            "token", "create", "--owner", "admin", "--name", "k", "--scope", "artifact", "--count", "100000", "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let mut line = String::new();
    for _ in 0..150 {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "the issuing process ended early");
        printed.push_str(&line);
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success());
    // Whatever reached the pipe before the kill was printed: it must verify too.
    let mut rest = String::new();
    while reader.read_line(&mut rest).unwrap_or(0) > 0 {}
    printed.push_str(&rest);
    let issued: Vec<String> = printed
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["secret"].as_str().map(str::to_owned))
        .collect();
    assert!(issued.len() >= 150 && issued.len() < 100_000, "{} printed", issued.len());
    verify_all(dir, &store, &issued);
}
