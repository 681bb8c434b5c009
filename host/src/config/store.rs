//! `[store]`: where the store lives, a SQLite file or a PostgreSQL URL, and its limits.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::duration::duration;
use crate::store::StoreLocation;

/// Where the store lives: the SQLite file `path`, unless `url` names a
/// PostgreSQL database (`postgres://user@host:port/db`) that hosts share.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// The SQLite file; relative paths are relative to the working directory.
    pub path: PathBuf,
    /// A PostgreSQL URL; when set, `path` is not used.
    pub url: Option<String>,
    /// Where the listening connection (change notifications, and the change
    /// counter with every probe) goes instead of `url`: the database itself,
    /// when `url` names a transaction pooler, which does not carry `LISTEN`.
    pub listen_url: Option<String>,
    /// The pool's connections per host (PostgreSQL), beside the listening one.
    pub pool_size: usize,
    /// Prepare each statement once per pooled connection (PostgreSQL). Off
    /// when `url` names a transaction pooler that cannot keep prepared
    /// statements (pgbouncer before 1.21, or without `max_prepared_statements`):
    /// every statement is then sent unnamed, planned each time.
    pub prepared_statements: bool,
    /// The longest one store operation may take (PostgreSQL): past it the
    /// operation fails, a check or a change answers 503 `store-unavailable`.
    #[serde(deserialize_with = "duration")]
    pub timeout: Duration,
}

impl StoreConfig {
    /// Where the store is.
    pub fn location(&self) -> StoreLocation {
        match &self.url {
            Some(url) => StoreLocation::Postgres(url.clone()),
            None => StoreLocation::Sqlite(self.path.clone()),
        }
    }

    /// How a PostgreSQL store is opened beside its URL.
    pub fn pg_options(&self) -> crate::store::PgOptions {
        crate::store::PgOptions {
            listen_url: self.listen_url.clone(),
            pool_size: Some(self.pool_size),
            unnamed_statements: !self.prepared_statements,
            op_timeout: Some(self.timeout),
        }
    }

    /// Points at `location` instead.
    pub fn set(&mut self, location: StoreLocation) {
        // The config's listening URL names the config's database, not this one.
        self.listen_url = None;
        match location {
            StoreLocation::Sqlite(path) => {
                self.path = path;
                self.url = None;
            }
            StoreLocation::Postgres(url) => self.url = Some(url),
        }
    }
}

/// Shown without the password a URL may carry.
impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreConfig({})", self.location())
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: PathBuf::from("tokenscope.db"),
            url: None,
            listen_url: None,
            pool_size: crate::store::DEFAULT_POOL_SIZE,
            prepared_statements: true,
            timeout: crate::store::DEFAULT_OP_TIMEOUT,
        }
    }
}
