use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use chrono::Utc;
use diesel::sql_types::{Text, Timestamp};
use diesel::{ExpressionMethods, QueryDsl, QueryableByName, RunQueryDsl};
use odr_store::schema::settings;
use odr_store::{DbConnection, Store, StoreError};

fn insert_setting(conn: &mut DbConnection, key: &str) -> Result<usize, StoreError> {
    Ok(diesel::insert_into(settings::table)
        .values((
            settings::key.eq(key),
            settings::value.eq("v"),
            settings::created_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)?)
}

fn count_settings(store: &Store) -> i64 {
    store
        .with_conn(|conn| Ok::<_, StoreError>(settings::table.count().get_result(conn)?))
        .expect("counting settings")
}

on_both_backends! {
    fn write_transaction_commits_on_ok_and_rolls_back_on_error(db) {
        let store = db.migrated_store();
        store
            .write_transaction(|conn| insert_setting(conn, "kept"))
            .expect("committing transaction");
        let failed: Result<(), StoreError> = store.write_transaction(|conn| {
            insert_setting(conn, "discarded")?;
            Err(StoreError::Conflict("stale version".into()))
        });
        assert!(matches!(failed, Err(StoreError::Conflict(_))), "{failed:?}");
        assert_eq!(count_settings(&store), 1, "the failed transaction left rows behind");
    }
}

on_both_backends! {
    /// A backend-specific statement on the inner connection is part of the
    /// surrounding transaction.
    fn inner_connection_statements_roll_back_with_the_transaction(db) {
        let store = db.migrated_store();
        let failed: Result<(), StoreError> = store.write_transaction(|conn| {
            let insert = diesel::insert_into(settings::table).values((
                settings::key.eq("k"),
                settings::value.eq("v"),
                settings::created_at.eq(Utc::now().naive_utc()),
            ));
            match conn {
                DbConnection::Postgresql(pg) => insert.on_conflict_do_nothing().execute(pg)?,
                DbConnection::Sqlite(lite) => insert.on_conflict_do_nothing().execute(lite)?,
            };
            Err(StoreError::NotFound)
        });
        assert!(failed.is_err());
        assert_eq!(count_settings(&store), 0);
    }
}

on_both_backends! {
    /// Users see 409, not 500, when a unique key is taken.
    fn unique_violations_are_conflicts(db) {
        let store = db.migrated_store();
        store.write_transaction(|conn| insert_setting(conn, "k")).expect("first insert");
        let error = store
            .write_transaction(|conn| insert_setting(conn, "k"))
            .expect_err("duplicate key");
        assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    }
}

on_both_backends! {
    /// Read-then-write transactions from many threads all commit: on SQLite
    /// `BEGIN IMMEDIATE` queues them instead of failing with "database is locked".
    fn concurrent_read_then_write_transactions_all_commit(db) {
        let store = db.migrated_store();
        const THREADS: usize = 4;
        const EACH: usize = 10;
        let barrier = Arc::new(Barrier::new(THREADS));
        let writers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (store, barrier) = (store.clone(), Arc::clone(&barrier));
                thread::spawn(move || {
                    barrier.wait();
                    for i in 0..EACH {
                        store.write_transaction(|conn| {
                            let before: i64 = settings::table.count().get_result(conn)?;
                            // Hold the read while "deciding", as a transition does.
                            thread::sleep(Duration::from_millis(2));
                            insert_setting(conn, &format!("{t}-{i}-{before}"))
                        })?;
                    }
                    Ok::<_, StoreError>(())
                })
            })
            .collect();
        for writer in writers {
            writer.join().expect("writer thread").expect("a write transaction failed");
        }
        assert_eq!(count_settings(&store), (THREADS * EACH) as i64);
    }
}

#[derive(QueryableByName)]
struct Value {
    #[diesel(sql_type = Text)]
    value: String,
}

on_both_backends! {
    /// Raw SQL over `DbConnection` is passed through unchanged; `$1, $2, …`
    /// (numbered in order of first use) is a placeholder syntax both accept.
    fn raw_sql_with_numbered_placeholders_runs_on_both_backends(db) {
        let store = db.migrated_store();
        let rows: Vec<Value> = store
            .write_transaction(|conn| {
                diesel::sql_query(
                    "INSERT INTO settings (key, value, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (key) DO NOTHING",
                )
                .bind::<Text, _>("k")
                .bind::<Text, _>("first")
                .bind::<Timestamp, _>(Utc::now().naive_utc())
                .execute(conn)?;
                diesel::sql_query("SELECT value FROM settings WHERE key = $1 AND value <> $2")
                    .bind::<Text, _>("k")
                    .bind::<Text, _>("other")
                    .load(conn)
                    .map_err(StoreError::from)
            })
            .expect("raw SQL");
        assert_eq!(rows.iter().map(|r| r.value.as_str()).collect::<Vec<_>>(), ["first"]);
    }
}
