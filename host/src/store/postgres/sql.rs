//! How the fleet store sends a statement: one round trip with an unnamed
//! statement whose parameters carry their PostgreSQL types (`query_typed`).
//! Nothing is prepared by name, so the pool's connections may go through a
//! transaction pooler (pgbouncer) that hands each transaction to any server.

use std::future::Future;

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Error, GenericClient, Row};

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

fn typed<'a>(params: &'a [&'a dyn Param]) -> Vec<(&'a (dyn ToSql + Sync), Type)> {
    params.iter().map(|p| p.typed()).collect()
}

/// The statements the store sends on a connection or inside a transaction.
pub trait Sql {
    /// Every row `sql` returns.
    fn rows(&self, sql: &str, params: &[&dyn Param]) -> impl Future<Output = Result<Vec<Row>, Error>> + Send;
    /// The one row `sql` returns (an error when there are none or more).
    fn row(&self, sql: &str, params: &[&dyn Param]) -> impl Future<Output = Result<Row, Error>> + Send;
    /// The row `sql` returns, if any (an error when there are more).
    fn maybe_row(&self, sql: &str, params: &[&dyn Param]) -> impl Future<Output = Result<Option<Row>, Error>> + Send;
    /// Runs `sql`: how many rows it changed.
    fn exec(&self, sql: &str, params: &[&dyn Param]) -> impl Future<Output = Result<u64, Error>> + Send;
}

impl<C: GenericClient + Sync> Sql for C {
    async fn rows(&self, sql: &str, params: &[&dyn Param]) -> Result<Vec<Row>, Error> {
        self.query_typed(sql, &typed(params)).await
    }

    async fn row(&self, sql: &str, params: &[&dyn Param]) -> Result<Row, Error> {
        self.query_typed_one(sql, &typed(params)).await
    }

    async fn maybe_row(&self, sql: &str, params: &[&dyn Param]) -> Result<Option<Row>, Error> {
        self.query_typed_opt(sql, &typed(params)).await
    }

    async fn exec(&self, sql: &str, params: &[&dyn Param]) -> Result<u64, Error> {
        self.execute_typed(sql, &typed(params)).await
    }
}
