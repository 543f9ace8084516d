//! Persistence of the dispute domain over SQLite and PostgreSQL.
//!
//! This crate owns the schema (migrations for both backends, diesel's
//! `schema`), the connection pool, transactions and the mapping between rows
//! and `odr-domain` types. It must not speak HTTP, send mail or decide
//! business rules: the domain decides, this crate writes down what it decided
//! (in one transaction) and reads it back.
//!
//! Everything here is blocking; call it from a blocking thread.

pub mod connection;
mod database_url;
pub mod error;
pub mod migrate;
pub mod pool;
pub mod schema;
#[cfg(feature = "testing")]
pub mod testing;

pub use connection::{Backend, DatabaseUrl, DbConnection, SqliteSynchronous};
pub use error::{classify, StoreError};
pub use pool::{Connector, PoolOptions, PooledDbConnection, Store};
