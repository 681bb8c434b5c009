//! How the fleet store sends a statement, the one place that decides it:
//! prepared by name once per connection and cached (the default), or, with
//! `store.prepared_statements = false`, unnamed in one round trip with its
//! parameters' types, for a transaction pooler (pgbouncer before 1.21) that
//! hands each transaction to any server connection.

use std::future::Future;

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Error, Row};

tokio::task_local! {
    /// Whether the store operation running on this task sends unnamed statements
    /// (`PgStore::run_for` sets it from `store.prepared_statements`).
    pub static UNNAMED: bool;
}

fn unnamed() -> bool {
    UNNAMED.try_with(|unnamed| *unnamed).unwrap_or(true)
}

/// A value the store sends, with the type it is sent as.
pub trait Typed: ToSql + Sync {
    const PG: Type;
}

macro_rules! typed {
    ($($rust:ty => $pg:ident),* $(,)?) => { $(impl Typed for $rust { const PG: Type = Type::$pg; })* };
}

typed!(bool => BOOL, i32 => INT4, i64 => INT8, f64 => FLOAT8, String => TEXT, &str => TEXT, Vec<u8> => BYTEA, &[u8] => BYTEA,
    Vec<i64> => INT8_ARRAY);

impl<T: Typed> Typed for Option<T> {
    const PG: Type = T::PG;
}

impl<T: Typed> Typed for &T {
    const PG: Type = T::PG;
}

/// A parameter of a statement: any `Typed` value, as a trait object.
pub trait Param: Sync {
    fn typed(&self) -> (&(dyn ToSql + Sync), Type);
}

impl<T: Typed> Param for T {
    fn typed(&self) -> (&(dyn ToSql + Sync), Type) {
        (self, T::PG)
    }
}

fn types(params: &[&dyn Param]) -> Vec<Type> {
    params.iter().map(|p| p.typed().1).collect()
}

fn values<'a>(params: &'a [&'a dyn Param]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|p| p.typed().0).collect()
}

fn typed<'a>(params: &'a [&'a dyn Param]) -> Vec<(&'a (dyn ToSql + Sync), Type)> {
    params.iter().map(|p| p.typed()).collect()
}

/// The statements the store sends on a pooled connection or inside a transaction.
pub trait Sql: Sync {
    /// Every row `sql` returns.
    fn rows(&self, sql: &str, params: &[&dyn Param]) -> impl Future<Output = Result<Vec<Row>, Error>> + Send;
    /// The one row `sql` returns (an error when there are none or more).
    fn row(&self, sql: &str, params: &[&dyn Param]) -> impl Future<Output = Result<Row, Error>> + Send;
    /// The row `sql` returns, if any (an error when there are more).
    fn maybe_row(&self, sql: &str, params: &[&dyn Param]) -> impl Future<Output = Result<Option<Row>, Error>> + Send;
    /// Runs `sql`: how many rows it changed.
    fn exec(&self, sql: &str, params: &[&dyn Param]) -> impl Future<Output = Result<u64, Error>> + Send;
}

// The one place that calls the driver's statement methods (clippy refuses them
// elsewhere): each either prepares through the connection's cache or goes unnamed.
macro_rules! sql_on {
    ($on:ty) => {
        #[allow(clippy::disallowed_methods)]
        impl Sql for $on {
            async fn rows(&self, sql: &str, params: &[&dyn Param]) -> Result<Vec<Row>, Error> {
                if unnamed() {
                    return self.query_typed(sql, &typed(params)).await;
                }
                let statement = self.prepare_typed_cached(sql, &types(params)).await?;
                self.query(&statement, &values(params)).await
            }

            async fn row(&self, sql: &str, params: &[&dyn Param]) -> Result<Row, Error> {
                if unnamed() {
                    return self.query_typed_one(sql, &typed(params)).await;
                }
                let statement = self.prepare_typed_cached(sql, &types(params)).await?;
                self.query_one(&statement, &values(params)).await
            }

            async fn maybe_row(&self, sql: &str, params: &[&dyn Param]) -> Result<Option<Row>, Error> {
                if unnamed() {
                    return self.query_typed_opt(sql, &typed(params)).await;
                }
                let statement = self.prepare_typed_cached(sql, &types(params)).await?;
                self.query_opt(&statement, &values(params)).await
            }

            async fn exec(&self, sql: &str, params: &[&dyn Param]) -> Result<u64, Error> {
                if unnamed() {
                    return self.execute_typed(sql, &typed(params)).await;
                }
                let statement = self.prepare_typed_cached(sql, &types(params)).await?;
                self.execute(&statement, &values(params)).await
            }
        }
    };
}

sql_on!(deadpool_postgres::ClientWrapper);
sql_on!(deadpool_postgres::Transaction<'_>);
