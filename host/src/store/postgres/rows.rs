//! Reading rows and writing parameters: ids and counts are BIGINT, times are
//! BIGINT unix seconds, hashes BYTEA, grants the same JSON text as in SQLite.

use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

use crate::store::{LeakRecord, StoreError, StoreResult, StoredGrants, TokenOrigin, TokenRecord};
use crate::time::UnixTime;

/// The token columns every token query selects, in `token`'s order.
pub(in crate::store) use crate::store::sqlite::{AFTER_TOKEN_COLUMNS, TOKEN_COLUMNS};

/// Column `index` of `row`, or why it cannot be read.
pub fn get<'a, T: FromSql<'a>>(row: &'a Row, index: usize, what: &'static str) -> StoreResult<T> {
    row.try_get(index).map_err(|e| StoreError::Unreadable { what, detail: e.to_string() })
}

/// A time as stored; one past `i64::MAX` cannot be.
pub fn secs(time: UnixTime) -> StoreResult<i64> {
    i64::try_from(time.secs()).map_err(|_| StoreError::OutOfRange(format!("time {}", time.secs())))
}

/// An optional time as stored.
pub fn opt_secs(time: Option<UnixTime>) -> StoreResult<Option<i64>> {
    time.map(secs).transpose()
}

/// A stored time; a negative one reads as the epoch (long past).
pub fn time(seconds: i64) -> UnixTime {
    UnixTime::from_secs(u64::try_from(seconds).unwrap_or(0))
}

/// A stored count; a negative one (never written by us) reads as 0.
pub fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A count as stored.
pub fn to_i64(what: &str, value: u64) -> StoreResult<i64> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange(format!("{what} {value}")))
}

/// A stored secret hash (the store's one reading of it).
pub(in crate::store) use crate::store::types::stored_hash as hash;

/// A row of `TOKEN_COLUMNS`.
pub fn token(row: &Row) -> StoreResult<TokenRecord> {
    const WHAT: &str = "token";
    let grants: String = get(row, 6, WHAT)?;
    let grants = serde_json::from_str::<StoredGrants>(&grants)
        .map_err(|e| StoreError::Unreadable { what: "token grant list", detail: e.to_string() })?;
    Ok(TokenRecord {
        id: crate::ids::TokenId::new(get(row, 0, WHAT)?),
        owner: crate::ids::PrincipalId::new(get(row, 1, WHAT)?),
        owner_name: get(row, 2, WHAT)?,
        name: get(row, 3, WHAT)?,
        description: get(row, 4, WHAT)?,
        hint: get(row, 5, WHAT)?,
        grants,
        created_at: time(get(row, 7, WHAT)?),
        expires_at: get::<Option<i64>>(row, 8, WHAT)?.map(time),
        revoked_at: get::<Option<i64>>(row, 9, WHAT)?.map(time),
        use_count: count(get(row, 10, WHAT)?),
        last_used_at: get::<Option<i64>>(row, 11, WHAT)?.map(time),
        last_warned_at: get::<Option<i64>>(row, 12, WHAT)?.map(time),
        revision: count(get(row, 13, WHAT)?),
        origin: get::<Option<String>>(row, 14, WHAT)?.map(|text| TokenOrigin::from_text(&text)).transpose()?,
        leak: get::<Option<String>>(row, 15, WHAT)?.map(|text| LeakRecord::from_text(&text)).transpose()?,
    })
}
