//! tokenscope-gateway: the `wasi:http/proxy` component that decides requests
//! inside a wasm proxy. Natively it is the settings and wire types the host
//! writes and serves; for wasm32 it adds the handler, composed with a policy.

#![warn(missing_docs)]

mod cache;
mod settings;
mod wire;

pub use cache::{Cache, Lookup};
pub use settings::{CacheSettings, GatewaySettings, Mode, Origin, PolicyLabel, Scheme, Timeouts};
pub use wire::{FeedPage, INTROSPECT_PATH, Introspection, REVOCATIONS_PATH, TokenData, WireGrants, max_age_ms};

#[cfg(target_arch = "wasm32")]
mod component;
