//! The embedded store: one SQLite file in WAL mode with `synchronous = FULL`, so a
//! token is on disk before its secret is shown; migrations from `migrations.rs`.
//! Writes go through one connection; reads through a pool of read-only
//! connections, so a check never waits for a writer (WAL readers are not blocked
//! by a write lock, ours or another process's).

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::types::{FromSql, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, Row, ToSql, params};

use super::error::StoreError;
use super::migrations::MIGRATIONS;
use super::snapshot::{Snapshot, StoredLink, StoredToken};
use super::types::{
    Binding, Changes, Edited, ExchangeOnce, Exchanged, Guarded, NewToken, Principal, PrincipalId, PrincipalsGuard,
    StoredGrants, TokenEdit, TokenId, TokenOrigin, TokenRecord, UsageDelta, stored_hash,
};
use super::{Store, StoreResult, StoreSignal, Watch};
use crate::secret::SecretHash;
use crate::time::UnixTime;

/// The SQLite backend of `Store`.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    /// Which reader the next caller waits for when every one is busy (round robin).
    next_reader: std::sync::atomic::AtomicUsize,
    path: std::path::PathBuf,
}

/// Read connections: one per core and two more, so a check rarely waits even for another reader.
fn reader_count() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get) + 2
}

pub(super) const TOKEN_COLUMNS: &str = "t.id, t.owner_id, p.name, t.name, t.description, t.hint, t.grants, t.created_at, \
     t.expires_at, t.revoked_at, t.use_count, t.last_used_at, t.last_warned_at, t.revision, t.origin";

/// Names the operation a SQLite error came from.
trait Op<T> {
    fn op(self, op: &'static str) -> StoreResult<T>;
}

impl<T> Op<T> for rusqlite::Result<T> {
    fn op(self, op: &'static str) -> StoreResult<T> {
        self.map_err(|e| StoreError::backend(op, e))
    }
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

    fn conn(&self) -> StoreResult<MutexGuard<'_, Connection>> {
        Ok(crate::locks::lock(&self.conn, "SQLite write connection"))
    }

    /// A free read connection, or (all busy) one to wait for: never the writer.
    fn reader(&self) -> StoreResult<MutexGuard<'_, Connection>> {
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

    fn bindings_of(conn: &Connection, id: PrincipalId) -> StoreResult<Vec<Binding>> {
        let mut stmt = conn
            .prepare_cached("SELECT binding FROM bindings WHERE principal_id = ?1 ORDER BY binding")
            .op("read bindings")?;
        let texts = stmt.query_map([id], |r| r.get::<_, String>(0)).op("read bindings")?;
        texts.map(|text| Binding::from_text(&text.op("read bindings")?)).collect()
    }

    fn principal_where(&self, clause: &str, value: &dyn ToSql) -> StoreResult<Option<Principal>> {
        let conn = self.reader()?;
        let sql = format!("SELECT id, name, created_at FROM principals WHERE {clause}");
        let found = conn
            .query_row(&sql, [value], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()
            .op("look up a principal")?;
        let Some((id, name, created_at)) = found else { return Ok(None) };
        let bindings = Self::bindings_of(&conn, id)?;
        Ok(Some(Principal { id, name, created_at, bindings }))
    }

    /// Stores `token` on `conn` (inside the caller's transaction): its id.
    fn insert_on(conn: &Connection, token: &NewToken) -> StoreResult<TokenId> {
        const OP: &str = "store a token";
        let mut stmt = conn
            .prepare_cached(
                "INSERT INTO tokens (owner_id, name, description, secret_sha256, hint, grants, created_at, expires_at,
                    origin)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .op(OP)?;
        let grants = serde_json::to_string(&token.grants).map_err(|e| StoreError::backend(OP, e))?;
        stmt.execute(params![
            token.owner,
            token.name,
            token.description,
            &token.hash.0[..],
            token.hint,
            grants,
            token.created_at,
            token.expires_at,
            token.origin.as_ref().map(TokenOrigin::to_text).transpose()?,
        ])
        .op(OP)?;
        Ok(TokenId::new(conn.last_insert_rowid()))
    }

    /// Every principal with its bindings, by name, as `conn` sees them.
    fn principals_on(conn: &Connection) -> StoreResult<Vec<Principal>> {
        const OP: &str = "list principals";
        let mut stmt = conn.prepare_cached("SELECT id, name, created_at FROM principals ORDER BY name").op(OP)?;
        let rows: Vec<(PrincipalId, String, UnixTime)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .op(OP)?
            .collect::<rusqlite::Result<_>>()
            .op(OP)?;
        rows.into_iter()
            .map(|(id, name, created_at)| {
                Ok(Principal { id, name, created_at, bindings: Self::bindings_of(conn, id)? })
            })
            .collect()
    }

    fn tokens_where(&self, clause: &str, params: &[&dyn ToSql]) -> StoreResult<Vec<TokenRecord>> {
        let conn = self.reader()?;
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens t JOIN principals p ON p.id = t.owner_id WHERE {clause}");
        let mut stmt = conn.prepare_cached(&sql).op("list tokens")?;
        let rows = stmt.query_map(params, token_row).op("list tokens")?;
        rows.map(|r| r.op("list tokens")?).collect()
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

/// Ids are INTEGER row ids.
macro_rules! sql_id {
    ($($id:ident),*) => {$(
        impl ToSql for $id {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.get()))
            }
        }

        impl FromSql for $id {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                i64::column_result(value).map($id::new)
            }
        }
    )*};
}

sql_id!(PrincipalId, TokenId);

/// Times are INTEGER unix seconds; one past `i64::MAX` cannot be stored.
impl ToSql for UnixTime {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        let seconds = i64::try_from(self.secs()).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(ToSqlOutput::from(seconds))
    }
}

/// A negative stored time reads as the epoch: long past, so never "not yet expired".
impl FromSql for UnixTime {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        i64::column_result(value).map(|s| UnixTime::from_secs(u64::try_from(s).unwrap_or(0)))
    }
}

/// Counts are INTEGER; a negative one (never written by us) reads as 0.
fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn to_i64(what: &str, value: u64) -> StoreResult<i64> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange(format!("{what} {value}")))
}

fn token_row(r: &Row<'_>) -> rusqlite::Result<StoreResult<TokenRecord>> {
    let grants_text: String = r.get(6)?;
    let grants = serde_json::from_str::<StoredGrants>(&grants_text)
        .map_err(|e| StoreError::Unreadable { what: "token grant list", detail: e.to_string() });
    let record = TokenRecord {
        id: r.get(0)?,
        owner: r.get(1)?,
        owner_name: r.get(2)?,
        name: r.get(3)?,
        description: r.get(4)?,
        hint: r.get(5)?,
        grants: StoredGrants::Scopes(Vec::new()),
        created_at: r.get(7)?,
        expires_at: r.get(8)?,
        revoked_at: r.get(9)?,
        use_count: count(r.get(10)?),
        last_used_at: r.get(11)?,
        last_warned_at: r.get(12)?,
        revision: count(r.get(13)?),
        origin: None,
    };
    let origin = r.get::<_, Option<String>>(14)?.map(|text| TokenOrigin::from_text(&text)).transpose();
    Ok(grants.and_then(|grants| Ok(TokenRecord { grants, origin: origin?, ..record })))
}

/// Whether `err` is a UNIQUE (or other constraint) violation.
fn is_constraint(err: &rusqlite::Error) -> bool {
    matches!(err, rusqlite::Error::SqliteFailure(e, _) if e.code == ErrorCode::ConstraintViolation)
}

impl Store for SqliteStore {
    fn add_principal(&self, name: &str, now: UnixTime) -> StoreResult<Principal> {
        let conn = self.conn()?;
        // The next number of the counter: ids are never handed out again.
        let sql = "INSERT INTO principals (id, name, created_at) \
                   VALUES ((SELECT last + 1 FROM principal_ids WHERE id = 1), ?1, ?2)";
        match conn.execute(sql, params![name, now]) {
            Ok(_) => {}
            Err(err) if is_constraint(&err) => return Err(StoreError::PrincipalExists(name.to_owned())),
            Err(err) => return Err(StoreError::backend("add a principal", err)),
        }
        let id = PrincipalId::new(conn.last_insert_rowid());
        Ok(Principal { id, name: name.to_owned(), created_at: now, bindings: Vec::new() })
    }

    fn principal(&self, name: &str) -> StoreResult<Option<Principal>> {
        self.principal_where("name = ?1", &name)
    }

    fn principal_by_id(&self, id: PrincipalId) -> StoreResult<Option<Principal>> {
        self.principal_where("id = ?1", &id)
    }

    fn principals(&self) -> StoreResult<Vec<Principal>> {
        Self::principals_on(&*self.reader()?)
    }

    fn remove_principal(&self, name: &str, guard: &PrincipalsGuard) -> StoreResult<Guarded> {
        const OP: &str = "remove a principal";
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).op(OP)?;
        let before = Self::principals_on(&tx)?;
        if tx.execute("DELETE FROM principals WHERE name = ?1", [name]).op(OP)? == 0 {
            return Ok(Guarded::Missing);
        }
        if !guard(&before, &Self::principals_on(&tx)?) {
            return Ok(Guarded::Refused);
        }
        tx.commit().op(OP)?;
        Ok(Guarded::Done)
    }

    fn bind(&self, principal: PrincipalId, binding: &Binding) -> StoreResult<()> {
        let conn = self.conn()?;
        conn.execute(
            "INSERT OR IGNORE INTO bindings (principal_id, binding) VALUES (?1, ?2)",
            params![principal, binding.to_text()],
        )
        .op("bind a principal")?;
        Ok(())
    }

    fn unbind(&self, principal: PrincipalId, bindings: &[Binding], guard: &PrincipalsGuard) -> StoreResult<Guarded> {
        const OP: &str = "unbind a principal";
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).op(OP)?;
        let before = Self::principals_on(&tx)?;
        for binding in bindings {
            let sql = "DELETE FROM bindings WHERE principal_id = ?1 AND binding = ?2";
            if tx.execute(sql, params![principal, binding.to_text()]).op(OP)? == 0 {
                return Ok(Guarded::Missing);
            }
        }
        if !guard(&before, &Self::principals_on(&tx)?) {
            return Ok(Guarded::Refused);
        }
        tx.commit().op(OP)?;
        Ok(Guarded::Done)
    }

    fn insert_token(&self, token: &NewToken) -> StoreResult<TokenId> {
        let mut ids = self.insert_tokens(std::slice::from_ref(token))?;
        ids.pop().ok_or_else(|| StoreError::backend("store a token", "no token id came back"))
    }

    fn insert_exchanged(&self, token: &NewToken, once: &ExchangeOnce, now: UnixTime) -> StoreResult<Exchanged> {
        const OP: &str = "store an exchanged token";
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).op(OP)?;
        tx.execute("DELETE FROM exchanged_identities WHERE expires_at < ?1", [now]).op(OP)?;
        let sql = "INSERT OR IGNORE INTO exchanged_identities (digest, expires_at) VALUES (?1, ?2)";
        if tx.execute(sql, params![&once.digest[..], once.until]).op(OP)? == 0 {
            return Ok(Exchanged::Replayed);
        }
        let live: i64 = tx
            .query_row(
                "SELECT COUNT(*) FROM tokens WHERE owner_id = ?1 AND origin IS NOT NULL AND revoked_at IS NULL
                 AND (expires_at IS NULL OR expires_at > ?2)",
                params![token.owner, now],
                |r| r.get(0),
            )
            .op(OP)?;
        if u64::try_from(live).unwrap_or(u64::MAX) >= u64::from(once.max_live) {
            return Ok(Exchanged::AtCapacity);
        }
        let id = Self::insert_on(&tx, token)?;
        tx.commit().op(OP)?;
        Ok(Exchanged::Stored(id))
    }

    fn insert_tokens(&self, tokens: &[NewToken]) -> StoreResult<Vec<TokenId>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction().op("begin storing tokens")?;
        let ids = tokens.iter().map(|token| Self::insert_on(&tx, token)).collect::<StoreResult<Vec<_>>>()?;
        tx.commit().op("commit new tokens")?;
        Ok(ids)
    }

    fn token(&self, id: TokenId) -> StoreResult<Option<TokenRecord>> {
        Ok(self.tokens_where("t.id = ?1", &[&id])?.into_iter().next())
    }

    fn token_by_hash(&self, hash: &SecretHash) -> StoreResult<Option<TokenRecord>> {
        let conn = self.reader()?;
        let sql = format!(
            "SELECT {TOKEN_COLUMNS}, t.secret_sha256 FROM tokens t JOIN principals p ON p.id = t.owner_id \
             WHERE t.secret_sha256 = ?1"
        );
        let mut stmt = conn.prepare_cached(&sql).op("look up a token")?;
        let found = stmt
            .query_row([&hash.0[..]], |r| {
                let stored: Vec<u8> = r.get(15)?;
                Ok((token_row(r)?, stored))
            })
            .optional()
            .op("look up a token")?;
        let Some((record, stored)) = found else { return Ok(None) };
        // The index found it by hash; confirm in constant time before trusting it.
        let stored = stored_hash(stored)?;
        if !stored.matches(hash) {
            return Ok(None);
        }
        record.map(Some)
    }

    fn tokens(&self, owner: Option<PrincipalId>) -> StoreResult<Vec<TokenRecord>> {
        match owner {
            Some(owner) => self.tokens_where("t.owner_id = ?1 ORDER BY t.id", &[&owner]),
            None => self.tokens_where("1 = 1 ORDER BY t.id", &[]),
        }
    }

    fn edit_token(&self, id: TokenId, edit: &TokenEdit) -> StoreResult<Edited> {
        const OP: &str = "change a token";
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).op(OP)?;
        let revision: Option<i64> =
            tx.query_row("SELECT revision FROM tokens WHERE id = ?1", [id], |r| r.get(0)).optional().op(OP)?;
        let Some(revision) = revision else { return Ok(Edited::NotFound) };
        if edit.revision.is_some_and(|expected| Some(expected) != u64::try_from(revision).ok()) {
            return Ok(Edited::Conflict);
        }
        if let Some(name) = &edit.name {
            tx.execute("UPDATE tokens SET name = ?2 WHERE id = ?1", params![id, name]).op(OP)?;
        }
        if let Some(description) = &edit.description {
            tx.execute("UPDATE tokens SET description = ?2 WHERE id = ?1", params![id, description]).op(OP)?;
        }
        if let Some(expires_at) = edit.expires_at {
            tx.execute(
                "UPDATE tokens SET expires_at = ?2, last_warned_at = NULL WHERE id = ?1",
                params![id, expires_at],
            )
            .op(OP)?;
        }
        if let Some((hash, hint)) = &edit.secret {
            tx.execute("UPDATE tokens SET secret_sha256 = ?2, hint = ?3 WHERE id = ?1", params![id, &hash.0[..], hint])
                .op(OP)?;
        }
        tx.execute("UPDATE tokens SET revision = revision + 1 WHERE id = ?1", [id]).op(OP)?;
        tx.commit().op("commit the token's change")?;
        Ok(Edited::Done)
    }

    fn revoke_token(&self, id: TokenId, now: UnixTime) -> StoreResult<bool> {
        let conn = self.conn()?;
        let n = conn
            .execute("UPDATE tokens SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1", params![id, now])
            .op("revoke a token")?;
        Ok(n > 0)
    }

    fn delete_token(&self, id: TokenId) -> StoreResult<bool> {
        let conn = self.conn()?;
        Ok(conn.execute("DELETE FROM tokens WHERE id = ?1", [id]).op("delete a token")? > 0)
    }

    fn expiring(&self, now: UnixTime, before: UnixTime) -> StoreResult<Vec<TokenRecord>> {
        self.tokens_where(
            "t.revoked_at IS NULL AND t.expires_at > ?1 AND t.expires_at <= ?2 ORDER BY t.expires_at",
            &[&now, &before],
        )
    }

    fn claim_warning(&self, id: TokenId, now: UnixTime, not_since: UnixTime) -> StoreResult<bool> {
        let conn = self.conn()?;
        let n = conn
            .execute(
                "UPDATE tokens SET last_warned_at = ?2
                 WHERE id = ?1 AND (last_warned_at IS NULL OR last_warned_at <= ?3)",
                params![id, now, not_since],
            )
            .op("record a warning")?;
        Ok(n > 0)
    }

    fn add_usage(&self, deltas: &[UsageDelta]) -> StoreResult<()> {
        const OP: &str = "write usage counts";
        let mut conn = self.conn()?;
        let tx = conn.transaction().op(OP)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE tokens SET use_count = use_count + ?2,
                        last_used_at = max(coalesce(last_used_at, 0), ?3) WHERE id = ?1",
                )
                .op(OP)?;
            for d in deltas {
                stmt.execute(params![d.token, to_i64("a use count", d.uses)?, d.last_used_at]).op(OP)?;
            }
        }
        tx.commit().op(OP)
    }

    /// A commit by any process writes the `-wal` file (or, after a checkpoint, the
    /// database file): a watch on their directory hears of it within milliseconds.
    fn watch(&self, signal: Arc<dyn Fn(StoreSignal) + Send + Sync>) -> StoreResult<Option<Watch>> {
        let changed = move || signal(StoreSignal::Changed { sent_ms: None });
        use notify::{EventKind, RecursiveMode, Watcher};
        let dir = self.path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
        let Some(name) = self.path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            return Ok(None);
        };
        let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return changed() };
            let ours = event
                .paths
                .iter()
                .any(|p| p.file_name().map(|n| n.to_string_lossy()).is_some_and(|n| n.starts_with(name.as_str())));
            if ours && matches!(event.kind, EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)) {
                changed();
            }
        })
        .map_err(|e| StoreError::backend("watch the store for changes", e))?;
        watcher
            .watch(&dir, RecursiveMode::NonRecursive)
            .map_err(|e| StoreError::backend("watch the store for changes", e))?;
        Ok(Some(Watch::new(watcher)))
    }

    fn add_sign_in_link(
        &self,
        hash: &SecretHash,
        principal: PrincipalId,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> StoreResult<()> {
        const OP: &str = "store a sign-in link";
        let mut conn = self.conn()?;
        let tx = conn.transaction().op(OP)?;
        tx.execute("DELETE FROM sign_in_links WHERE expires_at < ?1", [now.secs().saturating_sub(86_400)]).op(OP)?;
        tx.execute(
            "INSERT INTO sign_in_links (secret_sha256, principal_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![hash.0.as_slice(), principal, now, expires_at],
        )
        .op(OP)?;
        tx.commit().op(OP)
    }

    fn use_sign_in_link(&self, hash: &SecretHash, now: UnixTime) -> StoreResult<Option<PrincipalId>> {
        let conn = self.conn()?;
        conn.query_row(
            "UPDATE sign_in_links SET used_at = ?2
             WHERE secret_sha256 = ?1 AND used_at IS NULL AND expires_at > ?2 RETURNING principal_id",
            params![hash.0.as_slice(), now],
            |r| r.get::<_, PrincipalId>(0),
        )
        .optional()
        .op("use a sign-in link")
    }

    fn change_head(&self) -> StoreResult<u64> {
        let conn = self.reader()?;
        let head: i64 = conn
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM change_log")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .op("read the change feed's head")?;
        Ok(count(head))
    }

    fn changes_since(&self, cursor: u64, limit: usize) -> StoreResult<Changes> {
        let conn = self.reader()?;
        let after = to_i64("cursor", cursor)?;
        let oldest: Option<i64> = conn
            .prepare_cached("SELECT min(seq) FROM change_log")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .op("read the change feed")?;
        let mut changes = Changes {
            cursor,
            reset: oldest.is_some_and(|oldest| oldest > after.saturating_add(1)),
            ..Changes::default()
        };
        let mut stmt = conn
            .prepare_cached("SELECT seq, secret_sha256, principal FROM change_log WHERE seq > ?1 ORDER BY seq LIMIT ?2")
            .op("read the change feed")?;
        let rows = stmt
            .query_map(
                rusqlite::params![after, to_i64("limit", u64::try_from(limit).unwrap_or(u64::MAX))?.saturating_add(1)],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<Vec<u8>>>(1)?, r.get::<_, Option<String>>(2)?)),
            )
            .op("read the change feed")?;
        for (taken, row) in rows.enumerate() {
            let (seq, hash, principal) = row.op("read the change feed")?;
            if taken == limit {
                changes.more = true;
                break;
            }
            changes.cursor = count(seq);
            if let Some(hash) = hash {
                changes.tokens.push(stored_hash(hash)?);
            }
            if let Some(principal) = principal {
                changes.principals.push(principal);
            }
        }
        Ok(changes)
    }

    fn export(&self) -> StoreResult<Snapshot> {
        const OP: &str = "read the whole store";
        let mut conn = self.reader()?;
        // One read transaction: a consistent snapshot while writers go on.
        let tx = conn.transaction().op(OP)?;
        let mut principals = Vec::new();
        {
            let mut stmt = tx.prepare("SELECT id, name, created_at FROM principals ORDER BY id").op(OP)?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).op(OP)?;
            for row in rows {
                let (id, name, created_at) = row.op(OP)?;
                principals.push(Principal { id, name, created_at, bindings: Self::bindings_of(&tx, id)? });
            }
        }
        let mut tokens = Vec::new();
        {
            let sql = format!(
                "SELECT {TOKEN_COLUMNS}, t.secret_sha256 FROM tokens t JOIN principals p ON p.id = t.owner_id ORDER BY t.id"
            );
            let mut stmt = tx.prepare(&sql).op(OP)?;
            let rows = stmt.query_map([], |r| Ok((token_row(r)?, r.get::<_, Vec<u8>>(15)?))).op(OP)?;
            for row in rows {
                let (record, hash) = row.op(OP)?;
                tokens.push(StoredToken { record: record?, hash: stored_hash(hash)? });
            }
        }
        let mut links = Vec::new();
        {
            let mut stmt = tx
                .prepare("SELECT secret_sha256, principal_id, created_at, expires_at, used_at FROM sign_in_links ORDER BY secret_sha256")
                .op(OP)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
                .op(OP)?;
            for row in rows {
                let (hash, principal, created_at, expires_at, used_at) = row.op(OP)?;
                links.push(StoredLink { hash: stored_hash(hash)?, principal, created_at, expires_at, used_at });
            }
        }
        Ok(Snapshot { principals, tokens, links })
    }

    fn import(&self, snapshot: &Snapshot, replace: bool) -> StoreResult<()> {
        const OP: &str = "write the whole store";
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).op(OP)?;
        let held: i64 = tx
            .query_row("SELECT (SELECT count(*) FROM principals) + (SELECT count(*) FROM tokens)", [], |r| r.get(0))
            .op(OP)?;
        if held > 0 && !replace {
            return Err(StoreError::NotEmpty);
        }
        tx.execute_batch(
            "DELETE FROM sign_in_links; DELETE FROM tokens; DELETE FROM bindings; DELETE FROM principals;",
        )
        .op(OP)?;
        for p in &snapshot.principals {
            tx.execute(
                "INSERT INTO principals (id, name, created_at) VALUES (?1, ?2, ?3)",
                params![p.id, p.name, p.created_at],
            )
            .op(OP)?;
            for binding in &p.bindings {
                tx.execute(
                    "INSERT INTO bindings (principal_id, binding) VALUES (?1, ?2)",
                    params![p.id, binding.to_text()],
                )
                .op(OP)?;
            }
        }
        for StoredToken { record: t, hash } in &snapshot.tokens {
            let grants = serde_json::to_string(&t.grants).map_err(|e| StoreError::backend(OP, e))?;
            tx.execute(
                "INSERT INTO tokens (id, owner_id, name, description, secret_sha256, hint, grants, created_at, expires_at,
                    revoked_at, use_count, last_used_at, last_warned_at, revision, origin)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                params![
                    t.id,
                    t.owner,
                    t.name,
                    t.description,
                    &hash.0[..],
                    t.hint,
                    grants,
                    t.created_at,
                    t.expires_at,
                    t.revoked_at,
                    to_i64("a use count", t.use_count)?,
                    t.last_used_at,
                    t.last_warned_at,
                    to_i64("a revision", t.revision)?,
                    t.origin.as_ref().map(TokenOrigin::to_text).transpose()?,
                ],
            )
            .op(OP)?;
        }
        for link in &snapshot.links {
            tx.execute(
                "INSERT INTO sign_in_links (secret_sha256, principal_id, created_at, expires_at, used_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![&link.hash.0[..], link.principal, link.created_at, link.expires_at, link.used_at],
            )
            .op(OP)?;
        }
        tx.commit().op("commit the copy")
    }

    fn change_counter(&self) -> StoreResult<u64> {
        let conn = self.reader()?;
        let counter: i64 = conn
            .prepare_cached("SELECT counter FROM changes WHERE id = 1")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .op("read the change counter")?;
        Ok(count(counter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn at(seconds: u64) -> UnixTime {
        UnixTime::from_secs(seconds)
    }

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        (dir, store)
    }

    #[test]
    fn the_change_feed_names_old_hashes_and_principals_and_starts_over_when_it_lost_changes() {
        let (dir, store) = store();
        let alice = store.add_principal("alice", at(1)).unwrap();
        let first = Secret::generate().unwrap();
        let id = store.insert_token(&new_token(alice.id, &first)).unwrap();
        let start = store.changes_since(0, 100).unwrap();
        assert_eq!(
            (start.tokens.len(), start.principals.len(), start.reset),
            (0, 0, false),
            "a new token changes nothing cached"
        );
        store.revoke_token(id, at(20)).unwrap();
        store.bind(alice.id, &Binding::Grant("channel/main=read".into())).unwrap();
        let later = Secret::generate().unwrap();
        let other = store.insert_token(&new_token(alice.id, &later)).unwrap();
        store.delete_token(other).unwrap();
        let changes = store.changes_since(start.cursor, 100).unwrap();
        assert_eq!(changes.tokens, vec![first.hash(), later.hash()]);
        assert_eq!(changes.principals, vec!["alice".to_owned()]);
        assert!(!changes.more && !changes.reset);
        assert_eq!(store.changes_since(changes.cursor, 100).unwrap().tokens, Vec::<SecretHash>::new());
        // Two at a time: the first page says more follow, the second ends.
        let page = store.changes_since(start.cursor, 2).unwrap();
        assert_eq!((page.tokens.len() + page.principals.len(), page.more), (2, true));
        let rest = store.changes_since(page.cursor, 2).unwrap();
        assert_eq!((rest.tokens.len() + rest.principals.len(), rest.more), (1, false));
        // Past 65,536 changes the oldest are dropped, and a reader that missed them starts over.
        let conn = Connection::open(dir.path().join("t.db")).unwrap();
        conn.execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 65540) \
             INSERT INTO change_log (principal) SELECT 'bulk' FROM n;",
        )
        .unwrap();
        assert!(store.changes_since(changes.cursor, 10).unwrap().reset);
        let now = store.changes_since(changes.cursor + 65_540, 10).unwrap();
        assert!(!now.reset && now.tokens.is_empty());
        let last = store.changes_since(i64::MAX as u64, 10).unwrap();
        assert!(!last.reset && last.tokens.is_empty() && last.cursor == i64::MAX as u64);
    }

    fn new_token(owner: PrincipalId, secret: &Secret) -> NewToken {
        NewToken {
            owner,
            name: "ci".into(),
            description: String::new(),
            hash: secret.hash(),
            hint: secret.hint(),
            grants: StoredGrants::Scopes(vec!["artifact".into()]),
            created_at: at(10),
            expires_at: Some(at(100)),
            origin: None,
        }
    }

    #[test]
    fn tokens_are_found_by_hash_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let secret = Secret::generate().unwrap();
        let id = {
            let store = SqliteStore::open(&path).unwrap();
            let alice = store.add_principal("alice", at(1)).unwrap();
            store.insert_token(&new_token(alice.id, &secret)).unwrap()
        };
        let store = SqliteStore::open_existing(&path).unwrap();
        let found = store.token_by_hash(&secret.hash()).unwrap().unwrap();
        assert_eq!((found.id, found.owner_name.as_str(), found.expires_at), (id, "alice", Some(at(100))));
        assert!(store.token_by_hash(&Secret::generate().unwrap().hash()).unwrap().is_none());
    }

    #[test]
    fn lookups_do_not_wait_for_a_writer_stuck_behind_another_process() {
        let (dir, store) = store();
        let store = std::sync::Arc::new(store);
        let alice = store.add_principal("alice", at(1)).unwrap();
        let secret = Secret::generate().unwrap();
        let id = store.insert_token(&new_token(alice.id, &secret)).unwrap();
        // Another process (connection) takes the write lock and keeps it.
        let outside = Connection::open(dir.path().join("t.db")).unwrap();
        outside.execute_batch("BEGIN IMMEDIATE; UPDATE tokens SET name = 'locked';").unwrap();
        // A usage flush now waits for that lock (busy timeout) holding our writer.
        let flusher = std::sync::Arc::clone(&store);
        let flush =
            std::thread::spawn(move || flusher.add_usage(&[UsageDelta { token: id, uses: 1, last_used_at: at(2) }]));
        std::thread::sleep(std::time::Duration::from_millis(200));
        // Checks still read: the lookup answers while the flush is still blocked.
        assert_eq!(store.token_by_hash(&secret.hash()).unwrap().map(|t| t.id), Some(id));
        assert!(store.principal_by_id(alice.id).unwrap().is_some());
        assert!(!flush.is_finished(), "the flush was expected to wait for the outside writer");
        outside.execute_batch("ROLLBACK;").unwrap();
        flush.join().unwrap().unwrap();
        assert_eq!(store.token(id).unwrap().unwrap().use_count, 1);
    }

    #[test]
    fn the_store_and_its_wal_files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let (dir, store) = store();
        store.add_principal("alice", at(1)).unwrap();
        for name in ["t.db", "t.db-wal", "t.db-shm"] {
            let mode = std::fs::metadata(dir.path().join(name)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{name}: {mode:o}");
        }
    }

    #[test]
    fn reissue_revoke_usage_and_delete() {
        let (_dir, store) = store();
        let alice = store.add_principal("alice", at(1)).unwrap();
        let old = Secret::generate().unwrap();
        let id = store.insert_token(&new_token(alice.id, &old)).unwrap();
        let new = Secret::generate().unwrap();
        let reissue = TokenEdit { secret: Some((new.hash(), new.hint())), revision: Some(0), ..TokenEdit::default() };
        assert_eq!(store.edit_token(id, &reissue).unwrap(), Edited::Done);
        assert_eq!(store.edit_token(id, &reissue).unwrap(), Edited::Conflict, "revision 0 is gone");
        assert!(store.token_by_hash(&old.hash()).unwrap().is_none());
        assert_eq!(store.token_by_hash(&new.hash()).unwrap().map(|t| t.id), Some(id));
        store.add_usage(&[UsageDelta { token: id, uses: 3, last_used_at: at(50) }]).unwrap();
        store.add_usage(&[UsageDelta { token: id, uses: 2, last_used_at: at(40) }]).unwrap();
        let t = store.token(id).unwrap().unwrap();
        assert_eq!((t.use_count, t.last_used_at), (5, Some(at(50))));
        assert!(store.revoke_token(id, at(60)).unwrap());
        assert_eq!(store.token(id).unwrap().unwrap().revoked_at, Some(at(60)));
        assert!(store.delete_token(id).unwrap());
        assert!(store.token(id).unwrap().is_none());
        assert!(!store.delete_token(id).unwrap());
    }

    #[test]
    fn bindings_and_expiring() {
        let (_dir, store) = store();
        let bob = store.add_principal("bob", at(1)).unwrap();
        let ci = Binding::Role { role: "continuous-integration".into(), at: "channel/ci".into() };
        store.bind(bob.id, &ci).unwrap();
        store.bind(bob.id, &Binding::Grant("channel/main=read".into())).unwrap();
        assert_eq!(store.principal("bob").unwrap().unwrap().bindings.len(), 2);
        assert_eq!(store.unbind(bob.id, std::slice::from_ref(&ci), &super::super::unguarded()).unwrap(), Guarded::Done);
        assert_eq!(store.principal("bob").unwrap().unwrap().bindings, [Binding::Grant("channel/main=read".into())]);
        let id = store.insert_token(&new_token(bob.id, &Secret::generate().unwrap())).unwrap();
        assert_eq!(store.expiring(at(0), at(100)).unwrap().len(), 1);
        assert_eq!(store.expiring(at(0), at(99)).unwrap().len(), 0);
        store.revoke_token(id, at(5)).unwrap();
        assert_eq!(store.expiring(at(0), at(100)).unwrap().len(), 0);
        assert!(matches!(store.add_principal("bob", at(2)), Err(StoreError::PrincipalExists(_))));
        assert_eq!(store.remove_principal("bob", &super::super::unguarded()).unwrap(), Guarded::Done);
        assert!(store.token(id).unwrap().is_none(), "tokens go with their owner");
    }
}
