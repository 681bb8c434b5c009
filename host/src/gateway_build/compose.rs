//! `tokenscope gateway build`: the embedded gateway component, a policy
//! component and a generated settings component composed in process with
//! `wasm-compose` (the policy and the settings satisfy the gateway's two
//! non-proxy imports), then checked to target exactly `wasi:http/proxy`.
//! Nothing is compiled: a new policy is a new composition.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokenscope_wasm_gateway::GatewaySettings;

use super::proxy_world::check_proxy_world;
use super::settings_component::settings_component;

/// The gateway component (`host/wasm-gateway`), built by `build.rs`.
pub const GATEWAY_COMPONENT: &[u8] = include_bytes!(env!("TOKENSCOPE_GATEWAY_COMPONENT"));

/// A composed gateway.
pub struct Built {
    /// The component's bytes.
    pub bytes: Vec<u8>,
    /// How long the composition and its check took.
    pub took: Duration,
}

/// Composes the gateway with `policy` (a component's bytes) and `settings`.
pub fn build(policy: &[u8], settings: &GatewaySettings) -> Result<Built> {
    let started = Instant::now();
    let json = serde_json::to_string(settings).context("failed to write the gateway's settings")?;
    let settings = settings_component(&json)?;
    let dir = tempfile::tempdir().context("failed to make a directory for the composition")?;
    let write = |name: &str, bytes: &[u8]| -> Result<std::path::PathBuf> {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).with_context(|| format!("failed to write `{}`", path.display()))?;
        Ok(path)
    };
    let gateway = write("gateway.wasm", GATEWAY_COMPONENT)?;
    let config = wasm_compose::config::Config {
        definitions: vec![write("policy.wasm", policy)?, write("settings.wasm", &settings)?],
        ..wasm_compose::config::Config::default()
    };
    let bytes = wasm_compose::composer::ComponentComposer::new(&gateway, &config)
        .compose()
        .context("the policy does not fit the gateway (is it a contract 0.3 policy component?)")?;
    check_proxy_world(&bytes)?;
    Ok(Built { bytes, took: started.elapsed() })
}
