//! The embedded store: one SQLite file in WAL mode with `synchronous = FULL`, so a
//! token is on disk before its secret is shown; migrations from `migrations.rs`.
//! Writes go through one connection; reads through a pool of read-only
//! connections, so a check never waits for a writer (WAL readers are not blocked
//! by a write lock, ours or another process's).

mod audit;
mod copy;
mod feed;
mod open;
mod rows;
mod store;
#[cfg(test)]
mod tests;

pub use open::SqliteStore;
pub(in crate::store) use rows::{AFTER_TOKEN_COLUMNS, TOKEN_COLUMNS};
