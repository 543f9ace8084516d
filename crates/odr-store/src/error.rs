//! The store's errors, sorted by what a caller can do about them: retry later
//! (`Unavailable`), tell the user someone else won (`Conflict`), or report a bug.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

#[derive(thiserror::Error, Debug)]
pub enum StoreError {
    /// The database cannot serve the request right now: pool exhausted,
    /// server unreachable, SQLite busy or locked. Worth retrying.
    #[error("database unavailable: {0}")]
    Unavailable(String),

    #[error("not found")]
    NotFound,

    /// A unique key is taken or a row changed since it was read.
    #[error("conflict: {0}")]
    Conflict(String),

    #[error("database error: {0}")]
    Database(#[source] DieselError),

    #[error("migration failed: {0}")]
    Migration(String),

    #[error("invalid database URL: {0}")]
    InvalidUrl(String),

    #[error("invalid pool options: {0}")]
    InvalidOptions(String),

    /// A stored value (usually JSON) that no longer parses.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether trying the same thing again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// Every `?` on a diesel error is classified, so callers match on
/// `Conflict`/`Unavailable` instead of digging into diesel's error kinds.
impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        classify(error)
    }
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        StoreError::Unavailable(error.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> Self {
        StoreError::Corrupt(error.to_string())
    }
}

/// Sorts a diesel error into the variant a caller acts on.
pub fn classify(error: DieselError) -> StoreError {
    match error {
        DieselError::NotFound => StoreError::NotFound,
        DieselError::DatabaseError(kind, info) => {
            let message = info.message().to_owned();
            match kind {
                DatabaseErrorKind::UniqueViolation => StoreError::Conflict(message),
                // PostgreSQL aborts one of two racing serializable transactions.
                DatabaseErrorKind::SerializationFailure => StoreError::Conflict(message),
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                    StoreError::Unavailable(message)
                }
                _ if is_busy_message(&message) => StoreError::Unavailable(message),
                _ => StoreError::Database(DieselError::DatabaseError(kind, info)),
            }
        }
        // COMMIT failed and so did the rollback: typically the connection
        // broke at that moment (the database stopped). Unavailable, like
        // any broken connection; the pool discards this one.
        DieselError::RollbackErrorOnCommit {
            rollback_error,
            commit_error,
        } => match classify(*commit_error) {
            StoreError::Database(commit_error) => match classify(*rollback_error) {
                unavailable @ StoreError::Unavailable(_) => unavailable,
                _ => StoreError::Database(commit_error),
            },
            other => other,
        },
        // A connection left unusable by a failed rollback; the pool discards
        // it, and another connection may serve.
        DieselError::BrokenTransactionManager => {
            StoreError::Unavailable(DieselError::BrokenTransactionManager.to_string())
        }
        other => StoreError::Database(other),
    }
}

/// SQLite reports `SQLITE_BUSY`/`SQLITE_LOCKED` only through its message
/// ("database is locked", "database table is locked", "database schema is
/// locked"); diesel maps them to `Unknown`.
pub(crate) fn is_busy_message(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    message.contains("is locked") || message.contains("database is busy")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn unique_violation_is_a_conflict() {
        let error = classify(database_error(
            DatabaseErrorKind::UniqueViolation,
            "UNIQUE constraint failed: users.email",
        ));
        assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    }

    #[test]
    fn sqlite_busy_and_closed_connections_are_unavailable() {
        for (kind, message) in [
            (DatabaseErrorKind::Unknown, "database is locked"),
            (DatabaseErrorKind::Unknown, "database table is locked"),
            (
                DatabaseErrorKind::ClosedConnection,
                "server closed the connection",
            ),
        ] {
            let error = classify(database_error(kind, message));
            assert!(error.is_retryable(), "{message}: {error:?}");
        }
    }

    #[test]
    fn a_commit_on_a_broken_connection_is_unavailable() {
        let error = classify(DieselError::RollbackErrorOnCommit {
            rollback_error: Box::new(database_error(
                DatabaseErrorKind::ClosedConnection,
                "no connection to the server",
            )),
            commit_error: Box::new(database_error(
                DatabaseErrorKind::ClosedConnection,
                "server closed the connection unexpectedly",
            )),
        });
        assert!(error.is_retryable(), "{error:?}");
        let error = classify(DieselError::BrokenTransactionManager);
        assert!(error.is_retryable(), "{error:?}");
    }

    #[test]
    fn missing_row_is_not_found_and_other_errors_stay_database_errors() {
        assert!(matches!(
            classify(DieselError::NotFound),
            StoreError::NotFound
        ));
        let error = classify(database_error(
            DatabaseErrorKind::ForeignKeyViolation,
            "FOREIGN KEY constraint failed",
        ));
        assert!(matches!(error, StoreError::Database(_)), "{error:?}");
    }
}
