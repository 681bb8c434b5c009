//! Where a store is: a SQLite file, or a PostgreSQL database named by a
//! `postgres://` URL. `--store`, `TOKENSCOPE_STORE` and the config all take
//! either; a URL is shown with its password left out.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{PgStore, SqliteStore, Store, StoreResult};

/// A store's location.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// The embedded store file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://user[:password]@host:port/db`).
    Postgres(String),
}

impl StoreLocation {
    /// A URL with the `postgres` or `postgresql` scheme, else a file path.
    pub fn parse(text: &str) -> StoreLocation {
        let lower = text.get(..13).unwrap_or(text).to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            StoreLocation::Postgres(text.to_owned())
        } else {
            StoreLocation::Sqlite(PathBuf::from(text))
        }
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
    Ok(match location {
        StoreLocation::Sqlite(path) => Arc::new(SqliteStore::open(path)?),
        StoreLocation::Postgres(url) => Arc::new(PgStore::open(url)?),
    })
}

/// Opens an existing store: a missing file is an error (a database is created
/// by its administrator; its schema is brought up to date here).
pub fn open_existing(location: &StoreLocation) -> StoreResult<Arc<dyn Store>> {
    Ok(match location {
        StoreLocation::Sqlite(path) => Arc::new(SqliteStore::open_existing(path)?),
        StoreLocation::Postgres(url) => Arc::new(PgStore::open(url)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths_are_told_apart_and_passwords_are_never_shown() {
        assert_eq!(StoreLocation::parse("t.db"), StoreLocation::Sqlite("t.db".into()));
        assert_eq!(StoreLocation::parse("./postgres://x"), StoreLocation::Sqlite("./postgres://x".into()));
        let url = "postgres://ts:hunter2@db.example:5433/tokens";
        let location = StoreLocation::parse(url);
        assert_eq!(location, StoreLocation::Postgres(url.into()));
        assert!(matches!(StoreLocation::parse("PostgreSQL://h/db"), StoreLocation::Postgres(_)));
        for shown in [location.to_string(), format!("{location:?}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("db.example") && shown.contains("tokens"), "{shown}");
        }
    }
}
