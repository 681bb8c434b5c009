//! Signed policy modules: WebAssembly signatures (the tool-conventions proposal,
//! read and written by the `wasmsign2` crate) on policy components, the keys a
//! host trusts (`[policy.trust]`), and what a module's signature says.

mod keys;
mod sections;
mod sign;
mod verify;

pub use keys::{SigningKey, TrustedKey, TrustedKeys, key_id};
pub use sign::sign;
pub use verify::{Signature, SignatureCode, SignatureRefusal, SignatureSeen, observe, signatures, verify};
