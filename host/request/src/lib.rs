//! tokenscope-request: turns what a proxy forwards (method, path, headers) into
//! the one canonical request the check decides: a canonical path, the original
//! method, the presented secret (its shape checked, its hash) and the matched
//! route, the codes a check answers with (their statuses) and the grant text form. Pure and
//! transport-neutral, so the HTTP server and the wasm gateway share one implementation.

#![warn(missing_docs)]

mod answer_code;
mod answer_headers;
mod canonical;
mod check_config;
mod decode;
mod grant_form;
mod headers;
mod original;
mod presented;
mod refusal;
mod route_map;
mod secret_shape;

pub use answer_code::{AnswerCode, PolicyCode};
pub use answer_headers::{
    DENY_CODE_HEADER, HEADER_PREFIX, OWNER_HEADER, POLICY_HEADER, TOKEN_ID_HEADER, is_reserved_header,
};
pub use canonical::{CanonicalPath, MAX_PATH_BYTES, PathError, PublicPrefix};
pub use check_config::CheckConfig;
pub use decode::{Decoded, Settings, SettingsError, decode};
pub use grant_form::{AccessText, GrantTextError, Level, split_grant};
pub use headers::{Headers, Sent};
pub use original::{Convention, Original, read_original};
pub use presented::{Presented, TokenSource, presented_in_headers};
pub use refusal::Refusal;
pub use route_map::{MAX_CAPTURES, Resolved, RouteConfig, RouteError, RouteMap};
pub use secret_shape::{
    ALPHABET, CHECKSUM_LEN, PREFIX, RANDOM_LEN, SECRET_LEN, SecretError, SecretHash, check_shape, checksum,
};
