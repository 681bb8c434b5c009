//! Custom sections of a policy component: the test vectors it ships with
//! (`tokenscope:vectors`, TOML, embedded by `tokenscope policy build` and the
//! build scripts), read from the component's top level only.

use anyhow::{Context, Result};
use wasmparser::{Parser, Payload};

pub use tokenscope_wasm_build::VECTORS_SECTION;

/// The module's embedded vectors, if it has them.
pub fn embedded_vectors(bytes: &[u8]) -> Result<Option<String>> {
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.context("the module is not valid WebAssembly")? {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::CustomSection(section) if depth == 1 && section.name() == VECTORS_SECTION => {
                let text = std::str::from_utf8(section.data())
                    .with_context(|| format!("the `{VECTORS_SECTION}` section is not UTF-8"))?;
                return Ok(Some(text.to_owned()));
            }
            _ => {}
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_carries_its_vectors() {
        let text = embedded_vectors(crate::runtime::DEFAULT_POLICY).unwrap().unwrap();
        assert!(text.contains("[[case]]"), "{text}");
    }

    #[test]
    fn garbage_is_an_error_and_a_bare_component_has_none() {
        assert!(embedded_vectors(b"not wasm").is_err());
        // The smallest component: the preamble only.
        assert_eq!(embedded_vectors(b"\0asm\x0d\0\x01\0").unwrap(), None);
    }
}
