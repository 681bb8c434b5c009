//! The top-level section layout of a module or component, walked before
//! `wasmsign2` reads it: each declared length must fit in the bytes that are
//! there, so a forged length can neither make the reader allocate gigabytes nor
//! hide bytes from the signature.

/// The module and component preambles (`\0asm`, then the version and layer).
const MODULE: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const COMPONENT: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

/// The custom section that holds a module's signatures.
pub(super) const SIGNATURE: &str = "signature";
/// The custom section that splits a module into separately signed parts.
pub(super) const DELIMITER: &str = "signature_delimiter";

/// Why a binary's sections cannot be walked.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Layout {
    /// It does not start as a WebAssembly module or component.
    NotWasm,
    /// A section at `offset` is cut short or its length is malformed.
    Broken { offset: usize },
}

/// One top-level section: its id, and for a custom section its name.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Section {
    pub(super) id: u8,
    pub(super) name: Option<String>,
    pub(super) offset: usize,
    pub(super) len: usize,
    /// Where its payload starts: after the name of a custom section.
    pub(super) payload: usize,
}

impl Section {
    /// Whether it is the custom section named `name`.
    pub(super) fn is_custom(&self, name: &str) -> bool {
        self.id == 0 && self.name.as_deref() == Some(name)
    }
}

/// Every top-level section of `bytes`, when each fits.
pub(super) fn sections(bytes: &[u8]) -> Result<Vec<Section>, Layout> {
    let header = bytes.get(..8).ok_or(Layout::NotWasm)?;
    if header != MODULE && header != COMPONENT {
        return Err(Layout::NotWasm);
    }
    let mut at = 8;
    let mut found = Vec::new();
    while at < bytes.len() {
        let offset = at;
        let id = *bytes.get(at).ok_or(Layout::Broken { offset })?;
        at += 1;
        let len = leb_u32(bytes, &mut at).ok_or(Layout::Broken { offset })? as usize;
        let end = at.checked_add(len).filter(|end| *end <= bytes.len()).ok_or(Layout::Broken { offset })?;
        let (name, payload) = if id == 0 {
            let mut inner = at;
            let name_len = leb_u32(bytes, &mut inner).ok_or(Layout::Broken { offset })? as usize;
            let name_end = inner.checked_add(name_len).filter(|e| *e <= end).ok_or(Layout::Broken { offset })?;
            let name = bytes.get(inner..name_end).ok_or(Layout::Broken { offset })?;
            (Some(String::from_utf8_lossy(name).into_owned()), name_end)
        } else {
            (None, at)
        };
        found.push(Section { id, name, offset, len: end - offset, payload });
        at = end;
    }
    Ok(found)
}

/// Whether every length the signature section's payload declares fits in the
/// bytes that remain: `wasmsign2` allocates a declared length before it reads
/// it, so a few forged bytes could otherwise ask for 4 GiB. This only measures;
/// reading the signatures is the library's (`SignatureData::deserialize`).
pub(super) fn signature_lengths_fit(payload: &[u8]) -> bool {
    let mut at = 0;
    // Version, content type and hash function, then the signed hash sets.
    for _ in 0..3 {
        if leb_u32(payload, &mut at).is_none() {
            return false;
        }
    }
    blocks(payload, &mut at, |set| {
        let mut at = 0;
        let Some(hashes) = leb_u32(set, &mut at) else { return false };
        let Some(after) = (hashes as usize).checked_mul(32).and_then(|n| at.checked_add(n)) else { return false };
        if after > set.len() {
            return false;
        }
        at = after;
        blocks(set, &mut at, |signature| {
            let mut at = 0;
            block(signature, &mut at).is_some() && signature.get(at).is_some() && {
                at += 1;
                block(signature, &mut at).is_some()
            }
        })
    })
}

/// A count, then that many length-prefixed blocks, each of which `each` accepts.
fn blocks(bytes: &[u8], at: &mut usize, mut each: impl FnMut(&[u8]) -> bool) -> bool {
    let Some(count) = leb_u32(bytes, at) else { return false };
    (0..count).all(|_| block(bytes, at).is_some_and(&mut each))
}

/// One length-prefixed block, when it fits.
fn block<'a>(bytes: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let len = leb_u32(bytes, at)? as usize;
    let end = at.checked_add(len).filter(|end| *end <= bytes.len())?;
    let inner = bytes.get(*at..end)?;
    *at = end;
    Some(inner)
}

/// An unsigned LEB128 of at most 5 bytes that fits in 32 bits.
fn leb_u32(bytes: &[u8], at: &mut usize) -> Option<u32> {
    let mut value: u64 = 0;
    for shift in 0..5 {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << (7 * shift);
        if byte & 0x80 == 0 {
            return u32::try_from(value).ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_longer_than_the_bytes_left_is_broken() {
        let mut bytes = COMPONENT.to_vec();
        bytes.extend_from_slice(&[0, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, b'x']);
        assert_eq!(sections(&bytes), Err(Layout::Broken { offset: 8 }));
        assert_eq!(sections(b"not wasm at all"), Err(Layout::NotWasm));
        let mut fine = MODULE.to_vec();
        fine.extend_from_slice(&[0, 4, 3, b's', b'i', b'g', 1, 1, 0]);
        let found = sections(&fine).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].name.as_deref(), Some("sig"));
        assert_eq!((found[1].id, found[1].offset, found[1].len, found[1].payload), (1, 14, 3, 16));
        assert_eq!(found[0].payload, 14);
    }

    #[test]
    fn a_signature_payload_declaring_more_than_it_holds_does_not_fit() {
        // version 1, type 1, hash 1; one set of one hash and one signature.
        let mut fine = vec![1, 1, 1, 1];
        let mut set = vec![1];
        set.extend_from_slice(&[7; 32]);
        let signature = [&[0u8][..], &[1], &[64], &[9; 64]].concat();
        set.push(1);
        set.push(signature.len() as u8);
        set.extend_from_slice(&signature);
        fine.push(set.len() as u8);
        fine.extend_from_slice(&set);
        assert!(signature_lengths_fit(&fine));
        for cut in 0..fine.len() {
            assert!(!signature_lengths_fit(&fine[..cut]), "cut at {cut}");
        }
        // A key id that declares 4 GiB.
        let forged = [&[1u8, 1, 1, 1, 7, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f][..]].concat();
        assert!(!signature_lengths_fit(&forged));
    }
}
