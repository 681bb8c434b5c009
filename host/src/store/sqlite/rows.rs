//! How rows and values cross into SQLite: ids and times as INTEGER, a token's
//! columns and its row, counts and their bounds, and errors named by operation.

use rusqlite::types::{FromSql, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{ErrorCode, Row, ToSql};

use crate::store::StoreResult;
use crate::store::error::StoreError;
use crate::store::types::{LeakRecord, PrincipalId, StoredGrants, TokenId, TokenOrigin, TokenRecord};
use crate::time::UnixTime;

pub(in crate::store) const TOKEN_COLUMNS: &str = "t.id, t.owner_id, p.name, t.name, t.description, t.hint, t.grants, t.created_at, \
     t.expires_at, t.revoked_at, t.use_count, t.last_used_at, t.last_warned_at, t.revision, t.origin, t.leak";

/// The index of a column selected after `TOKEN_COLUMNS` (how many it names).
pub(in crate::store) const AFTER_TOKEN_COLUMNS: usize = 16;

/// Names the operation a SQLite error came from.
pub(super) trait Op<T> {
    fn op(self, op: &'static str) -> StoreResult<T>;
}

impl<T> Op<T> for rusqlite::Result<T> {
    fn op(self, op: &'static str) -> StoreResult<T> {
        self.map_err(|e| StoreError::backend(op, e))
    }
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
pub(super) fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

pub(super) fn to_i64(what: &str, value: u64) -> StoreResult<i64> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange(format!("{what} {value}")))
}

pub(super) fn token_row(r: &Row<'_>) -> rusqlite::Result<StoreResult<TokenRecord>> {
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
        leak: None,
    };
    let origin = r.get::<_, Option<String>>(14)?.map(|text| TokenOrigin::from_text(&text)).transpose();
    let leak = r.get::<_, Option<String>>(15)?.map(|text| LeakRecord::from_text(&text)).transpose();
    Ok(grants.and_then(|grants| Ok(TokenRecord { grants, origin: origin?, leak: leak?, ..record })))
}

/// Whether `err` is a UNIQUE (or other constraint) violation.
pub(super) fn is_constraint(err: &rusqlite::Error) -> bool {
    matches!(err, rusqlite::Error::SqliteFailure(e, _) if e.code == ErrorCode::ConstraintViolation)
}

#[cfg(test)]
mod tests {
    #[test]
    fn after_token_columns_counts_them() {
        assert_eq!(super::TOKEN_COLUMNS.split(',').count(), super::AFTER_TOKEN_COLUMNS);
    }
}
