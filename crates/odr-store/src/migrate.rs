//! Schema migrations, embedded in the binary: one folder per backend with the
//! same version names (`migrations/sqlite`, `migrations/postgres`).
//!
//! Several processes may start at once against one fresh database. On
//! PostgreSQL they queue on a session advisory lock; on SQLite the whole run
//! is one `BEGIN IMMEDIATE` transaction, so the second process waits on
//! `busy_timeout` and then finds nothing left to do. Either way the work runs
//! on a dedicated connection that is closed afterwards, so a lock can never
//! stay behind in the pool.

use diesel::migration::{Migration, MigrationSource};
use diesel::pg::{Pg, PgConnection};
use diesel::sql_types::BigInt;
use diesel::sqlite::Sqlite;
use diesel::RunQueryDsl;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::pool::Store;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Key of the PostgreSQL advisory lock held while migrating ("odrmigr" in ASCII).
pub const MIGRATION_LOCK_KEY: i64 = 0x006f_6472_6d69_6772;

/// Applies every pending migration and returns their names
/// (e.g. `2026-12-01-000001_core`), oldest first. Empty when up to date.
pub fn run_pending(store: &Store) -> Result<Vec<String>, StoreError> {
    let applied = match store.open_unpooled()? {
        DbConnection::Postgresql(mut conn) => {
            with_migration_lock(&mut conn, |conn| apply::<Pg, _>(conn, POSTGRES_MIGRATIONS))
        }
        DbConnection::Sqlite(mut conn) => {
            conn.immediate_transaction(|conn| apply::<Sqlite, _>(conn, SQLITE_MIGRATIONS))
        }
    }?;
    for name in &applied {
        tracing::info!(migration = %name, database = %store.url(), "applied migration");
    }
    Ok(applied)
}

/// Names of migrations not yet applied, oldest first (for `--no-migrate`:
/// refuse to start on an outdated schema instead of failing later).
pub fn pending(store: &Store) -> Result<Vec<String>, StoreError> {
    match store.open_unpooled()? {
        DbConnection::Postgresql(mut conn) => with_migration_lock(&mut conn, |conn| {
            pending_names::<Pg, _>(conn, POSTGRES_MIGRATIONS)
        }),
        DbConnection::Sqlite(mut conn) => {
            conn.immediate_transaction(|conn| pending_names::<Sqlite, _>(conn, SQLITE_MIGRATIONS))
        }
    }
}

fn apply<DB, C>(conn: &mut C, source: EmbeddedMigrations) -> Result<Vec<String>, StoreError>
where
    DB: diesel::backend::Backend,
    C: MigrationHarness<DB>,
    EmbeddedMigrations: MigrationSource<DB>,
{
    let migrations = conn.pending_migrations(source).map_err(migration_error)?;
    let mut applied = Vec::with_capacity(migrations.len());
    for migration in migrations {
        conn.run_migration(&*migration).map_err(migration_error)?;
        applied.push(migration.name().to_string());
    }
    Ok(applied)
}

fn pending_names<DB, C>(conn: &mut C, source: EmbeddedMigrations) -> Result<Vec<String>, StoreError>
where
    DB: diesel::backend::Backend,
    C: MigrationHarness<DB>,
    EmbeddedMigrations: MigrationSource<DB>,
{
    let migrations: Vec<Box<dyn Migration<DB>>> =
        conn.pending_migrations(source).map_err(migration_error)?;
    Ok(migrations.iter().map(|m| m.name().to_string()).collect())
}

/// Runs `f` while holding the migration advisory lock. The lock is released
/// explicitly on success and failure; if that fails, dropping the
/// (unpooled) connection ends the session and releases it anyway.
fn with_migration_lock<T>(
    conn: &mut PgConnection,
    f: impl FnOnce(&mut PgConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
        .execute(conn)?;
    let result = f(conn);
    let unlocked = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
        .execute(conn);
    if let Err(error) = unlocked {
        tracing::warn!(%error, "releasing the migration lock failed; closing the connection releases it");
    }
    result
}

fn migration_error(error: Box<dyn std::error::Error + Send + Sync>) -> StoreError {
    // Keep diesel's own classification (busy, unreachable) when the harness
    // passes a database error through.
    match error.downcast::<diesel::result::Error>() {
        Ok(error) => match StoreError::from(*error) {
            StoreError::Database(error) => StoreError::Migration(error.to_string()),
            classified => classified,
        },
        Err(error) => StoreError::Migration(error.to_string()),
    }
}
