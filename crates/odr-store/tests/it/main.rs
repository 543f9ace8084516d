//! odr-store's integration tests: one binary, one module per concern. Every
//! storage behaviour is checked on SQLite and on PostgreSQL.

/// Defines `mod $name { fn sqlite(); fn postgres(); }`, two tests that run
/// `$body` with `$db` bound to a fresh, empty `TestDatabase` of that backend
/// (dropped, with its data, when the test ends).
macro_rules! on_both_backends {
    ($(#[doc = $doc:expr])* fn $name:ident($db:ident) $body:block) => {
        $(#[doc = $doc])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn run($db: odr_store::testing::TestDatabase) $body

            #[test]
            fn sqlite() {
                run(odr_store::testing::TestDatabase::sqlite())
            }

            #[test]
            fn postgres() {
                run(odr_store::testing::TestDatabase::postgres())
            }
        }
    };
}

mod migrations;
mod parity;
mod pool;
mod schema;
mod settings;
mod transactions;
