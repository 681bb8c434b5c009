//! Signing a policy module with a private key: `wasmsign2` adds the signature to
//! the module's signature section (beside any it has already, for key rotation
//! or a second signer), naming the key's id as `wasmsign2 sign` does.

use anyhow::{Result, bail};
use wasmsign2::{Module, PublicKey, WSError};

use super::keys::SigningKey;
use super::sections;

/// `bytes` with one more signature, by `key`, over all of it.
pub fn sign(bytes: &[u8], key: &SigningKey) -> Result<Vec<u8>> {
    let layout = match sections::sections(bytes) {
        Ok(layout) => layout,
        Err(sections::Layout::NotWasm) => bail!("it is not a WebAssembly module or component"),
        Err(sections::Layout::Broken { offset }) => bail!("its section at byte {offset} is cut short or malformed"),
    };
    let headers = layout.iter().filter(|s| s.is_custom(sections::SIGNATURE)).count();
    let first_is_header = layout.first().is_some_and(|s| s.is_custom(sections::SIGNATURE));
    if layout.iter().any(|s| s.is_custom(sections::DELIMITER)) {
        bail!("it is split by signature delimiters: a policy is signed whole");
    }
    if headers > 1 || (headers == 1 && !first_is_header) {
        bail!("it carries a misplaced or doubled signature section: sign the module as it was built");
    }
    let module =
        Module::deserialize(&mut &bytes[..]).map_err(|err| anyhow::anyhow!("its sections cannot be read: {err}"))?;
    let key_id = PublicKey { pk: key.public.pk, key_id: None }.attach_default_key_id().key_id;
    let (signed, _) = match key.secret.sign_multi(module, key_id.as_ref(), false, false) {
        Ok(signed) => signed,
        Err(WSError::DuplicateSignature) => bail!("it is already signed by key {}", key.id()),
        Err(err) => bail!("it cannot be signed: {err}"),
    };
    let mut out = Vec::with_capacity(bytes.len() + 128);
    signed.serialize(&mut out).map_err(|err| anyhow::anyhow!("the signed module cannot be written: {err}"))?;
    // What was written must verify with the key's own public half.
    let public = PublicKey { pk: key.public.pk, key_id: None };
    if public.verify(&mut &out[..], None).is_err() {
        bail!("the signed module does not verify with key {}", key.id());
    }
    Ok(out)
}
