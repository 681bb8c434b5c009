//! Where a store is: a SQLite file, or a PostgreSQL database named by a
//! `postgres://` URL. `--store`, `TOKENSCOPE_STORE` and the config all take
//! either; a URL is shown with its password left out.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{PgOptions, PgStore, SqliteStore, Store, StoreResult};

/// A store's location.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// The embedded store file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://user[:password]@host:port/db`).
    Postgres(String),
}

/// A store location that names a URL scheme other than PostgreSQL's.
#[derive(Debug, thiserror::Error)]
#[error(
    "the store `{scheme}://...` names an unknown scheme: give a SQLite file path, or a PostgreSQL URL \
     starting with `postgres://` or `postgresql://` (lowercase)"
)]
pub struct LocationError {
    /// The scheme as written (a mistyped one is shown; nothing after `://` is).
    pub scheme: String,
}

impl StoreLocation {
    /// A URL with exactly the `postgres` or `postgresql` scheme, or a file
    /// path; any other `scheme://` is an error (a mistyped URL never becomes a
    /// SQLite file of that name).
    pub fn parse(text: &str) -> Result<StoreLocation, LocationError> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(StoreLocation::Postgres(text.to_owned()));
        }
        if let Some((scheme, _)) = text.split_once("://")
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return Err(LocationError { scheme: scheme.chars().take(32).collect() });
        }
        Ok(StoreLocation::Sqlite(PathBuf::from(text)))
    }

    /// The file, for a SQLite store.
    pub fn path(&self) -> Option<&Path> {
        match self {
            StoreLocation::Sqlite(path) => Some(path),
            StoreLocation::Postgres(_) => None,
        }
    }
}

/// Shown without the password a URL may carry.
impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Sqlite(path) => write!(f, "{}", path.display()),
            StoreLocation::Postgres(url) => f.write_str(&super::postgres::redacted(url)),
        }
    }
}

impl fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreLocation({self})")
    }
}

/// Opens the store at `location`, creating it (file, or schema) when missing.
pub fn open(location: &StoreLocation) -> StoreResult<Arc<dyn Store>> {
    open_with(location, &PgOptions::default())
}

/// `open`, a PostgreSQL store opened with `options` (`store.listen_url`,
/// `store.pool_size`).
pub fn open_with(location: &StoreLocation, options: &PgOptions) -> StoreResult<Arc<dyn Store>> {
    Ok(match location {
        StoreLocation::Sqlite(path) => Arc::new(SqliteStore::open(path)?),
        StoreLocation::Postgres(url) => Arc::new(PgStore::open_with(url, options)?),
    })
}

/// Opens an existing store: a missing file is an error (a database is created
/// by its administrator; its schema is brought up to date here).
pub fn open_existing(location: &StoreLocation) -> StoreResult<Arc<dyn Store>> {
    open_existing_with(location, &PgOptions::default())
}

/// `open_existing`, with `options` as for `open_with`.
pub fn open_existing_with(location: &StoreLocation, options: &PgOptions) -> StoreResult<Arc<dyn Store>> {
    Ok(match location {
        StoreLocation::Sqlite(path) => Arc::new(SqliteStore::open_existing(path)?),
        StoreLocation::Postgres(url) => Arc::new(PgStore::open_with(url, options)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths_are_told_apart_and_passwords_are_never_shown() {
        assert_eq!(StoreLocation::parse("t.db").unwrap(), StoreLocation::Sqlite("t.db".into()));
        assert_eq!(StoreLocation::parse("./postgres://x").unwrap(), StoreLocation::Sqlite("./postgres://x".into()));
        assert_eq!(StoreLocation::parse("c:t.db").unwrap(), StoreLocation::Sqlite("c:t.db".into()));
        let url = "postgres://ts:hunter2@db.example:5433/tokens";
        let location = StoreLocation::parse(url).unwrap();
        assert_eq!(location, StoreLocation::Postgres(url.into()));
        assert!(matches!(StoreLocation::parse("postgresql://h/db"), Ok(StoreLocation::Postgres(_))));
        for wrong in ["postgress://u:hunter2@h/db", "PostgreSQL://h/db", "mysql://h/db", "file://t.db", "sqlite://t.db"]
        {
            let err = StoreLocation::parse(wrong).unwrap_err().to_string();
            assert!(err.contains("scheme") && !err.contains("hunter2"), "{wrong}: {err}");
        }
        for shown in [location.to_string(), format!("{location:?}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("db.example") && shown.contains("tokens"), "{shown}");
        }
    }
}
