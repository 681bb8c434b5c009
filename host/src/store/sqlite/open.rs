//! Opening the SQLite store: the file made owner-only (with its WAL files), the
//! connection settings (WAL, `synchronous = FULL`, foreign keys), migrations, and
//! the write connection beside a pool of read-only ones.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags};

use super::rows::Op;
use crate::store::StoreResult;
use crate::store::error::StoreError;
use crate::store::migrations::MIGRATIONS;

/// The SQLite backend of `Store`.
pub struct SqliteStore {
    pub(super) conn: Mutex<Connection>,
    pub(super) readers: Vec<Mutex<Connection>>,
    /// Which reader the next caller waits for when every one is busy (round robin).
    pub(super) next_reader: std::sync::atomic::AtomicUsize,
    pub(super) path: std::path::PathBuf,
}

/// Read connections: one per core and two more, so a check rarely waits even for another reader.
fn reader_count() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get) + 2
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    /// The file is created readable by its owner only (0600), and SQLite gives its
    /// `-wal` and `-shm` files the same mode; a store others could read is made 0600.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        let opened = owner_only(path)
            .map_err(|e| StoreError::backend("create the store file with mode 0600", e))
            .and_then(|()| Connection::open(path).op("open the store file"))
            .and_then(|conn| Self::setup(conn, path));
        opened.map_err(|error| StoreError::Open { path: path.to_path_buf(), error: Box::new(error) })
    }

    /// Opens an existing store only; a missing file is an error.
    pub fn open_existing(path: &Path) -> StoreResult<SqliteStore> {
        if !path.is_file() {
            return Err(StoreError::Missing(path.to_path_buf()));
        }
        Self::open(path)
    }

    fn setup(conn: Connection, path: &Path) -> StoreResult<SqliteStore> {
        conn.busy_timeout(std::time::Duration::from_secs(5)).op("set the busy timeout")?;
        conn.pragma_update(None, "journal_mode", "WAL").op("switch to WAL")?;
        conn.pragma_update(None, "synchronous", "FULL").op("set synchronous = FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON").op("turn on foreign keys")?;
        let mut store = SqliteStore {
            conn: Mutex::new(conn),
            readers: Vec::new(),
            next_reader: std::sync::atomic::AtomicUsize::new(0),
            path: path.to_path_buf(),
        };
        store.migrate()?;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        for _ in 0..reader_count() {
            let reader = Connection::open_with_flags(path, flags).op("open a read connection")?;
            reader.busy_timeout(std::time::Duration::from_secs(5)).op("set the busy timeout")?;
            store.readers.push(Mutex::new(reader));
        }
        Ok(store)
    }

    fn migrate(&self) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let version: usize =
            conn.pragma_query_value(None, "user_version", |r| r.get(0)).op("read the schema version")?;
        if version > MIGRATIONS.len() {
            return Err(StoreError::NewerSchema { found: version, known: MIGRATIONS.len() });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = conn.transaction().op("begin a migration")?;
            tx.execute_batch(sql).op("apply a migration")?;
            tx.pragma_update(None, "user_version", index + 1).op("record the schema version")?;
            tx.commit().op("commit a migration")?;
        }
        Ok(())
    }

    pub(super) fn conn(&self) -> StoreResult<MutexGuard<'_, Connection>> {
        Ok(crate::locks::lock(&self.conn, "SQLite write connection"))
    }

    /// A free read connection, or (all busy) one to wait for: never the writer.
    pub(super) fn reader(&self) -> StoreResult<MutexGuard<'_, Connection>> {
        for reader in &self.readers {
            if let Ok(guard) = reader.try_lock() {
                return Ok(guard);
            }
        }
        // Waiters are spread over the readers in turn, not piled onto one.
        let index = self.next_reader.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.readers.len().max(1);
        match self.readers.get(index) {
            Some(reader) => Ok(crate::locks::lock(reader, "SQLite read connection")),
            None => self.conn(),
        }
    }
}

/// Creates `path` with mode 0600 if it is missing; narrows an existing file to 0600.
fn owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file =
        std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600).open(path)?;
    let mode = file.metadata()?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(path = %path.display(), "the store was readable by others: setting mode 0600");
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    for suffix in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let side = Path::new(&side);
        if side.exists() {
            std::fs::set_permissions(side, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}
