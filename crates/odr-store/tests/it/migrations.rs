use std::sync::{Arc, Barrier};
use std::thread;

use odr_store::migrate;
use odr_store::testing::test_pool_options;
use odr_store::PoolOptions;

on_both_backends! {
    /// A fresh database gets the whole schema; starting again changes nothing.
    fn migrations_apply_once_and_rerunning_is_a_no_op(db) {
        let store = db.store();
        let pending = migrate::pending(&store).expect("listing pending migrations");
        assert!(
            pending.iter().any(|name| name.ends_with("_core")),
            "a fresh database should be missing the core migration, got {pending:?}"
        );

        let applied = migrate::run_pending(&store).expect("first migration run");
        assert_eq!(applied, pending, "the first run should apply exactly what was pending");

        let again = migrate::run_pending(&store).expect("second migration run");
        assert!(again.is_empty(), "a second run re-applied {again:?}");
        let left = migrate::pending(&store).expect("listing pending migrations");
        assert!(left.is_empty(), "still pending after migrating: {left:?}");
    }
}

on_both_backends! {
    /// Eight processes starting at once on one fresh database all come up:
    /// one applies the migrations, the others wait and find nothing to do.
    fn concurrent_starts_migrate_once_and_all_succeed(db) {
        const STARTS: usize = 8;
        let barrier = Arc::new(Barrier::new(STARTS));
        let starts: Vec<_> = (0..STARTS)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                // One store per thread, as separate processes would have.
                let store = db.store_with(PoolOptions {
                    max_size: 1,
                    ..test_pool_options()
                });
                thread::spawn(move || {
                    barrier.wait();
                    migrate::run_pending(&store)
                })
            })
            .collect();

        let mut applied = Vec::new();
        for start in starts {
            let result = start.join().expect("a migrating thread panicked");
            applied.extend(result.expect("a concurrent start failed to migrate"));
        }
        let expected = migrate::pending(&db.store_with(test_pool_options()))
            .expect("listing pending migrations");
        assert!(expected.is_empty(), "left pending: {expected:?}");
        let mut unique = applied.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(applied, unique, "a migration was applied by two starts");
        assert!(
            applied.iter().any(|name| name.ends_with("_core")),
            "no start applied the core migration: {applied:?}"
        );
    }
}
