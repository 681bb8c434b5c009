//! The check a built gateway passes before it is written: it exports exactly
//! `wasi:http/incoming-handler` and imports nothing outside the `wasi:http/proxy`
//! world (a policy that imported a filesystem or sockets is refused here, not by
//! the proxy at load time).

use anyhow::{Context, Result, bail};
use wit_component::DecodedWasm;

/// The interfaces the proxy world (`wasi:http/proxy@0.2`) offers.
const PROXY_IMPORTS: &[&str] = &[
    "wasi:http/types",
    "wasi:http/outgoing-handler",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:random/random",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/stdin",
];

/// The one export.
const PROXY_EXPORT: &str = "wasi:http/incoming-handler";

/// `wasi:http/types@0.2.12` -> `wasi:http/types`, when the version is 0.2.x.
fn unversioned(name: &str) -> Option<&str> {
    let (interface, version) = name.split_once('@')?;
    version.starts_with("0.2.").then_some(interface)
}

/// Refuses a component that does not target exactly `wasi:http/proxy`.
pub fn check_proxy_world(bytes: &[u8]) -> Result<()> {
    let DecodedWasm::Component(resolve, world) = wit_component::decode(bytes).context("not a component")? else {
        bail!("not a component but a WIT package");
    };
    let world = resolve.worlds.get(world).context("the component's world is missing")?;
    let imports: Vec<String> = world.imports.keys().map(|key| resolve.name_world_key(key)).collect();
    let exports: Vec<String> = world.exports.keys().map(|key| resolve.name_world_key(key)).collect();
    let stray: Vec<&String> =
        imports.iter().filter(|name| unversioned(name).is_none_or(|i| !PROXY_IMPORTS.contains(&i))).collect();
    if !stray.is_empty() {
        bail!(
            "the gateway imports what the wasi:http/proxy world does not offer: {}",
            stray.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
        );
    }
    match exports.as_slice() {
        [one] if unversioned(one) == Some(PROXY_EXPORT) => Ok(()),
        _ => bail!("the gateway must export exactly `{PROXY_EXPORT}@0.2`, it exports {exports:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_component_is_not_a_proxy() {
        let err = check_proxy_world(crate::runtime::DEFAULT_POLICY).unwrap_err();
        assert!(format!("{err:#}").contains("export exactly"), "{err:#}");
        assert!(check_proxy_world(b"\0asm").is_err());
    }

    #[test]
    fn the_bare_gateway_imports_its_policy_and_settings_which_the_proxy_lacks() {
        let err = check_proxy_world(crate::gateway_build::compose::GATEWAY_COMPONENT).unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("tokenscope:policy/evaluator") && text.contains("tokenscope:gateway/settings"), "{text}");
    }
}
