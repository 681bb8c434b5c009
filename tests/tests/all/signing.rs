//! Signed policy modules: `tokenscope policy sign|verify|inspect` with keys in
//! every form openssl and ssh-keygen write, every tampering an attacker could
//! try refused with its own code, and a `[policy.trust]` host refusing what it
//! does not trust on every path that makes a module active or runs it (the
//! API, the file watch, SIGHUP, `policy.file` at start, the shadow, the CLI,
//! `gateway build`). The fleet's hosts are in `fleet.rs`; the real
//! `wasmsign2` CLI in `signing_interop`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use tokenscope::runtime::{DEFAULT_POLICY, VECTORS_SECTION, sha256_hex};
use tokenscope::signing::{SignatureCode, TrustedKeys};
use tokenscope_tests::binary::tokenscope;
use tokenscope_tests::http::{agent, send, send_with};
use tokenscope_tests::modules::{VARIANT, bytes};
use tokenscope_tests::server::{Server, init};
use tokenscope_tests::signing::{
    KeyPair, custom_section, openssh, openssl_der, openssl_pem, raw, sign, signature_section, without,
};

fn verify_lib(module: &[u8], key: &Path) -> Result<(), SignatureCode> {
    let keys = TrustedKeys::load(&[key.to_path_buf()]).unwrap();
    tokenscope::signing::verify(module, &keys).map(drop).map_err(|r| r.code)
}

fn cli(args: &[&str], paths: &[&Path]) -> Output {
    tokenscope().unwrap().args(args).args(paths).output().unwrap()
}

/// `tokenscope policy verify FILE --key KEY`: (exit code, stdout).
fn verify_cli(module: &[u8], key: &Path) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.wasm");
    std::fs::write(&file, module).unwrap();
    let out = cli(&["policy", "verify"], &[&file, Path::new("--key"), key]);
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn flip(module: &[u8], at: usize) -> Vec<u8> {
    let mut edited = module.to_vec();
    edited[at] ^= 0x01;
    edited
}

/// Where in `module` a byte of its code, of another custom section, and of its vectors section lies.
fn places(module: &[u8]) -> (usize, usize, usize) {
    let (mut code, mut custom, mut vectors) = (None, None, None);
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        match payload.unwrap() {
            wasmparser::Payload::CodeSectionStart { range, .. } if code.is_none() => {
                code = Some((range.start + range.end) as usize / 2);
            }
            wasmparser::Payload::CustomSection(reader) if reader.name() == VECTORS_SECTION => {
                vectors = Some(reader.data_offset() as usize + reader.data().len() / 2);
            }
            wasmparser::Payload::CustomSection(reader)
                if reader.name() != "signature" && !reader.data().is_empty() && custom.is_none() =>
            {
                custom = Some(reader.data_offset() as usize + reader.data().len() / 2);
            }
            _ => {}
        }
    }
    (code.unwrap(), custom.unwrap(), vectors.unwrap())
}

#[test]
fn every_key_form_signs_and_verifies_and_every_tampering_is_refused_with_its_own_code() {
    let dir = tempfile::tempdir().unwrap();
    let trusted = openssl_pem(dir.path(), "ci").unwrap();
    let other = openssl_pem(dir.path(), "other").unwrap();
    let variant = bytes(VARIANT);

    // Every form of key: sign with the private half, verify with the public half.
    let forms = [
        ("PEM", trusted.clone()),
        ("DER", openssl_der(&trusted, dir.path(), "ci-der").unwrap()),
        ("raw", raw(&trusted, dir.path(), "ci-raw").unwrap()),
        ("OpenSSH", openssh(dir.path(), "ci-ssh").unwrap()),
    ];
    for (form, pair) in &forms {
        let signed = sign(&variant, &pair.private).unwrap();
        assert_eq!(verify_lib(&signed, &pair.public), Ok(()), "{form}");
        let (code, text) = verify_cli(&signed, &pair.public);
        assert_eq!(code, Some(0), "{form}: {text}");
        assert!(text.starts_with("verified:"), "{form}: {text}");
    }
    // The same key in PEM, DER and raw has one id.
    let ids: Vec<String> = forms[..3]
        .iter()
        .map(|(_, p)| TrustedKeys::load(std::slice::from_ref(&p.public)).unwrap().ids().remove(0))
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0] && id.len() == 24), "{ids:?}");

    let signed = sign(&variant, &trusted.private).unwrap();
    let parts = signature_section(&signed);
    let signature = parts.whole.clone();
    let (code_byte, custom_byte, vectors_byte) = places(&signed);
    let by_other = sign(&variant, &other.private).unwrap();
    // Signed by the untrusted key, then by the trusted one whose signature is then broken.
    let both = sign(&by_other, &trusted.private).unwrap();
    let id = hex::decode(&ids[0]).unwrap();
    let at = both.windows(id.len()).position(|w| w == id).unwrap();
    let forged_trusted = flip(&both, at + id.len() + 2 + 10);
    let moved = [&without(&signed, signature.clone())[..], &signed[signature.clone()]].concat();
    let doubled = [&signed[..signature.end], &signed[signature.clone()], &signed[signature.end..]].concat();
    let truncated = signed[..signature.start + 20].to_vec();
    // The section's size says 4 GiB.
    let overlong =
        [&signed[..parts.size.start], &[0xff, 0xff, 0xff, 0xff, 0x0f][..], &signed[parts.size.end..]].concat();
    let padded = [
        &signed[..8],
        &custom_section("signature", &[&signed[parts.payload.clone()], &vec![0; 70 << 10][..]].concat())[..],
        &signed[signature.end..],
    ]
    .concat();

    let cases: Vec<(&str, Vec<u8>, SignatureCode)> = vec![
        ("unsigned", variant.clone(), SignatureCode::UnsignedModule),
        ("signature section stripped", without(&signed, signature.clone()), SignatureCode::UnsignedModule),
        ("a code byte changed", flip(&signed, code_byte), SignatureCode::BadSignature),
        ("a custom section byte changed", flip(&signed, custom_byte), SignatureCode::BadSignature),
        ("a vectors byte changed", flip(&signed, vectors_byte), SignatureCode::BadSignature),
        ("signature section moved to the end", moved, SignatureCode::BadSignature),
        ("signature section doubled", doubled, SignatureCode::BadSignature),
        ("only the untrusted of two signatures valid", forged_trusted, SignatureCode::BadSignature),
        ("signed by a key not in the table", by_other.clone(), SignatureCode::UntrustedSigner),
        ("signature section cut short", truncated, SignatureCode::BadSignature),
        ("signature section longer than the module", overlong, SignatureCode::BadSignature),
        ("signature section of 70 KiB", padded, SignatureCode::BadSignature),
        ("not a module", b"definitely not wasm".to_vec(), SignatureCode::UnsignedModule),
    ];
    for (what, module, expected) in &cases {
        assert_eq!(verify_lib(module, &trusted.public), Err(*expected), "{what}");
        let (code, text) = verify_cli(module, &trusted.public);
        assert_eq!(code, Some(1), "{what}: {text}");
        assert!(text.starts_with("not verified:") && text.contains(expected.as_str()), "{what}: {text}");
    }
    // Both signers are trusted by a table with both keys; either alone verifies the doubly signed module.
    assert_eq!(verify_lib(&both, &other.public), Ok(()));
    assert_eq!(verify_lib(&both, &trusted.public), Ok(()));
    let both_file = dir.path().join("both-signed.wasm");
    std::fs::write(&both_file, &both).unwrap();
    let out = cli(&["policy", "verify", "--json"], &[&both_file, Path::new("--key"), &trusted.public, &other.public]);
    assert_eq!(out.status.code(), Some(0));
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((verdict["verified"].as_bool(), verdict["signature"].as_str()), (Some(true), Some("verified")));
    assert_eq!(verdict["signers"].as_array().map(Vec::len), Some(2), "{verdict}");

    // The embedded default signs like any module; signing twice with one key is refused.
    let out_path = dir.path().join("default.signed.wasm");
    let out = cli(&["policy", "sign", "@default", "--key"], &[&trusted.private, Path::new("-o"), &out_path]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(verify_lib(&std::fs::read(&out_path).unwrap(), &trusted.public), Ok(()));
    let again =
        cli(&["policy", "sign"], &[&out_path, Path::new("--key"), &trusted.private, Path::new("-o"), &out_path]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already signed by key"));

    // A key file that is not a key, or the private half where the public one belongs.
    let junk = dir.path().join("junk.pub");
    std::fs::write(&junk, "not a key\n").unwrap();
    for wrong in [&junk, &trusted.private] {
        let (code, text) = verify_cli(&signed, wrong);
        assert_eq!(code, Some(2), "{text}");
        assert!(text.contains("is not an Ed25519 public key"), "{text}");
    }

    // `policy inspect` lists each signature and which given key verifies it.
    let file = dir.path().join("both.wasm");
    std::fs::write(&file, &both).unwrap();
    let out = cli(&["policy", "inspect", "--json"], &[&file, Path::new("--key"), &trusted.public]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let seen = report["signatures"].as_array().unwrap();
    assert_eq!(seen.len(), 2, "{report}");
    assert_eq!(seen.iter().filter(|s| s["verified_by"].is_string()).count(), 1, "{report}");
    assert!(seen.iter().any(|s| s["key_id"] == ids[0].as_str() && s["verified_by"].is_string()), "{report}");
    assert_eq!(report["gate"]["signature"]["signature"], "verified", "{report}");
}

/// A server dir whose config's `[policy.trust]` names `keys/ci.pub.pem`
/// (relative to the config file) and whose `policy.file` is `policy.wasm`.
struct TrustingHost {
    dir: tempfile::TempDir,
    keys: KeyPair,
}

impl TrustingHost {
    fn new() -> TrustingHost {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("keys")).unwrap();
        let keys = openssl_pem(&dir.path().join("keys"), "ci").unwrap();
        TrustingHost { dir, keys }
    }

    fn config(&self, module: &[u8], extra: &str) -> PathBuf {
        std::fs::write(self.dir.path().join("policy.wasm"), module).unwrap();
        let store = if tokenscope_tests::postgres::backend_is_postgres() {
            format!(
                "url = \"{}\"\n{}",
                tokenscope_tests::postgres::Postgres::shared().unwrap().database().unwrap(),
                tokenscope_tests::postgres::STORE_TIMEOUT
            )
        } else {
            format!("path = \"{}\"", self.dir.path().join("t.db").display())
        };
        let config = self.dir.path().join("tokenscope.toml");
        std::fs::write(
            &config,
            format!(
                "[store]\n{store}\n[policy]\nfile = \"{}\"\ncache_dir = \"{}\"\nsettle = \"50ms\"\n{extra}\n[policy.trust]\nkeys = [\"keys/ci.pub.pem\"]\n",
                self.dir.path().join("policy.wasm").display(),
                self.dir.path().join("cache").display(),
            ),
        )
        .unwrap();
        config
    }

    fn serve_output(&self, config: &Path) -> Output {
        tokenscope().unwrap().arg("--config").arg(config).args(["serve", "--listen", "127.0.0.1:0"]).output().unwrap()
    }
}

fn status(server: &Server) -> Value {
    let auth = format!("Bearer {}", server.admin_secret);
    let reply = send("GET", &server.url("/api/system/policy"), &[("authorization", auth.as_str())]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

fn refused_count(server: &Server) -> u64 {
    status(server)["swaps"]["refused"].as_u64().unwrap()
}

#[test]
fn every_path_that_makes_a_module_active_refuses_one_the_trust_table_does_not_admit() {
    let host = TrustingHost::new();
    let variant = bytes(VARIANT);
    let signed = sign(&variant, &host.keys.private).unwrap();
    let other = openssl_pem(host.dir.path(), "other").unwrap();
    let untrusted = sign(&variant, &other.private).unwrap();
    let tampered = flip(&signed, places(&signed).0);

    // At start: an unsigned policy.file or shadow is refused (exit 1, naming why).
    for (what, file, shadow, code) in [
        ("policy.file", variant.clone(), None, "unsigned-module"),
        ("policy.file", tampered.clone(), None, "bad-signature"),
        ("shadow", signed.clone(), Some(untrusted.clone()), "untrusted-signer"),
    ] {
        let extra = match &shadow {
            Some(module) => {
                let path = host.dir.path().join("shadow.wasm");
                std::fs::write(&path, module).unwrap();
                format!("shadow = \"{}\"\n", path.display())
            }
            None => String::new(),
        };
        let out = host.serve_output(&host.config(&file, &extra));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        assert!(stderr.contains(code), "{what}: {stderr}");
    }
    // A command that decides with the configured module refuses it too.
    let config = host.config(&variant, "");
    let out = tokenscope().unwrap().arg("--config").arg(&config).args(["init", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsigned-module"));
    // `gateway build --policy` composes only what the host would run.
    let gateway = host.dir.path().join("gateway.wasm");
    let out = tokenscope()
        .unwrap()
        .arg("--config")
        .arg(&config)
        .args(["gateway", "build", "--policy"])
        .arg(host.dir.path().join("policy.wasm"))
        .arg("-o")
        .arg(&gateway)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsigned-module"));
    assert!(!gateway.exists());

    // Signed by the trusted key: it starts, and says who signed what.
    let config = host.config(&signed, "");
    let admin_secret = init(&config).unwrap();
    let key_id = TrustedKeys::load(std::slice::from_ref(&host.keys.public)).unwrap().ids().remove(0);
    let policy_file = host.dir.path().join("policy.wasm");
    let server = Server::spawn(host.dir, admin_secret).unwrap();
    let now = status(&server);
    assert_eq!(now["active"]["signature"], "verified", "{now}");
    assert_eq!(now["active"]["signers"][0], key_id.as_str(), "{now}");
    assert_eq!(now["trust"]["required"], true, "{now}");
    assert_eq!(now["trust"]["keys"][0]["id"], key_id.as_str(), "{now}");
    let out = server
        .cli()
        .args(["policy", "status", "--to", &server.base])
        .env("TOKENSCOPE_TOKEN", &server.admin_secret)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("signed by {key_id})")), "{text}");
    assert!(text.contains(&format!("trust:  only modules signed by {key_id}")), "{text}");

    // The API: each refusal has its own code, and the module in force stays.
    let auth = format!("Bearer {}", server.admin_secret);
    let headers = [("authorization", auth.as_str()), ("content-type", "application/wasm")];
    let load = |module: &[u8]| {
        send_with(&agent(), "POST", &server.url("/api/system/policy"), &headers, module.to_vec()).unwrap()
    };
    for (module, code) in
        [(&variant, "unsigned-module"), (&tampered, "bad-signature"), (&untrusted, "untrusted-signer")]
    {
        let reply = load(module);
        assert_eq!((reply.status, reply.json()["code"].as_str()), (422, Some(code)), "{}", reply.body);
        assert_eq!(status(&server)["active"]["sha256"], sha256_hex(&signed).as_str());
    }
    // The embedded default is trusted as part of the binary.
    let reply = load(DEFAULT_POLICY);
    assert_eq!(reply.json()["outcome"], "swapped", "{}", reply.body);
    assert_eq!(status(&server)["active"]["signature"], "embedded");
    // The audit trail names the refusals by their code.
    let trail = server.api("GET", "/api/system/audit?action=policy.load", &server.admin_secret, None).json();
    let codes: Vec<&str> = trail["events"].as_array().unwrap().iter().filter_map(|e| e["refused"].as_str()).collect();
    for code in ["unsigned-module", "bad-signature", "untrusted-signer"] {
        assert!(codes.contains(&code), "{code}: {trail}");
    }

    // The file watch and SIGHUP: a refusal is a log line, and the active module stays.
    let before = refused_count(&server);
    std::fs::write(&policy_file, &untrusted).unwrap();
    tokenscope_tests::wait::until("the watch refuses the file", Duration::from_millis(20), || {
        refused_count(&server) > before
    });
    let before = refused_count(&server);
    Command::new("kill").args(["-HUP", &server.child.id().to_string()]).status().unwrap();
    tokenscope_tests::wait::until("SIGHUP refuses the file", Duration::from_millis(20), || {
        refused_count(&server) > before
    });
    let log = server.log_once("the refusals", |log| {
        log.contains("trigger=\"sighup\" outcome=\"refused\"") && log.contains("untrusted-signer")
    });
    assert!(log.contains("policy refused by the gate"), "{log}");
    assert_eq!(status(&server)["active"]["signature"], "embedded");
    // A signed file is taken up by the watch.
    std::fs::write(&policy_file, &signed).unwrap();
    tokenscope_tests::wait::until("the watch loads the signed file", Duration::from_millis(20), || {
        status(&server)["active"]["sha256"] == sha256_hex(&signed).as_str()
    });
    // The audit trail records who signed what went live; the metrics name the signer.
    let trail = server.api("GET", "/api/system/audit?action=policy.load", &server.admin_secret, None).json();
    let live = trail["events"].as_array().unwrap().iter().filter(|e| e["refused"].is_null());
    assert!(live.into_iter().any(|e| e["after"]["signer"] == key_id.as_str()), "{trail}");
    let metrics = send("GET", &server.url("/metrics"), &[]).body;
    assert!(metrics.contains(&format!("signer=\"{key_id}\"")), "{metrics}");
}

#[test]
fn a_trust_table_with_no_keys_or_a_key_that_is_not_one_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pub");
    std::fs::write(&junk, "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n").unwrap();
    let private = openssl_pem(dir.path(), "ci").unwrap().private;
    let huge = dir.path().join("huge.pub");
    std::fs::write(&huge, vec![b'A'; 100 << 10]).unwrap();
    for (keys, says) in [
        (format!("[\"{}\"]", huge.display()), "not a public key file"),
        ("[]".to_owned(), "names no keys"),
        (format!("[\"{}\"]", junk.display()), "is not an Ed25519 public key"),
        (format!("[\"{}\"]", private.display()), "is not an Ed25519 public key"),
        ("[\"missing.pub\"]".to_owned(), "failed to read public key"),
    ] {
        let config = dir.path().join("tokenscope.toml");
        std::fs::write(
            &config,
            format!("[store]\npath = \"{}\"\n[policy.trust]\nkeys = {keys}\n", dir.path().join("t.db").display()),
        )
        .unwrap();
        let out = tokenscope()
            .unwrap()
            .arg("--config")
            .arg(&config)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{keys}: {stderr}");
        assert!(stderr.contains(says), "{keys}: {stderr}");
    }
}

#[test]
fn policy_build_signs_the_component_it_builds() {
    // No store is involved: the SQLite pass runs it, the PostgreSQL pass need not build it again.
    if tokenscope_tests::postgres::backend_is_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let keys = openssl_pem(dir.path(), "author").unwrap();
    let crate_dir = dir.path().join("my-policy");
    let out = cli(&["policy", "new"], &[&crate_dir]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let built = dir.path().join("my-policy.wasm");
    let out = cli(&["policy", "build"], &[&crate_dir, Path::new("--sign"), &keys.private, Path::new("-o"), &built]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let id = TrustedKeys::load(std::slice::from_ref(&keys.public)).unwrap().ids().remove(0);
    assert!(text.contains(&format!("signed by key {id}")), "{text}");
    assert_eq!(verify_lib(&std::fs::read(&built).unwrap(), &keys.public), Ok(()));
    // A key that cannot be read stops the build before it starts.
    let out = cli(&["policy", "build"], &[&crate_dir, Path::new("--sign"), &keys.public, Path::new("-o"), &built]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an Ed25519 private key"));
}
