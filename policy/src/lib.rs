//! The default tokenscope policy: pure decision logic over the token model
//! (README, "The token model"). Built natively as an rlib and, for wasm32, into
//! the policy component whose glue is `component.rs`.

pub mod action_set;
pub mod catalog;
pub mod decide;
pub mod grant_set;
pub mod info;
pub mod issue;
pub mod model;
pub mod quote;
pub mod resource;
pub mod scope;
pub mod slots;

#[cfg(target_arch = "wasm32")]
pub mod component;

pub use decide::{Query, decide, decide_token, explain};
pub use grant_set::GrantSet;
pub use issue::check_grants;
pub use model::{
    Access, Decision, Denial, DenyCode, Grants, Level, Request, ResourceGrant, Ruling, Token, TokenStatus,
};
