//! The signature section reader (`[policy.trust]`): any bytes, read as a whole
//! module and as the signature section of a fixed module, are verified, shown
//! or refused, never a panic or an allocation past the input's size; a
//! refusal is one short sentence; and a module passes only with a signature
//! by the trusted key over exactly its content (the seeds hold such a
//! signature, made by `tokenscope policy sign` with the key beside this file).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tokenscope::signing::{Signature, TrustedKeys, observe, signatures, verify};

/// The component preamble, and the content the framed signatures must cover.
const COMPONENT: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
const CONTENT: &[u8] = b"\x00\x0e\x07content fixed";

fn trusted() -> &'static TrustedKeys {
    static KEYS: OnceLock<TrustedKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let key = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("keys/module_signature.pub.pem");
        TrustedKeys::load(&[key]).unwrap_or_else(|err| panic!("the fuzz key: {err:#}"))
    })
}

fn leb(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The fixed module with `payload` as its signature section's contents.
fn framed(payload: &[u8]) -> Vec<u8> {
    let mut section = vec![9];
    section.extend_from_slice(b"signature");
    section.extend_from_slice(payload);
    let mut module = COMPONENT.to_vec();
    module.push(0);
    leb(section.len(), &mut module);
    module.extend_from_slice(&section);
    module.extend_from_slice(CONTENT);
    module
}

fuzz_target!(|data: &[u8]| {
    let keys = trusted();
    for (module, framed) in [(data.to_vec(), false), (framed(data), true)] {
        match verify(&module, keys) {
            Ok(Signature::Verified { signers }) => {
                assert_eq!(signers, keys.ids(), "only the trusted key signs");
                if framed {
                    assert!(module.ends_with(CONTENT));
                }
            }
            Ok(other) => panic!("verify found {other:?}"),
            Err(refusal) => {
                assert!(refusal.reason.len() < 400, "a refusal is one sentence: {}", refusal.reason);
                assert!(!refusal.reason.contains('\n'), "{}", refusal.reason);
            }
        }
        let _ = observe(&module);
        let _ = signatures(&module, Some(keys));
    }
});
