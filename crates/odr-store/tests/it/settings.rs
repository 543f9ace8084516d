use std::sync::{Arc, Barrier};
use std::thread;

use odr_store::settings;

on_both_backends! {
    /// Processes started together must all sign tokens with the same secret.
    fn the_first_stored_setting_wins_for_every_process(db) {
        let store = db.migrated_store();
        const STARTS: usize = 4;
        let barrier = Arc::new(Barrier::new(STARTS));
        let starts: Vec<_> = (0..STARTS)
            .map(|i| {
                let (store, barrier) = (store.clone(), Arc::clone(&barrier));
                thread::spawn(move || {
                    barrier.wait();
                    settings::get_or_insert_with(&store, "jwt_secret", || format!("secret-{i}"))
                })
            })
            .collect();
        let mut seen: Vec<String> = starts
            .into_iter()
            .map(|start| start.join().expect("thread").expect("get_or_insert_with"))
            .collect();
        seen.dedup();
        assert_eq!(seen.len(), 1, "processes disagree on the secret: {seen:?}");
        let again = settings::get_or_insert_with(&store, "jwt_secret", || "late".into())
            .expect("reading the stored secret");
        assert_eq!(again, seen[0]);
    }
}
