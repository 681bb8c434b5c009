//! The bindings of what the gateway imports besides the proxy world:
//! `tokenscope:policy/evaluator` and `tokenscope:gateway/settings`.

#![allow(missing_docs, clippy::all, unsafe_code)]

wit_bindgen::generate!({
    path: ["../../wit", "../../wit/gateway"],
    world: "tokenscope:gateway/gateway",
    generate_all,
});

pub use tokenscope::gateway::settings;
pub use tokenscope::policy::evaluator;
