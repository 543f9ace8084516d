//! Throwaway databases for tests (feature `testing`): a fresh SQLite file or
//! a fresh PostgreSQL database per test, removed when the value is dropped.
//!
//! PostgreSQL tests never skip themselves: an unreachable server is a failed
//! test, or a green run could hide that half the suite did not run.

use std::time::Duration;

use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};

use crate::connection::{Backend, DatabaseUrl};
use crate::migrate;
use crate::pool::{PoolOptions, Store};

/// Server used for PostgreSQL test databases; the user must be allowed to
/// `CREATE DATABASE`.
pub const POSTGRES_URL_VAR: &str = "ODR_TEST_POSTGRES_URL";
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Both backends, for tests that must hold on each.
pub fn backends() -> [Backend; 2] {
    [Backend::Sqlite, Backend::Postgres]
}

/// Pool settings for tests: small, so parallel tests on a 2-core machine do
/// not exhaust PostgreSQL's connection limit.
pub fn test_pool_options() -> PoolOptions {
    PoolOptions {
        max_size: 4,
        min_idle: Some(1),
        connect_timeout: Duration::from_secs(10),
        ..PoolOptions::default()
    }
}

#[derive(Debug)]
pub struct TestDatabase {
    /// A URL `Store::connect` accepts.
    pub url: String,
    pub backend: Backend,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    /// Deleting the directory removes the database with its -wal/-shm files.
    Sqlite {
        _dir: tempfile::TempDir,
    },
    Postgres {
        admin_url: String,
        name: String,
    },
}

impl TestDatabase {
    pub fn for_backend(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite(),
            Backend::Postgres => Self::postgres(),
        }
    }

    pub fn sqlite() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("odr-test-")
            .tempdir()
            .expect("cannot create a temporary directory for a test SQLite database");
        let url = format!("sqlite://{}", dir.path().join("odr.db").display());
        Self {
            url,
            backend: Backend::Sqlite,
            cleanup: Cleanup::Sqlite { _dir: dir },
        }
    }

    /// Creates `odr_test_<random>` on the server named by
    /// `ODR_TEST_POSTGRES_URL` (default: local `postgres` superuser).
    ///
    /// # Panics
    /// When the server is unreachable or refuses to create the database.
    pub fn postgres() -> Self {
        let admin_url =
            std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let name = format!("odr_test_{:016x}", rand::random::<u64>());
        let mut admin = connect_admin(&admin_url);
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        Self {
            url: with_database(&admin_url, &name),
            backend: Backend::Postgres,
            cleanup: Cleanup::Postgres { admin_url, name },
        }
    }

    /// A store on this database with test-sized pool settings.
    pub fn store(&self) -> Store {
        self.store_with(test_pool_options())
    }

    pub fn store_with(&self, options: PoolOptions) -> Store {
        Store::connect(&self.url, options)
            .unwrap_or_else(|e| panic!("cannot open the {} test store: {e}", self.backend))
    }

    /// A store whose schema is up to date.
    pub fn migrated_store(&self) -> Store {
        let store = self.store();
        migrate::run_pending(&store)
            .unwrap_or_else(|e| panic!("migrating the {} test database failed: {e}", self.backend));
        store
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Cleanup::Postgres { admin_url, name } = &self.cleanup else {
            return;
        };
        let dropped = admin_connection(admin_url).and_then(|mut admin| {
            // FORCE ends the sessions the test's pool still holds.
            diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut admin)
                .map_err(|e| e.to_string())
        });
        if let Err(error) = dropped {
            eprintln!("warning: could not drop test database {name}: {error}");
        }
    }
}

fn admin_connection(admin_url: &str) -> Result<PgConnection, String> {
    let url = DatabaseUrl::parse(admin_url).map_err(|e| e.to_string())?;
    PgConnection::establish(&url.driver_url(Duration::from_secs(5))).map_err(|e| e.to_string())
}

fn connect_admin(admin_url: &str) -> PgConnection {
    admin_connection(admin_url).unwrap_or_else(|error| {
        let shown = DatabaseUrl::parse(admin_url)
            .map(|url| url.display_safe())
            .unwrap_or_else(|_| "an unparsable URL".to_owned());
        panic!(
            "PostgreSQL for tests is not reachable at {shown}: {error}\n\
             Run `make test` (it starts PostgreSQL) or set {POSTGRES_URL_VAR} \
             to a server where this user may CREATE DATABASE."
        )
    })
}

/// The same server URL pointing at database `name`, query parameters kept.
fn with_database(url: &str, name: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[start..]
        .find(['/', '?'])
        .map_or(url.len(), |i| start + i);
    let query = url[authority_end..]
        .find('?')
        .map_or("", |i| &url[authority_end + i..]);
    format!("{}/{name}{query}", &url[..authority_end])
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn test_database_url_keeps_server_and_parameters() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "odr_test_1"),
            "postgres://postgres@127.0.0.1:5432/odr_test_1"
        );
        assert_eq!(
            with_database("postgresql://u:p@db?sslmode=disable", "odr_test_1"),
            "postgresql://u:p@db/odr_test_1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://db/x?connect_timeout=3", "odr_test_1"),
            "postgres://db/odr_test_1?connect_timeout=3"
        );
    }
}
