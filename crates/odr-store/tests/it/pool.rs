use std::time::{Duration, Instant};

use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};
use odr_store::{Backend, PoolOptions, SqliteSynchronous, Store, StoreError};

on_both_backends! {
    /// /readyz answers ready while the database answers.
    fn ping_succeeds_on_a_reachable_database(db) {
        let store = db.store();
        store.ping().expect("ping on a reachable database");
        assert_eq!(store.backend(), db.backend);
    }
}

#[test]
fn ping_reports_an_unreachable_postgres_as_unavailable_quickly() {
    let options = PoolOptions {
        max_size: 1,
        min_idle: Some(0),
        connect_timeout: Duration::from_millis(300),
        ..PoolOptions::default()
    };
    let store = Store::connect("postgres://odr:secret@127.0.0.1:1/odr", options)
        .expect("connect only prepares the pool; the server may come up later");
    let started = Instant::now();
    let error = store.ping().expect_err("nothing listens on port 1");
    assert!(
        matches!(error, StoreError::Unavailable(_)),
        "/readyz needs Unavailable (503), got {error:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "ping took {:?}; readiness probes would time out",
        started.elapsed()
    );
    assert!(!format!("{store:?} {error}").contains("secret"));
}

#[test]
fn sqlite_store_creates_missing_directories_and_reports_an_absolute_path() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}/nested/data/odr.db", dir.path().display());
    let store = Store::connect(&url, PoolOptions::default()).expect("sqlite store");
    store.ping().expect("ping creates the file");
    let path = store
        .url()
        .sqlite_path()
        .expect("an SQLite store has a path");
    assert!(path.is_absolute() && path.exists(), "{}", path.display());
}

#[derive(QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = Text)]
    journal_mode: String,
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

fn pragma(store: &Store, query: &str) -> i64 {
    let mut conn = store.get().expect("a connection");
    let rows: Vec<Setting> = diesel::sql_query(query).load(&mut **conn).expect(query);
    rows.first().map(|row| row.value).expect(query)
}

#[test]
fn every_sqlite_connection_is_configured_for_concurrent_service() {
    for (synchronous, expected) in [(SqliteSynchronous::Normal, 1), (SqliteSynchronous::Full, 2)] {
        let db = odr_store::testing::TestDatabase::for_backend(Backend::Sqlite);
        let store = db.store_with(PoolOptions {
            sqlite_synchronous: synchronous,
            ..odr_store::testing::test_pool_options()
        });
        let mut conn = store.get().expect("a connection");
        let mode: Vec<JournalMode> = diesel::sql_query("PRAGMA journal_mode")
            .load(&mut **conn)
            .expect("journal mode");
        drop(conn);
        assert_eq!(mode.first().map(|m| m.journal_mode.as_str()), Some("wal"));
        let foreign_keys = pragma(
            &store,
            "SELECT foreign_keys AS value FROM pragma_foreign_keys",
        );
        assert_eq!(foreign_keys, 1, "foreign keys are not enforced");
        let timeout = pragma(&store, "SELECT timeout AS value FROM pragma_busy_timeout");
        assert_eq!(timeout, 5000, "busy_timeout");
        let sync = pragma(
            &store,
            "SELECT synchronous AS value FROM pragma_synchronous",
        );
        assert_eq!(sync, expected, "synchronous for {synchronous:?}");
    }
}

#[test]
fn impossible_pool_sizes_are_configuration_errors_not_panics() {
    for (max_size, min_idle) in [(0, None), (2, Some(3))] {
        let options = PoolOptions {
            max_size,
            min_idle,
            ..PoolOptions::default()
        };
        let error = Store::connect("postgres://127.0.0.1:1/odr", options)
            .expect_err("an impossible pool must be refused");
        assert!(matches!(error, StoreError::InvalidOptions(_)), "{error:?}");
    }
}

#[test]
fn many_connections_opening_a_new_sqlite_file_at_once_all_succeed() {
    use std::sync::{Arc, Barrier};
    const OPENERS: usize = 8;
    for _ in 0..5 {
        let db = odr_store::testing::TestDatabase::sqlite();
        let url = Arc::new(odr_store::DatabaseUrl::parse(&db.url).expect("test URL"));
        let barrier = Arc::new(Barrier::new(OPENERS));
        let openers: Vec<_> = (0..OPENERS)
            .map(|_| {
                let (url, barrier) = (Arc::clone(&url), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    let timeout = Duration::from_secs(5);
                    odr_store::DbConnection::open(&url, timeout, SqliteSynchronous::Normal)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        for opener in openers {
            let opened = opener.join().expect("opener thread");
            opened.expect("a process starting next to another could not open the database");
        }
    }
}

#[derive(QueryableByName)]
struct BackendPid {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

/// Which PostgreSQL server process a connection talks to.
fn backend_pid(conn: &mut odr_store::DbConnection) -> Result<i32, StoreError> {
    let rows: Vec<BackendPid> = diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .load(conn)
        .map_err(StoreError::from)?;
    Ok(rows.first().map(|r| r.pid).expect("one row"))
}

#[test]
fn one_connection_serves_a_whole_scope_on_postgres() {
    let db = odr_store::testing::TestDatabase::postgres();
    let store = db.store();
    let (reads, written, snapshot, nested, after_error) = store.on_one_connection(|| {
        let reads = (
            store.with_conn(backend_pid).expect("a read"),
            store.with_conn(backend_pid).expect("another read"),
        );
        let written = store
            .write_transaction(backend_pid)
            .expect("a write transaction");
        let snapshot = store.read_snapshot(backend_pid).expect("a snapshot");
        // A use inside a use cannot share the one connection: it gets its own.
        let nested = store
            .with_conn(|outer| {
                let inner = store.with_conn(backend_pid)?;
                Ok::<_, StoreError>((backend_pid(outer)?, inner))
            })
            .expect("nested uses");
        // A use that fails gives its connection back; the next one works.
        let failed = store.with_conn(|conn| {
            diesel::sql_query("SELECT no_such_column FROM no_such_table")
                .execute(conn)
                .map_err(StoreError::from)
        });
        assert!(failed.is_err());
        let after_error = store.with_conn(backend_pid).expect("a use after an error");
        (reads, written, snapshot, nested, after_error)
    });
    assert_eq!(reads.0, reads.1, "two reads of one scope, one connection");
    assert_eq!(
        reads.0, written,
        "the write transaction on the same connection"
    );
    assert_eq!(reads.0, snapshot, "the snapshot on the same connection");
    assert_eq!(
        nested.0, reads.0,
        "the outer use keeps the scope's connection"
    );
    assert_ne!(
        nested.1, nested.0,
        "the inner use has a connection of its own"
    );
    assert!(after_error > 0);
    // The scope gave its connection back: a use from another thread, with
    // a pool of one, gets it.
    let single = db.store_with(PoolOptions {
        max_size: 1,
        min_idle: Some(0),
        ..odr_store::testing::test_pool_options()
    });
    let first = single.on_one_connection(|| single.with_conn(backend_pid).expect("a read"));
    let again = std::thread::scope(|s| {
        s.spawn(|| {
            single
                .with_conn(backend_pid)
                .expect("the pool's only connection")
        })
        .join()
        .expect("thread")
    });
    assert_eq!(first, again, "the pool of one has its connection back");
}
