//! odr-mail's integration tests: one binary. Delivery runs against the real
//! SMTP sink (`scripts/smtp_sink.py`) and the real store on both databases.

#![allow(clippy::unwrap_used)]

/// Defines `mod sqlite { async fn name() }` and `mod postgres { ... }`,
/// each running `name(backend)` on a multi-threaded runtime (the worker's
/// database calls go through `spawn_blocking`).
macro_rules! on_both_databases {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(odr_store::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(odr_store::Backend::Postgres).await
                }
            )+
        }
    };
}

mod bench;
mod delivery;
mod failures;
mod files;
mod world;
