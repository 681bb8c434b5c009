//! The gateway as a `wasi:http/proxy` component (wasm32 only): the bindings of
//! its imports (the policy and the settings) and the exported handler.

mod answer;
mod bindings;
mod decide;
mod fields;
mod forward;
mod handler;
mod introspect;
mod outbound;

use handler::Gateway;

wasip2::http::proxy::export!(Gateway);
