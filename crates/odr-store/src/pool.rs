//! The connection pool and the entry points the rest of the engine uses.
//! Everything here blocks; async callers run it on a blocking thread
//! (`actix_web::web::block`, `tokio::task::spawn_blocking`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use diesel::r2d2::{HandleError, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::{ConnectionError, RunQueryDsl};

use crate::connection::{Backend, DatabaseUrl, DbConnection, SqliteSynchronous};
use crate::error::StoreError;

#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    pub max_size: u32,
    /// Connections r2d2 keeps open (and opens at start, in the background).
    pub min_idle: Option<u32>,
    /// How long `Store::get` waits for a connection; also libpq's
    /// `connect_timeout` (rounded up to whole seconds, at least 2).
    pub connect_timeout: Duration,
    pub sqlite_synchronous: SqliteSynchronous,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 10,
            min_idle: Some(1),
            connect_timeout: Duration::from_secs(5),
            sqlite_synchronous: SqliteSynchronous::Normal,
        }
    }
}

/// Opens `DbConnection`s for r2d2, choosing the backend from the URL scheme.
/// (diesel's `ConnectionManager<DbConnection>` would go through
/// `MultiConnection::establish`, which tries backends in order.)
#[derive(Debug)]
pub struct Connector {
    url: DatabaseUrl,
    connect_timeout: Duration,
    synchronous: SqliteSynchronous,
}

impl Connector {
    fn open(&self) -> Result<DbConnection, ConnectionError> {
        DbConnection::open(&self.url, self.connect_timeout, self.synchronous)
    }
}

impl ManageConnection for Connector {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        self.open().map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    /// Also true for a connection left inside a transaction (a panic in a
    /// `write_transaction` closure): r2d2 then closes it instead of reusing it.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// r2d2 reports background connection failures through `log`; route them to
/// `tracing` like everything else.
#[derive(Debug)]
struct TraceConnectionErrors;

impl HandleError<diesel::r2d2::Error> for TraceConnectionErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        tracing::warn!(%error, "opening a database connection failed");
    }
}

pub type PooledDbConnection = PooledConnection<Connector>;

/// The engine's handle on its database: a pool plus what it points at.
/// Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct Store {
    pool: Pool<Connector>,
    url: Arc<DatabaseUrl>,
    options: PoolOptions,
}

impl Store {
    /// Parses the URL and builds the pool. For SQLite the file's directory is
    /// created. No connection is required to succeed here: the database may
    /// come up later, and `ping` (readiness) or `migrate::run_pending` report
    /// it unreachable as `StoreError::Unavailable`.
    pub fn connect(url: &str, options: PoolOptions) -> Result<Store, StoreError> {
        let url = DatabaseUrl::parse(url)?;
        // r2d2 panics on these instead of returning an error.
        if options.max_size == 0 || options.min_idle.is_some_and(|min| min > options.max_size) {
            return Err(StoreError::InvalidOptions(format!(
                "max_size must be at least 1 and min_idle at most max_size (got {} and {:?})",
                options.max_size, options.min_idle
            )));
        }
        if let Some(dir) = url.sqlite_path().and_then(|path| path.parent()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let connector = Connector {
            url: url.clone(),
            connect_timeout: options.connect_timeout,
            synchronous: options.sqlite_synchronous,
        };
        let pool = Pool::builder()
            .max_size(options.max_size)
            .min_idle(options.min_idle)
            .connection_timeout(options.connect_timeout)
            .error_handler(Box::new(TraceConnectionErrors))
            .build_unchecked(connector);
        tracing::info!(
            database = %url,
            backend = %url.backend(),
            max_size = options.max_size,
            "database pool created"
        );
        Ok(Store {
            pool,
            url: Arc::new(url),
            options,
        })
    }

    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// The database this store points at; `Display` hides the password.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn options(&self) -> PoolOptions {
        self.options
    }

    /// The pool's use now: (open connections, idle connections, max size).
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let state = self.pool.state();
        (
            state.connections,
            state.idle_connections,
            self.pool.max_size(),
        )
    }

    /// A pooled connection, or `Unavailable` after `connect_timeout`.
    pub fn get(&self) -> Result<PooledDbConnection, StoreError> {
        Ok(self.pool.get()?)
    }

    /// A connection outside the pool, for work that holds session state
    /// (the migration lock); closing it releases that state for sure.
    pub fn open_unpooled(&self) -> Result<DbConnection, StoreError> {
        DbConnection::open(
            &self.url,
            self.options.connect_timeout,
            self.options.sqlite_synchronous,
        )
        .map_err(|e| match e {
            ConnectionError::InvalidConnectionUrl(message) => StoreError::InvalidUrl(message),
            other => StoreError::Unavailable(other.to_string()),
        })
    }

    /// Readiness: `SELECT 1` on a pooled connection.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.with_conn(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
    }

    /// Runs `f` with a pooled connection, outside any transaction (reads).
    pub fn with_conn<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<StoreError>,
    {
        let mut conn = self.get()?;
        f(&mut conn)
    }

    /// Runs `f` in a write transaction on a pooled connection; see
    /// [`DbConnection::write_transaction`].
    pub fn write_transaction<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<diesel::result::Error> + From<StoreError>,
    {
        let mut conn = self.get()?;
        conn.write_transaction(f)
    }

    /// Runs `f` in a read-only snapshot on a pooled connection; see
    /// [`DbConnection::read_snapshot`].
    pub fn read_snapshot<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<diesel::result::Error> + From<StoreError>,
    {
        let mut conn = self.get()?;
        conn.read_snapshot(f)
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("url", &self.url)
            .field("options", &self.options)
            .field("pool", &self.pool.state())
            .finish()
    }
}
