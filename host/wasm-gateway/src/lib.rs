//! tokenscope-wasm-gateway: the `wasi:http/proxy` component that decides requests
//! inside a wasm proxy. Natively it is the settings and wire types the host
//! writes and serves; for wasm32 it adds the handler, composed with a policy.

#![warn(missing_docs)]

mod cache;
mod introspection_format;
mod settings;

pub use cache::{Cache, Lookup};
pub use introspection_format::{
    FeedPage, INTROSPECT_PATH, Introspection, REVOCATIONS_PATH, TokenData, WireGrants, max_age_ms,
};
pub use settings::{CacheSettings, GatewaySettings, Mode, Origin, PolicyLabel, Scheme, Timeouts};

#[cfg(target_arch = "wasm32")]
mod component;
