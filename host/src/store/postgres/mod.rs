//! The fleet store: one PostgreSQL database shared by any number of hosts,
//! through a `deadpool-postgres` pool of `tokio-postgres` connections. The
//! `Store` trait is synchronous, so every operation runs on the store's own
//! small runtime and the caller waits for its answer, bounded by `store.timeout`
//! (`DEFAULT_OP_TIMEOUT`).

mod audit;
mod copy;
mod fleet;
mod listen;
mod queries;
mod rows;
mod schema;
mod sql;
mod store;

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use super::{StoreError, StoreResult};

/// The longest one store operation may take before it fails (`store-unavailable`)
/// unless `store.timeout` says otherwise.
pub const DEFAULT_OP_TIMEOUT: Duration = Duration::from_secs(5);
/// How long opening a connection may take (unless the URL says `connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How a host reaches a fleet's database beside its URL.
#[derive(Clone, Debug, Default)]
pub struct PgOptions {
    /// Where the listening connection goes instead of the URL (`store.listen_url`).
    pub listen_url: Option<String>,
    /// The pool's connections (`store.pool_size`); `None`: `DEFAULT_POOL_SIZE`.
    pub pool_size: Option<usize>,
    /// Send every statement unnamed instead of preparing it once per
    /// connection (`store.prepared_statements = false`): for a transaction
    /// pooler that cannot keep prepared statements (see `sql.rs`).
    pub unnamed_statements: bool,
    /// The longest one operation may take (`store.timeout`); `None`: `DEFAULT_OP_TIMEOUT`.
    pub op_timeout: Option<Duration>,
}

/// The pool's connections per host unless `store.pool_size` says otherwise:
/// with the listening connection, five per host, so about twenty hosts fit
/// PostgreSQL's default `max_connections` of 100 (past that, a pooler).
pub const DEFAULT_POOL_SIZE: usize = 4;

/// The PostgreSQL backend of `Store`.
pub struct PgStore {
    pool: Pool,
    /// Where the listening connection goes: the database itself, which a
    /// transaction pooler in front of the pool's connections would not do.
    listen: tokio_postgres::Config,
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    shown: String,
    /// `PgOptions::unnamed_statements`, for every operation's task.
    unnamed: bool,
    /// The longest one operation may take.
    op_timeout: Duration,
}

impl PgStore {
    /// Connects to the database at `url` and brings its schema up to date
    /// (under an advisory lock, so hosts starting together migrate once).
    pub fn open(url: &str) -> StoreResult<PgStore> {
        Self::open_with(url, &PgOptions::default())
    }

    /// `open`, with the listening connection to `options.listen_url` when
    /// given (the database itself, when `url` goes through a pooler) and
    /// `options.pool_size` connections in the pool.
    pub fn open_with(url: &str, options: &PgOptions) -> StoreResult<PgStore> {
        let shown = redacted(url);
        Self::connect(url, options, &shown)
            .map_err(|error| StoreError::Open { path: PathBuf::from(&shown), error: Box::new(error) })
    }

    fn connect(url: &str, options: &PgOptions, shown: &str) -> StoreResult<PgStore> {
        let config = connection_config(url, "read the PostgreSQL URL")?;
        let listen = match options.listen_url.as_deref() {
            Some(listen) => connection_config(listen, "read store.listen_url")?,
            None => config.clone(),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tokenscope-store")
            .enable_all()
            .build()
            .map_err(|e| StoreError::backend("start the store's runtime", e))?;
        let manager =
            Manager::from_config(config.clone(), NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let op_timeout = options.op_timeout.unwrap_or(DEFAULT_OP_TIMEOUT);
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.unwrap_or(DEFAULT_POOL_SIZE).max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(op_timeout))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| StoreError::backend("make the connection pool", e))?;
        let handle = runtime.handle().clone();
        let store = PgStore {
            pool,
            listen,
            runtime: Some(runtime),
            handle,
            shown: shown.to_owned(),
            unnamed: options.unnamed_statements,
            op_timeout,
        };
        store.run("bring the schema up to date", schema::migrate)?;
        Ok(store)
    }

    /// Runs `work` on the store's runtime with a pooled connection, waiting
    /// for its answer (this blocks the calling thread, as a SQLite call does).
    fn run<T, F>(&self, op: &'static str, work: impl FnOnce(Pool) -> F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: Future<Output = StoreResult<T>> + Send + 'static,
    {
        self.run_for(op, self.op_timeout, work)
    }

    /// `run` with another bound (whole-store copies).
    fn run_for<T, F>(&self, op: &'static str, bound: Duration, work: impl FnOnce(Pool) -> F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: Future<Output = StoreResult<T>> + Send + 'static,
    {
        let future = work(self.pool.clone());
        let (answer, answered) = std::sync::mpsc::sync_channel(1);
        self.handle.spawn(sql::UNNAMED.scope(self.unnamed, async move {
            let result = match tokio::time::timeout(bound, future).await {
                Ok(result) => result,
                Err(_) => Err(StoreError::backend(op, format!("no answer within {} s", bound.as_secs()))),
            };
            // The caller waits on the other end; it is never dropped first.
            let _ = answer.send(result);
        }));
        answered.recv().map_err(|_| StoreError::backend(op, "the store's runtime stopped"))?
    }

    /// The database, as logs may show it (no password).
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which an async caller must not do.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A connection's settings from `url`, with our timeouts, name and keepalives.
fn connection_config(url: &str, op: &'static str) -> StoreResult<tokio_postgres::Config> {
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| StoreError::backend(op, e))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    config.application_name("tokenscope");
    config.keepalives(true).keepalives_idle(Duration::from_secs(10));
    Ok(config)
}

/// A pooled connection, or why there is none.
async fn client(pool: &Pool, op: &'static str) -> StoreResult<deadpool_postgres::Object> {
    pool.get().await.map_err(|e| StoreError::backend(op, chain(&e)))
}

/// An error with its causes (`db error: role "x" does not exist`): the pool's
/// and the driver's own messages say little without them. Database messages
/// name roles and databases, never a password.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(inner) = cause {
        let said = inner.to_string();
        if !text.ends_with(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = inner.source();
    }
    text
}

/// Names the operation a PostgreSQL error came from.
trait Op<T> {
    fn op(self, op: &'static str) -> StoreResult<T>;
}

impl<T> Op<T> for Result<T, tokio_postgres::Error> {
    fn op(self, op: &'static str) -> StoreResult<T> {
        self.map_err(|e| StoreError::backend(op, chain(&e)))
    }
}

/// `url` with any password (in the user part or as a `password=` parameter) left out.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return "postgres://(unreadable URL)".to_owned() };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => format!("{}@{host}", user.split(':').next().unwrap_or("")),
        None => authority.to_owned(),
    };
    let query = query
        .map(|q| {
            q.split('&')
                .filter(|pair| !pair.to_ascii_lowercase().starts_with("password="))
                .collect::<Vec<_>>()
                .join("&")
        })
        .filter(|q| !q.is_empty())
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    format!("{scheme}://{authority}{path}{query}")
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn passwords_are_left_out_wherever_the_url_carries_them() {
        assert_eq!(redacted("postgres://ts:pw@h:5432/db"), "postgres://ts@h:5432/db");
        assert_eq!(redacted("postgres://ts:p@w@h/db?password=x&sslmode=disable"), "postgres://ts@h/db?sslmode=disable");
        assert_eq!(redacted("postgresql://h/db?PASSWORD=x"), "postgresql://h/db");
        assert_eq!(redacted("garbage:pw"), "postgres://(unreadable URL)");
    }
}
