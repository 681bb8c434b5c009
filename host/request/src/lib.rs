//! tokenscope-request: turns what a proxy forwards (method, path, headers) into
//! the one canonical request the check decides: a canonical path, the original
//! method, the presented secret and the matched route. Pure and transport-neutral,
//! so the HTTP server and the wasm gateway share one implementation.

mod canonical;
mod decode;
mod original;
mod presented;
mod route_map;

pub use canonical::{CanonicalPath, MAX_PATH_BYTES, PathError, PublicPrefix};
pub use decode::{Decoded, Refusal, Settings, SettingsError, decode};
pub use original::{Convention, Headers, Original, read_original};
pub use presented::{Presented, TokenSource, presented_in_headers};
pub use route_map::{MAX_CAPTURES, Resolved, RouteConfig, RouteError, RouteMap};
