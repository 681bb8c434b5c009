//! The `wasi:http` gateway that `tokenscope gateway build` makes: the embedded
//! gateway component composed in process with a policy component and a settings
//! component generated from the config, checked to target exactly the proxy world.

mod compose;
mod proxy_world;
mod settings_component;

pub use compose::build;
