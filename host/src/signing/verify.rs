//! Whether a module carries a valid signature by a trusted key, and when not,
//! which refusal it gets: `unsigned-module` (no signature section),
//! `bad-signature` (a section moved, doubled, cut short or oversized, or bytes
//! changed after signing) or `untrusted-signer` (well signed, by no key trusted
//! here). Acceptance is `wasmsign2`'s verification alone; the rest only names
//! the reason.

use serde::Serialize;
use sha2::{Digest, Sha256};
use wasmsign2::{PublicKey, PublicKeySet, SignatureData};

use super::keys::TrustedKeys;
use super::sections::{self, Layout};

/// The largest signature section read (a few hundred signatures fit in it).
const MAX_SIGNATURE_SECTION: usize = 64 << 10;

/// What a module's signature says, as status, reports and the audit trail show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "signature", rename_all = "kebab-case")]
pub enum Signature {
    /// The default policy embedded in this binary, which the operator already trusts.
    Embedded,
    /// Signed by trusted keys: their key ids.
    Verified {
        /// The trusted keys whose signatures verify, in the order configured.
        signers: Vec<String>,
    },
    /// Signatures naming these key ids, not checked: no `[policy.trust]` here.
    NotChecked {
        /// The key ids its signatures name (unverified).
        signers: Vec<String>,
    },
    /// No signature.
    Unsigned,
}

impl Signature {
    /// One word or key id for logs and metrics: `embedded`, the first trusted
    /// signer's key id, `not-checked` or `unsigned`.
    pub fn label(&self) -> &str {
        match self {
            Signature::Embedded => "embedded",
            Signature::Verified { signers } => signers.first().map_or("unsigned", String::as_str),
            Signature::NotChecked { .. } => "not-checked",
            Signature::Unsigned => "unsigned",
        }
    }
}

/// Why a module is refused for its signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureCode {
    /// It carries no signature.
    UnsignedModule,
    /// Its signature section is malformed or misplaced, or no signature covers its bytes.
    BadSignature,
    /// It is signed, but by no trusted key.
    UntrustedSigner,
}

impl SignatureCode {
    /// The refusal code the API and the CLI name.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureCode::UnsignedModule => "unsigned-module",
            SignatureCode::BadSignature => "bad-signature",
            SignatureCode::UntrustedSigner => "untrusted-signer",
        }
    }
}

/// A module refused for its signature: the code and a sentence on why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignatureRefusal {
    /// Which refusal.
    pub code: SignatureCode,
    /// Why, naming key ids and sections, never key material.
    pub reason: String,
}

impl std::fmt::Display for SignatureRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.reason)
    }
}

impl std::error::Error for SignatureRefusal {}

fn refuse(code: SignatureCode, reason: impl Into<String>) -> SignatureRefusal {
    SignatureRefusal { code, reason: reason.into() }
}

/// `bytes`' signature data, when its first section holds it.
struct Signed {
    data: SignatureData,
    /// Where the signed content starts (after the signature section).
    content: usize,
}

fn read_signed(bytes: &[u8]) -> Result<Signed, SignatureRefusal> {
    let layout = sections::sections(bytes).map_err(|err| match err {
        Layout::NotWasm => refuse(
            SignatureCode::UnsignedModule,
            "it is not a WebAssembly module or component, so it carries no signature",
        ),
        Layout::Broken { offset } => refuse(
            SignatureCode::BadSignature,
            format!("its section at byte {offset} is cut short or malformed, so no signature over it can be checked"),
        ),
    })?;
    let headers: Vec<usize> =
        layout.iter().enumerate().filter(|(_, s)| s.is_custom(sections::SIGNATURE)).map(|(i, _)| i).collect();
    match headers.as_slice() {
        [] => return Err(refuse(SignatureCode::UnsignedModule, "it carries no signature section")),
        [0] => {}
        _ => {
            return Err(refuse(
                SignatureCode::BadSignature,
                format!(
                    "a module's signature section comes first and once; this one has {} of them, at sections {:?}",
                    headers.len(),
                    headers
                ),
            ));
        }
    }
    // A split module's signatures cover prefixes: cut at a delimiter, it would
    // still verify. A policy is signed whole, so no delimiter is read.
    if layout.iter().any(|s| s.is_custom(sections::DELIMITER)) {
        return Err(refuse(
            SignatureCode::BadSignature,
            "it is split by signature delimiters: a policy's signature must cover the whole module",
        ));
    }
    let Some(first) = layout.first() else {
        return Err(refuse(SignatureCode::UnsignedModule, "it carries no signature section"));
    };
    if first.len > MAX_SIGNATURE_SECTION {
        return Err(refuse(
            SignatureCode::BadSignature,
            format!("its signature section is {} bytes, over the {MAX_SIGNATURE_SECTION} read", first.len),
        ));
    }
    let end = first.offset + first.len;
    let payload = bytes.get(first.payload..end).unwrap_or_default();
    if !sections::signature_lengths_fit(payload) {
        return Err(refuse(SignatureCode::BadSignature, "its signature section declares more bytes than it holds"));
    }
    let data = SignatureData::deserialize(payload)
        .map_err(|err| refuse(SignatureCode::BadSignature, format!("its signature section cannot be read: {err}")))?;
    Ok(Signed { data, content: end })
}

/// Whether a trusted key signed `bytes` (all of it): the signers, or the refusal.
pub fn verify(bytes: &[u8], trusted: &TrustedKeys) -> Result<Signature, SignatureRefusal> {
    let signed = read_signed(bytes)?;
    let set = PublicKeySet::new(trusted.keys().iter().map(|k| k.key.clone()).collect());
    match set.verify(&mut &bytes[..], None) {
        Ok(valid) => {
            let signers: Vec<String> =
                trusted.keys().iter().filter(|k| valid.contains(&k.key)).map(|k| k.id.clone()).collect();
            if signers.is_empty() {
                return Err(refuse(SignatureCode::UntrustedSigner, "no trusted key signed it"));
            }
            Ok(Signature::Verified { signers })
        }
        Err(_) => Err(why_not(bytes, &signed, trusted)),
    }
}

/// Names why verification failed (the library said no; this says which no).
fn why_not(bytes: &[u8], signed: &Signed, trusted: &TrustedKeys) -> SignatureRefusal {
    let content: Vec<u8> = Sha256::digest(bytes.get(signed.content..).unwrap_or_default()).to_vec();
    let all = signed.data.signed_hashes_set.iter().map(|s| s.signatures.len()).sum::<usize>();
    let covering: Vec<_> = signed.data.signed_hashes_set.iter().filter(|set| set.hashes.contains(&content)).collect();
    if covering.is_empty() {
        return refuse(
            SignatureCode::BadSignature,
            format!("the module changed after it was signed: none of its {all} signatures covers these bytes"),
        );
    }
    let named: Vec<String> = covering
        .iter()
        .flat_map(|set| set.signatures.iter())
        .map(|s| s.key_id.as_ref().map_or_else(|| "(no key id)".to_owned(), hex::encode))
        .collect();
    if let Some(id) = trusted.ids().into_iter().find(|id| named.contains(id)) {
        return refuse(SignatureCode::BadSignature, format!("the signature naming trusted key {id} does not verify"));
    }
    if named.is_empty() {
        return refuse(SignatureCode::BadSignature, "its signature section holds no signature");
    }
    refuse(
        SignatureCode::UntrustedSigner,
        format!("signed by {}, none of them a key in policy.trust ({})", named.join(", "), trusted.ids().join(", ")),
    )
}

/// What `bytes`' signatures claim, unchecked (a host with no `[policy.trust]`).
pub fn observe(bytes: &[u8]) -> Signature {
    match read_signed(bytes) {
        Ok(signed) => Signature::NotChecked { signers: claimed(&signed.data) },
        Err(refusal) if refusal.code == SignatureCode::UnsignedModule => Signature::Unsigned,
        Err(_) => Signature::NotChecked { signers: Vec::new() },
    }
}

fn claimed(data: &SignatureData) -> Vec<String> {
    let mut ids: Vec<String> = data
        .signed_hashes_set
        .iter()
        .flat_map(|set| set.signatures.iter())
        .map(|s| s.key_id.as_ref().map_or_else(|| "(no key id)".to_owned(), hex::encode))
        .collect();
    ids.dedup();
    ids
}

/// One signature a module carries, as `policy inspect` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct SignatureSeen {
    /// The key id it names, if any.
    pub key_id: Option<String>,
    /// The trusted key (its file) that verifies the module with this signature, if one does.
    pub verified_by: Option<String>,
}

/// Every signature in `bytes` and which of `trusted` verifies it; or why none can be read.
pub fn signatures(bytes: &[u8], trusted: Option<&TrustedKeys>) -> Result<Vec<SignatureSeen>, SignatureRefusal> {
    let signed = read_signed(bytes)?;
    let verifying: Vec<(String, String)> = trusted
        .map(|t| {
            t.keys()
                .iter()
                .filter(|k| PublicKey { pk: k.key.pk, key_id: None }.verify(&mut &bytes[..], None).is_ok())
                .map(|k| (k.id.clone(), k.path.display().to_string()))
                .collect()
        })
        .unwrap_or_default();
    Ok(signed
        .data
        .signed_hashes_set
        .iter()
        .flat_map(|set| set.signatures.iter())
        .map(|s| {
            let key_id = s.key_id.as_ref().map(hex::encode);
            let verified_by =
                key_id.as_ref().and_then(|id| verifying.iter().find(|(k, _)| k == id)).map(|(_, path)| path.clone());
            SignatureSeen { key_id, verified_by }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::{SigningKey, sign};

    /// A key pair written as wasmsign2's raw files: (signing key, trusted keys).
    fn keys(dir: &std::path::Path, name: &str) -> (SigningKey, TrustedKeys) {
        let pair = wasmsign2::KeyPair::generate();
        let (secret, public) = (dir.join(format!("{name}.sk")), dir.join(format!("{name}.pk")));
        std::fs::write(&secret, pair.sk.to_bytes()).unwrap();
        std::fs::write(&public, pair.pk.to_bytes()).unwrap();
        (SigningKey::read(&secret).unwrap(), TrustedKeys::load(&[public]).unwrap())
    }

    #[test]
    fn what_a_signature_says_and_the_refusal_each_change_gets() {
        let dir = tempfile::tempdir().unwrap();
        let (key, trusted) = keys(dir.path(), "a");
        let (other_key, _) = keys(dir.path(), "b");
        // A component holding one custom section.
        let module = b"\x00asm\x0d\x00\x01\x00\x00\x0e\x07content fixed".to_vec();
        assert_eq!(observe(&module), Signature::Unsigned);
        assert_eq!(observe(&module).label(), "unsigned");
        let signed = sign(&module, &key).unwrap();
        let id = key.id();
        assert_eq!(verify(&signed, &trusted), Ok(Signature::Verified { signers: vec![id.clone()] }));
        assert_eq!(verify(&signed, &trusted).unwrap().label(), id);
        assert_eq!(observe(&signed), Signature::NotChecked { signers: vec![id.clone()] });
        assert_eq!(observe(&signed).label(), "not-checked");
        assert_eq!(Signature::Embedded.label(), "embedded");

        let code = |bytes: &[u8]| verify(bytes, &trusted).map_err(|r| r.code);
        let mut changed = signed.clone();
        let last = changed.len() - 1;
        changed[last] ^= 1;
        assert_eq!(code(&changed), Err(SignatureCode::BadSignature));
        assert_eq!(code(&module), Err(SignatureCode::UnsignedModule));
        assert_eq!(code(&sign(&module, &other_key).unwrap()), Err(SignatureCode::UntrustedSigner));
        // Signed by both: the trusted signature alone admits it.
        let both = sign(&sign(&module, &other_key).unwrap(), &key).unwrap();
        assert_eq!(verify(&both, &trusted), Ok(Signature::Verified { signers: vec![id.clone()] }));
        // Signed in two parts by wasmsign2 itself, then cut after the first part:
        // the library alone would admit the cut module; a delimiter is refused.
        let delimiter = |byte: u8| [&b"\x00\x24\x13signature_delimiter"[..], &[byte; 16]].concat();
        let split = [&module[..], &delimiter(1), &b"\x00\x05\x04more"[..], &delimiter(2)].concat();
        let parsed = wasmsign2::Module::deserialize(&mut &split[..]).unwrap();
        let (signed_split, _) = key.secret.sign_multi(parsed, None, false, false).unwrap();
        let mut whole = Vec::new();
        signed_split.serialize(&mut whole).unwrap();
        let cut = &whole[..whole.len() - 7 - 38];
        let set = PublicKeySet::new(trusted.keys().iter().map(|k| k.key.clone()).collect());
        assert!(set.verify(&mut &cut[..], None).is_ok(), "wasmsign2 admits a signed prefix");
        assert_eq!(code(cut), Err(SignatureCode::BadSignature));
        assert_eq!(code(&whole), Err(SignatureCode::BadSignature));
        let refusal = verify(&module, &trusted).unwrap_err();
        assert_eq!(refusal.to_string(), "unsigned-module: it carries no signature section");
    }
}
