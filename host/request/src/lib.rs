//! tokenscope-request: turns what a proxy forwards (method, path, headers) into
//! the one canonical request the check decides: a canonical path, the original
//! method, the presented secret (its shape checked, its hash) and the matched
//! route. Pure and transport-neutral,
//! so the HTTP server and the wasm gateway share one implementation.

#![warn(missing_docs)]

mod canonical;
mod decode;
mod headers;
mod original;
mod presented;
mod refusal;
mod route_map;
mod secret_shape;

pub use canonical::{CanonicalPath, MAX_PATH_BYTES, PathError, PublicPrefix};
pub use decode::{Decoded, Settings, SettingsError, decode};
pub use headers::{Headers, Sent};
pub use original::{Convention, Original, read_original};
pub use presented::{Presented, TokenSource, presented_in_headers};
pub use refusal::Refusal;
pub use route_map::{MAX_CAPTURES, Resolved, RouteConfig, RouteError, RouteMap};
pub use secret_shape::{
    ALPHABET, CHECKSUM_LEN, PREFIX, RANDOM_LEN, SECRET_LEN, SecretError, SecretHash, check_shape, checksum,
};
