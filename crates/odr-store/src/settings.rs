//! Values every process of one deployment must agree on, such as a generated
//! signing secret: the first process to write one wins and all others read
//! that value, even when several start at the same moment.

use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, RunQueryDsl};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::pool::Store;
use crate::schema::settings;

pub fn get(conn: &mut DbConnection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(settings::table
        .find(key)
        .select(settings::value)
        .first(conn)
        .optional()?)
}

/// The stored value for `key`; if there is none yet, stores `make()` unless
/// another process got there first, and returns whichever value won.
pub fn get_or_insert_with(
    store: &Store,
    key: &str,
    make: impl FnOnce() -> String,
) -> Result<String, StoreError> {
    store.with_conn(|conn| {
        if let Some(value) = get(conn, key)? {
            return Ok(value);
        }
        let row = (
            settings::key.eq(key),
            settings::value.eq(make()),
            settings::created_at.eq(chrono::Utc::now().naive_utc()),
        );
        // Upserts are not part of MultiConnection's common SQL; both
        // backends spell this one the same way through their own connection.
        let insert = diesel::insert_into(settings::table).values(row);
        match conn {
            DbConnection::Postgresql(pg) => insert.on_conflict_do_nothing().execute(pg)?,
            DbConnection::Sqlite(lite) => insert.on_conflict_do_nothing().execute(lite)?,
        };
        get(conn, key)?.ok_or(StoreError::NotFound)
    })
}
