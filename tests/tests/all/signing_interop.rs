//! Signatures interoperate with the real `wasmsign2` CLI (the `wasmsign2-cli`
//! crate, installed into `target/` when missing): a module it signs, with its
//! own keys or OpenSSH keys (`-Z`), verifies with `tokenscope policy verify`
//! and is admitted by a host trusting the same public key; a module
//! `tokenscope policy sign` signs with an OpenSSH key verifies with
//! `wasmsign2 verify -Z`.

use std::path::Path;
use std::process::{Command, Output};

use tokenscope::signing::TrustedKeys;
use tokenscope_tests::binary::tokenscope;
use tokenscope_tests::http::{agent, send_with};
use tokenscope_tests::modules::{VARIANT, bytes};
use tokenscope_tests::server::Server;
use tokenscope_tests::signing::openssh;

fn wasmsign2(args: &[&str], paths: &[&Path]) -> Output {
    let bin = tokenscope_tests::tool_install::cargo_root("wasmsign2", "wasmsign2-cli", "0.2.8", "wasmsign2").unwrap();
    Command::new(bin).args(args).args(paths).output().unwrap()
}

fn ok(out: &Output) -> String {
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    text
}

fn tokenscope_verify(module: &Path, key: &Path) -> Output {
    tokenscope().unwrap().args(["policy", "verify"]).arg(module).arg("--key").arg(key).output().unwrap()
}

#[test]
fn modules_signed_by_the_wasmsign2_cli_are_admitted_and_ours_verify_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("variant.wasm"), bytes(VARIANT)).unwrap();

    // Its own keys.
    ok(&wasmsign2(&["keygen", "-k"], &[&path("sk"), Path::new("-K"), &path("pk")]));
    ok(&wasmsign2(
        &["sign", "-i"],
        &[
            &path("variant.wasm"),
            Path::new("-o"),
            &path("own.wasm"),
            Path::new("-k"),
            &path("sk"),
            Path::new("-K"),
            &path("pk"),
        ],
    ));
    let text = ok(&tokenscope_verify(&path("own.wasm"), &path("pk")));
    let own_id = TrustedKeys::load(&[path("pk")]).unwrap().ids().remove(0);
    assert!(text.contains(&own_id), "{text}");

    // OpenSSH keys, with -Z.
    let ssh = openssh(dir.path(), "signer").unwrap();
    ok(&wasmsign2(
        &["sign", "-Z", "-i"],
        &[
            &path("variant.wasm"),
            Path::new("-o"),
            &path("ssh.wasm"),
            Path::new("-k"),
            &ssh.private,
            Path::new("-K"),
            &ssh.public,
        ],
    ));
    ok(&tokenscope_verify(&path("ssh.wasm"), &ssh.public));
    assert_eq!(tokenscope_verify(&path("ssh.wasm"), &path("pk")).status.code(), Some(1), "another key's signature");

    // A host trusting wasmsign2's public key admits what it signed, and only that.
    let server = Server::start(&format!("[policy.trust]\nkeys = [\"{}\"]\n", path("pk").display())).unwrap();
    let auth = format!("Bearer {}", server.admin_secret);
    let headers = [("authorization", auth.as_str()), ("content-type", "application/wasm")];
    let load = |file: &str| {
        let module = std::fs::read(path(file)).unwrap();
        send_with(&agent(), "POST", &server.url("/api/system/policy"), &headers, module).unwrap()
    };
    let reply = load("ssh.wasm");
    assert_eq!((reply.status, reply.json()["code"].as_str()), (422, Some("untrusted-signer")), "{}", reply.body);
    let reply = load("own.wasm");
    assert_eq!(reply.json()["outcome"], "swapped", "{}", reply.body);
    assert_eq!(reply.json()["to"]["signers"][0], own_id.as_str(), "{}", reply.body);

    // Ours, with an OpenSSH key, verifies with `wasmsign2 verify -Z`; edited, it does not.
    let out = tokenscope()
        .unwrap()
        .args(["policy", "sign"])
        .arg(path("variant.wasm"))
        .arg("--key")
        .arg(&ssh.private)
        .arg("-o")
        .arg(path("ours.wasm"))
        .output()
        .unwrap();
    ok(&out);
    let text = ok(&wasmsign2(&["verify", "-Z", "-i"], &[&path("ours.wasm"), Path::new("-K"), &ssh.public]));
    assert!(text.contains("Signature is valid"), "{text}");
    let mut edited = std::fs::read(path("ours.wasm")).unwrap();
    let last = edited.len() - 1;
    edited[last] ^= 1;
    std::fs::write(path("edited.wasm"), edited).unwrap();
    let out = wasmsign2(&["verify", "-Z", "-i"], &[&path("edited.wasm"), Path::new("-K"), &ssh.public]);
    assert!(!out.status.success(), "wasmsign2 refuses the edited module too");
}
