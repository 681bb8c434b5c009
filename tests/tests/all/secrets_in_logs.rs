//! No log line, error or `Debug` output ever contains a secret: every command of
//! a token's life runs with debug logging, and everything they print (except the
//! one line that shows a new secret to its creator) is searched for every secret
//! issued.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use tokenscope_tests::authority::{TestAuthority, test_config};
use tokenscope_tests::binary::tokenscope;

fn cli(store: &Path) -> Command {
    let mut cmd = tokenscope().unwrap();
    cmd.arg("--store").arg(store).env("TOKENSCOPE_LOG", "debug").env_remove("TOKENSCOPE_TOKEN");
    cmd
}

#[test]
fn no_log_line_error_or_debug_output_contains_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("tokens.db");
    let mut secrets: Vec<String> = Vec::new();
    let mut captured = String::new();
    let mut keep = |out: &Output, stdout_too: bool| {
        captured.push_str(&String::from_utf8_lossy(&out.stderr));
        if stdout_too {
            captured.push_str(&String::from_utf8_lossy(&out.stdout));
        }
    };
    let issued = |out: &Output| -> String {
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["secret"].as_str().unwrap().to_owned()
    };

    let out = cli(&store).args(["init", "--json"]).output().unwrap();
    keep(&out, false);
    secrets.push(issued(&out));
    keep(&cli(&store).args(["principal", "add", "alice", "--grant", "channel/main=manage"]).output().unwrap(), true);
    let out = cli(&store)
        .args(["token", "create", "--owner", "alice", "--name", "ci", "--scope", "artifact:create", "--json"])
        .output()
        .unwrap();
    keep(&out, false);
    secrets.push(issued(&out));
    for (action, resource) in
        [("artifact:create", "channel/main/artifact/a"), ("role:edit", "/"), ("artifact:create", "channel/other")]
    {
        let out = cli(&store)
            .args(["verify", "--action", action, "--resource", resource])
            .env("TOKENSCOPE_TOKEN", &secrets[1])
            .output()
            .unwrap();
        keep(&out, true);
    }
    // A mistyped secret in the error path.
    let mut typo = secrets[1].clone();
    typo.replace_range(10..11, if &typo[10..11] == "q" { "r" } else { "q" });
    keep(
        &cli(&store).args(["verify", "--action", "artifact:view"]).env("TOKENSCOPE_TOKEN", &typo).output().unwrap(),
        true,
    );
    let out = cli(&store).args(["token", "reissue", "2", "--json"]).output().unwrap();
    keep(&out, false);
    secrets.push(issued(&out));
    keep(
        &cli(&store)
            .args(["verify", "--action", "artifact:view"])
            .env("TOKENSCOPE_TOKEN", &secrets[1])
            .output()
            .unwrap(),
        true,
    );
    for args in [
        &["token", "list", "--json"][..],
        &["token", "list"],
        &["token", "show", "2", "--json"],
        &["token", "revoke", "2"],
        &["token", "expiring", "--within", "9000h"],
        &["principal", "list", "--json"],
    ] {
        keep(&cli(&store).args(args).output().unwrap(), true);
    }
    keep(
        &cli(&store)
            .args(["verify", "--action", "artifact:view"])
            .env("TOKENSCOPE_TOKEN", &secrets[2])
            .output()
            .unwrap(),
        true,
    );

    // Debug output of everything the library hands back.
    let t = TestAuthority::open(tempfile::tempdir().unwrap(), test_config(store.clone())).unwrap();
    for secret in &secrets {
        let verified = t.authority.verify(Some(secret), "artifact:view", "channel/main");
        captured.push_str(&format!("{verified:?}"));
        let parsed = tokenscope::secret::Secret::parse(secret).unwrap();
        captured.push_str(&format!("{parsed:?} {:?}", parsed.hash()));
    }
    captured.push_str(&format!("{:?}", t.store().tokens(None).unwrap()));

    assert!(captured.contains("verify"), "debug logging was not captured:\n{captured}");
    for secret in &secrets {
        // The whole secret, and its random part on its own, must appear nowhere.
        assert!(!captured.contains(secret.as_str()), "a secret leaked into output");
        assert!(!captured.contains(&secret[8..]), "part of a secret leaked into output");
    }
}
