//! The connection pool and the entry points the rest of the engine uses.
//! Everything here blocks; async callers run it on a blocking thread
//! (`actix_web::web::block`, `tokio::task::spawn_blocking`).

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// How long after a use that ended well a pooled connection is handed out
/// again without a `SELECT 1` first. A connection that died meanwhile (the
/// server restarted that very moment) fails its next use, which answers 503
/// and takes away the connection's good name: it is checked before the use
/// after that, and replaced.
const VOUCHED_FOR: Duration = Duration::from_secs(1);

/// A pooled connection and when it last served a use that ended well.
/// Derefs to [`DbConnection`].
pub struct PoolConnection {
    conn: DbConnection,
    vouched_at: Option<Instant>,
}

impl PoolConnection {
    /// The use just made of it ended well (`Ok`): it answered.
    fn vouch(&mut self) {
        self.vouched_at = Some(Instant::now());
    }

    /// The use ended in an error (any error: it may have been the socket).
    fn doubt(&mut self) {
        self.vouched_at = None;
    }

    /// Notes how a use ended, and hands its result on.
    fn judged<T, E>(&mut self, result: Result<T, E>) -> Result<T, E> {
        match &result {
            Ok(_) => self.vouch(),
            Err(_) => self.doubt(),
        }
        result
    }

    fn recently_vouched(&self) -> bool {
        self.vouched_at.is_some_and(|at| at.elapsed() < VOUCHED_FOR)
    }
}

impl Deref for PoolConnection {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl DerefMut for PoolConnection {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

impl ManageConnection for Connector {
    type Connection = PoolConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PoolConnection, Self::Error> {
        let conn = self.open().map_err(diesel::r2d2::Error::ConnectionError)?;
        Ok(PoolConnection {
            conn,
            vouched_at: None,
        })
    }

    /// `SELECT 1`, unless the connection served a use well within the last
    /// [`VOUCHED_FOR`]: under load most checkouts then cost nothing.
    fn is_valid(&self, conn: &mut PoolConnection) -> Result<(), Self::Error> {
        if conn.recently_vouched() {
            return Ok(());
        }
        conn.conn.ping().map_err(diesel::r2d2::Error::QueryError)?;
        conn.vouch();
        Ok(())
    }

    /// Also true for a connection left inside a transaction (a panic in a
    /// `write_transaction` closure): r2d2 then closes it instead of reusing it.
    fn has_broken(&self, conn: &mut PoolConnection) -> bool {
        conn.conn.is_broken()
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
    /// SQLite only: this process's writers take turns here instead of in
    /// SQLite's busy handler, which sleeps in growing steps and so makes a
    /// queue of writers slow at the tail. (Other processes on the same file
    /// still meet the busy handler.)
    writers: Option<Arc<parking_lot::Mutex<()>>>,
}

/// How long a writer waits for its turn before going on without it (and
/// meeting SQLite's own busy handler): a turn is never a deadlock.
const WRITER_TURN_WAIT: Duration = Duration::from_secs(5);

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
            // A PostgreSQL connection can die under us (a restart, a
            // failover): it is checked before use (`is_valid`: `SELECT 1`
            // unless it served well just now). A SQLite connection is a file
            // handle in this process and cannot; checking it cost a fifth of
            // the CPU of a busy server.
            .test_on_check_out(url.backend() == Backend::Postgres)
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
        let writers = (url.backend() == Backend::Sqlite).then(Default::default);
        Ok(Store {
            pool,
            url: Arc::new(url),
            options,
            writers,
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
        let mut conn = self.checkout()?;
        let result = f(&mut conn);
        conn.judged(result)
    }

    /// Runs `f` with every use of this store on this thread (`with_conn`,
    /// `write_transaction`, `read_snapshot`, `write_on`) on one pooled
    /// connection, checked out at the first use and back in the pool when
    /// `f` returns: a request's reads and its write transaction cost one
    /// checkout instead of one each. A use that fails gives its connection
    /// back (the next use checks out another, tested as usual).
    ///
    /// PostgreSQL only; on SQLite `f` just runs. There a writer waits for
    /// the process's writers' turn, and a connection kept while waiting
    /// could be the one the writer holding the turn needs.
    pub fn on_one_connection<T>(&self, f: impl FnOnce() -> T) -> T {
        if self.backend() != Backend::Postgres {
            return f();
        }
        let outer = KEPT.with(|kept| {
            kept.replace(Some(Kept {
                store: self.identity(),
                conn: None,
            }))
        });
        // Put back the outer scope (and give the kept connection back to
        // the pool) however `f` ends, a panic included.
        struct Restore(Option<Kept>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let outer = self.0.take();
                let _ = KEPT.try_with(|kept| kept.replace(outer));
            }
        }
        let _restore = Restore(outer);
        f()
    }

    /// Tells this store's pool apart from another's (clones share it).
    fn identity(&self) -> usize {
        Arc::as_ptr(&self.url) as usize
    }

    /// The connection an `on_one_connection` scope of this store keeps on
    /// this thread, or one from the pool.
    fn checkout(&self) -> Result<Checkout, StoreError> {
        let store = self.identity();
        let kept = KEPT
            .try_with(|kept| {
                kept.borrow_mut()
                    .as_mut()
                    .filter(|k| k.store == store)
                    .and_then(|k| k.conn.take())
            })
            .ok()
            .flatten();
        let conn = match kept {
            Some(conn) => conn,
            None => self.get()?,
        };
        Ok(Checkout {
            conn: Some(conn),
            store,
            well: true,
        })
    }

    /// Runs `f` in a write transaction on a pooled connection; see
    /// [`DbConnection::write_transaction`].
    pub fn write_transaction<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<diesel::result::Error> + From<StoreError>,
    {
        let _turn = self.writer_turn();
        let mut conn = self.checkout()?;
        let result = conn.write_transaction(f);
        conn.judged(result)
    }

    /// Runs `f`, one write statement outside a transaction (autocommit), in
    /// this process's writers' turn like [`Store::write_transaction`]: on
    /// SQLite every write takes the one write lock, and a writer left to
    /// the busy handler starves while the others take turns.
    pub fn write_on<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<StoreError>,
    {
        let _turn = self.writer_turn();
        self.with_conn(f)
    }

    /// This process's turn to write (SQLite; `None` on PostgreSQL, or when
    /// the wait ran out). Hold it for the whole write transaction.
    pub(crate) fn writer_turn(&self) -> Option<parking_lot::MutexGuard<'_, ()>> {
        self.writers
            .as_deref()
            .and_then(|w| w.try_lock_for(WRITER_TURN_WAIT))
    }

    /// Runs `f` in a read-only snapshot on a pooled connection; see
    /// [`DbConnection::read_snapshot`].
    pub fn read_snapshot<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<diesel::result::Error> + From<StoreError>,
    {
        let mut conn = self.checkout()?;
        let result = conn.read_snapshot(f);
        conn.judged(result)
    }
}

thread_local! {
    /// The connection of the `Store::on_one_connection` scope running on
    /// this thread, if any.
    static KEPT: std::cell::RefCell<Option<Kept>> = const { std::cell::RefCell::new(None) };
}

struct Kept {
    /// Which store's scope (`Store::identity`).
    store: usize,
    /// `None` before the first use, and while a use has it out.
    conn: Option<PooledDbConnection>,
}

/// A connection out for one use: when the use ends well and a scope of its
/// store is open on this thread, it goes back to the scope; otherwise to
/// the pool.
struct Checkout {
    conn: Option<PooledDbConnection>,
    store: usize,
    well: bool,
}

impl Checkout {
    /// Notes how a use ended (see `PoolConnection::judged`).
    fn judged<T, E>(&mut self, result: Result<T, E>) -> Result<T, E> {
        self.well = result.is_ok();
        match self.conn.as_mut() {
            Some(conn) => conn.judged(result),
            None => result,
        }
    }
}

impl Deref for Checkout {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        self.conn
            .as_ref()
            .expect("a checkout holds its connection until dropped")
    }
}

impl DerefMut for Checkout {
    fn deref_mut(&mut self) -> &mut DbConnection {
        self.conn
            .as_mut()
            .expect("a checkout holds its connection until dropped")
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        if !self.well || conn.is_broken() {
            return; // back to the pool, which tests it before its next use
        }
        let store = self.store;
        let mut conn = Some(conn);
        let _ = KEPT.try_with(|kept| {
            if let Ok(mut kept) = kept.try_borrow_mut() {
                if let Some(k) = kept
                    .as_mut()
                    .filter(|k| k.store == store && k.conn.is_none())
                {
                    k.conn = conn.take();
                }
            }
        });
        // Not kept: `conn` goes back to the pool here.
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
