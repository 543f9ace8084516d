//! The `odr` binary from the outside: its subcommands run as processes in a
//! working directory of their own, against a fresh SQLite file or PostgreSQL
//! database, spoken to over real HTTP. One test binary with modules, so it
//! links once.

mod client;
mod load;
mod server;

/// Runs test bodies on each backend, as `sqlite::name` and `postgres::name`,
/// so that the test names say which database ran. `both` functions take the
/// backend; `sqlite` and `postgres` ones hold on one backend only and take
/// nothing.
macro_rules! on_databases {
    (
        both: [$($both:ident),* $(,)?]
        $(, sqlite: [$($sqlite:ident),* $(,)?])?
        $(, postgres: [$($postgres:ident),* $(,)?])?
        $(,)?
    ) => {
        mod sqlite {
            $(#[test] fn $both() { super::$both(odr_store::Backend::Sqlite) })*
            $($(#[test] fn $sqlite() { super::$sqlite() })*)?
        }
        mod postgres {
            $(#[test] fn $both() { super::$both(odr_store::Backend::Postgres) })*
            $($(#[test] fn $postgres() { super::$postgres() })*)?
        }
    };
}

mod bootstrap;
mod browser;
mod fault;
mod integration_doc;
mod processes;
mod scale;
mod schemathesis;
mod shutdown;
mod startup;
mod walkthrough;
