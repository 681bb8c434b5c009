//! The binary's usage contract: usage errors exit 2, `--help` and `--version`
//! exit 0. (Building this test also makes cargo build the binary that the
//! workspace's integration tests in `tests/` drive.)

// Test code: an unwrap or a panic that fires is the test failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::process::Command;

fn tokenscope(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tokenscope")).args(args).output().unwrap()
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    assert_eq!(tokenscope(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn check_without_action_is_a_usage_error() {
    let out = tokenscope(&["check", "--scope", "artifact"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--action"));
}

#[test]
fn help_and_version_succeed() {
    assert_eq!(tokenscope(&["--help"]).status.code(), Some(0));
    let version = tokenscope(&["--version"]);
    assert_eq!(version.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("tokenscope "));
}
