//! Why a store operation failed, as every backend reports it: the contract a
//! second backend (PostgreSQL) must meet. Front ends decide what each cause
//! means to a caller (`store-unavailable`, a conflict, corrupt data).

use std::path::PathBuf;

use thiserror::Error;

/// The cause a backend's own error came from, kept for the log.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// A store operation that did not happen.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database did not answer or refused the operation (I/O, a lock held
    /// past the busy timeout, a full disk, a broken connection).
    #[error("the store failed to {op}: {cause}")]
    Backend {
        /// What was being done, e.g. `look up a token`.
        op: &'static str,
        /// The backend's own error.
        cause: Cause,
    },
    /// Opening or preparing the store file failed.
    #[error("failed to open store `{}`: {error}", path.display())]
    Open {
        /// The store file.
        path: PathBuf,
        /// What failed.
        error: Box<StoreError>,
    },
    /// `open_existing` found nothing at the path.
    #[error("no store at `{}`: run `tokenscope init` first", .0.display())]
    Missing(PathBuf),
    /// The store's schema is newer than this build knows.
    #[error("the store's schema version {found} is newer than this tokenscope knows ({known})")]
    NewerSchema {
        /// The schema version the store has.
        found: usize,
        /// The newest this build knows.
        known: usize,
    },
    /// A principal of this name exists already.
    #[error("principal `{0}` exists already")]
    PrincipalExists(String),
    /// A stored value cannot be read back (a damaged or foreign row).
    #[error("the store holds an unreadable {what}: {detail}")]
    Unreadable {
        /// What could not be read, e.g. `token grant list`.
        what: &'static str,
        /// Why.
        detail: String,
    },
    /// A copy's target holds principals or tokens, and replacing them was not asked for.
    #[error("the target store is not empty (principals or tokens exist); pass --replace to drop them")]
    NotEmpty,
    /// A value is outside what the store can hold (a time past `i64`).
    #[error("{0} is out of the range the store can hold")]
    OutOfRange(String),
}

impl StoreError {
    /// A backend failure while doing `op`.
    pub fn backend(op: &'static str, cause: impl Into<Cause>) -> StoreError {
        StoreError::Backend { op, cause: cause.into() }
    }

    /// Whether the store itself is unusable right now (as opposed to a refused
    /// or unreadable value): the caller may try again later.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Backend { .. } | StoreError::Open { .. } | StoreError::Missing(_))
    }
}
