//! One connection type over both databases. Queries written against
//! `DbConnection` run on either. A statement only one backend understands
//! (upsert, `FOR UPDATE SKIP LOCKED`) goes behind a `match` on the variant,
//! which hands out the inner, backend-specific connection:
//!
//! ```ignore
//! match conn {
//!     DbConnection::Postgresql(pg) => diesel::insert_into(settings::table)
//!         .values(&row).on_conflict_do_nothing().execute(pg),
//!     DbConnection::Sqlite(lite) => diesel::insert_into(settings::table)
//!         .values(&row).on_conflict_do_nothing().execute(lite),
//! }
//! ```

use std::fmt;
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError, ConnectionResult};

use crate::error::is_busy_message;

pub use crate::database_url::DatabaseUrl;

/// `#[derive(MultiConnection)]` also generates `MultiBackend`, the diesel
/// backend that queries against this connection are built for.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// SQLite's `PRAGMA synchronous` in WAL mode. `Normal` can lose the last
/// commits on power loss (never on a process crash) and never corrupts the
/// file; `Full` fsyncs every commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqliteSynchronous {
    Full,
    #[default]
    Normal,
}

impl SqliteSynchronous {
    fn pragma(self) -> &'static str {
        match self {
            SqliteSynchronous::Full => "PRAGMA synchronous = FULL;",
            SqliteSynchronous::Normal => "PRAGMA synchronous = NORMAL;",
        }
    }
}

impl DbConnection {
    /// Opens a connection to the backend the URL's scheme names. SQLite
    /// connections get their per-connection settings here.
    pub fn open(
        url: &DatabaseUrl,
        connect_timeout: Duration,
        synchronous: SqliteSynchronous,
    ) -> ConnectionResult<Self> {
        let driver_url = url.driver_url(connect_timeout);
        match url.backend() {
            Backend::Postgres => Ok(DbConnection::Postgresql(PgConnection::establish(
                &driver_url,
            )?)),
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&driver_url)?;
                configure_sqlite(&mut conn, synchronous)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Postgresql(_) => Backend::Postgres,
            DbConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Each PRAGMA in its own statement and `busy_timeout` first, so that the
/// others wait for a lock instead of failing (diesel's SQLite docs).
/// `journal_mode=WAL` lets readers and one writer work at once;
/// `foreign_keys` is off by default in SQLite and per connection.
fn configure_sqlite(
    conn: &mut SqliteConnection,
    synchronous: SqliteSynchronous,
) -> ConnectionResult<()> {
    let pragmas = [
        "PRAGMA busy_timeout = 5000;",
        "PRAGMA journal_mode = WAL;",
        synchronous.pragma(),
        "PRAGMA foreign_keys = ON;",
    ];
    for pragma in pragmas {
        execute_when_unlocked(conn, pragma)
            .map_err(|e| ConnectionError::BadConnection(format!("{pragma} failed: {e}")))?;
    }
    Ok(())
}

/// Switching a new file to WAL needs an exclusive lock, and SQLite reports
/// "database is locked" at once, without the busy handler, while another
/// connection (a pool filling up, a second process) opens the same new file.
/// Once the file is in WAL mode (it stays so), this succeeds first time.
fn execute_when_unlocked(conn: &mut SqliteConnection, sql: &str) -> diesel::QueryResult<()> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match conn.batch_execute(sql) {
            Err(diesel::result::Error::DatabaseError(_, info))
                if is_busy_message(info.message()) && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

impl DbConnection {
    /// Runs `f` in a write transaction: `BEGIN IMMEDIATE` on SQLite, so the
    /// write lock is taken up front and two writers queue on `busy_timeout`
    /// instead of deadlocking when a reader upgrades; a plain `BEGIN` on
    /// PostgreSQL. Commits on `Ok`, rolls back on `Err` (and, through the
    /// pool's broken-connection check, on panic). Do not nest: SQLite refuses
    /// a second `BEGIN` (`AlreadyInTransaction`) where PostgreSQL would make
    /// it a savepoint.
    pub fn write_transaction<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        match self {
            DbConnection::Sqlite(inner) => {
                AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?
            }
            DbConnection::Postgresql(_) => Self::begin_transaction(self)?,
        }
        self.finish_transaction(f)
    }

    /// Runs `f` in a read-only transaction that sees one snapshot of the
    /// database throughout: `REPEATABLE READ, READ ONLY` on PostgreSQL (a
    /// plain `BEGIN` there would take a new snapshot per statement); a
    /// deferred `BEGIN` on SQLite, whose WAL readers keep the snapshot of
    /// their first read until the end. Several reads that must agree with
    /// each other (a case export) go here. Do not nest.
    pub fn read_snapshot<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        match self {
            DbConnection::Sqlite(inner) => {
                AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN DEFERRED")?
            }
            DbConnection::Postgresql(inner) => AnsiTransactionManager::begin_transaction_sql(
                inner,
                "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
            )?,
        }
        self.finish_transaction(f)
    }

    /// Runs `f` in the transaction just begun: commits on `Ok`, rolls back
    /// on `Err`.
    fn finish_transaction<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        match f(self) {
            Ok(value) => {
                Self::commit_transaction(self)?;
                Ok(value)
            }
            Err(error) => match Self::rollback_transaction(self) {
                // A broken transaction manager was most likely caused by `error`.
                Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
                Err(rollback_error) => Err(rollback_error.into()),
            },
        }
    }
}
