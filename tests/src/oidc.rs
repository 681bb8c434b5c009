//! An OIDC issuer for the tests: signing keys made here with the openssl CLI
//! (Debian's `openssl`, installed when missing; RSA 2048, EC P-256, Ed25519), their JWKS served by a small HTTP server on
//! loopback (which the test may change: key rotation) or written to a file,
//! and identity tokens signed with them, or forged.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::Value;

/// A signing key and its public JWK.
pub struct Key {
    /// The key id the JWK and the token header name.
    pub kid: String,
    /// The signing algorithm.
    pub alg: Algorithm,
    /// The private key, for signing.
    pub encoding: EncodingKey,
    /// The public key as a JWK.
    pub jwk: Jwk,
    /// The public key in PEM (for the algorithm-confusion forgery).
    pub public_pem: Vec<u8>,
}

impl Key {
    /// Makes a key for `alg` (RS256, ES256 or EdDSA) in `dir`, named `kid`.
    pub fn new(dir: &Path, alg: Algorithm, kid: &str) -> Result<Key> {
        crate::apt::ensure("openssl", || Command::new("openssl").arg("version").output().is_ok())?;
        let private = dir.join(format!("{kid}.pem"));
        let public = dir.join(format!("{kid}.pub.pem"));
        let args: &[&str] = match alg {
            Algorithm::RS256 => &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            Algorithm::ES256 => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            Algorithm::EdDSA => &["-algorithm", "ed25519"],
            other => bail!("no test keys for {other:?}"),
        };
        let made = Command::new("openssl").arg("genpkey").args(args).arg("-out").arg(&private).output()?;
        if !made.status.success() {
            bail!("openssl genpkey failed: {}", String::from_utf8_lossy(&made.stderr));
        }
        let out =
            Command::new("openssl").args(["pkey", "-pubout", "-in"]).arg(&private).arg("-out").arg(&public).output()?;
        if !out.status.success() {
            bail!("openssl pkey failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let pem = std::fs::read(&private)?;
        let encoding = match alg {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem)?,
            Algorithm::ES256 => EncodingKey::from_ec_pem(&pem)?,
            _ => EncodingKey::from_ed_pem(&pem)?,
        };
        let mut jwk = Jwk::from_encoding_key(&encoding, alg)?;
        jwk.common.key_id = Some(kid.to_owned());
        Ok(Key { kid: kid.to_owned(), alg, encoding, jwk, public_pem: std::fs::read(&public)? })
    }

    /// An identity token with `claims`, signed with this key.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap_or_default()
    }
}

/// A JWKS document of `keys`.
pub fn jwks(keys: &[&Key]) -> String {
    serde_json::to_string(&JwkSet { keys: keys.iter().map(|k| k.jwk.clone()).collect() }).unwrap_or_default()
}

/// A token whose header and payload are exactly these JSON texts (say, one
/// naming a member twice), signed with `key`.
pub fn signed_raw(key: &Key, header: &str, payload: &str) -> String {
    let signed = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
    let signature = jsonwebtoken::crypto::sign(signed.as_bytes(), &key.encoding, key.alg).unwrap_or_default();
    format!("{signed}.{signature}")
}

/// The other valid spelling of an ES256 signature (`r || s` becomes
/// `r || n - s`, with n the order of P-256): ECDSA signatures are malleable.
pub fn other_ecdsa_signature(signature: &str) -> String {
    const N: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6,
        0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
    ];
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap_or_default();
    if bytes.len() != 64 {
        return signature.to_owned();
    }
    let (_, s) = bytes.split_at_mut(32);
    let mut borrow = 0i16;
    for (byte, n) in s.iter_mut().rev().zip(N.iter().rev()) {
        let diff = i16::from(*n) - i16::from(*byte) - borrow;
        borrow = i16::from(diff < 0);
        *byte = u8::try_from(diff.rem_euclid(256)).unwrap_or(0);
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token from its header and claims as given, with `signature` (forgeries).
pub fn forged(header: &Value, claims: &Value, signature: &[u8]) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.{}", part(header), part(claims), URL_SAFE_NO_PAD.encode(signature))
}

/// Replaces the claims of a signed `token`, keeping its header and signature.
pub fn tampered(token: &str, claims: &Value) -> String {
    let mut parts = token.split('.');
    let (header, _, signature) = (parts.next().unwrap_or(""), parts.next(), parts.next().unwrap_or(""));
    format!("{header}.{}.{signature}", URL_SAFE_NO_PAD.encode(claims.to_string()))
}

/// Serves a JWKS on loopback: GET anything answers the current document.
pub struct JwksServer {
    /// Its URL.
    pub url: String,
    document: Arc<Mutex<String>>,
    hits: Arc<AtomicUsize>,
}

impl JwksServer {
    /// Serves `document` until dropped.
    pub fn start(document: String) -> Result<JwksServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}/.well-known/jwks", listener.local_addr()?);
        let document = Arc::new(Mutex::new(document));
        let hits = Arc::new(AtomicUsize::new(0));
        let (served, counted) = (Arc::clone(&document), Arc::clone(&hits));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().context("clone")?);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                counted.fetch_add(1, Ordering::Relaxed);
                let body = served.lock().map(|d| d.clone()).unwrap_or_default();
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
            anyhow::Ok(())
        });
        Ok(JwksServer { url, document, hits })
    }

    /// Serves `document` from now on.
    pub fn set(&self, document: String) {
        if let Ok(mut current) = self.document.lock() {
            *current = document;
        }
    }

    /// How many times the key set was fetched.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }
}
