//! Concurrent transitions on one complaint never both apply.

use std::sync::{Arc, Barrier};

use actix_web::test::init_service;
use futures_util::future::join_all;
use odr_domain::complaint::Command;
use odr_domain::taxonomy::RejectionReason;
use odr_domain::Actor;
use odr_store::StoreError;
use odr_tests::{on_both_databases, t0, Db, TestApp};
use serde_json::json;

use crate::steps::*;

on_both_databases!(
    racing_transitions_from_one_version_apply_exactly_once,
    racing_requests_keep_the_log_consistent
);

/// Threads that all read the complaint at the same version and race to
/// write accept, reject or withdraw: exactly one commits, the others get
/// `Conflict` and write nothing.
async fn racing_transitions_from_one_version_apply_exactly_once(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    for _ in 0..5 {
        let c = id(&file(&app, &w).await);
        act(
            &app,
            &c,
            "offers",
            &w.staff,
            json!({"remedy": "replacement"}),
        )
        .await
        .expect(200);
        let threads = 9;
        let barrier = Arc::new(Barrier::new(threads));
        let results: Vec<Result<(), StoreError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|i| {
                    let (store, policy, barrier, c) =
                        (t.store(), &t.state.policy, barrier.clone(), &c);
                    let customer = Actor::customer(w.customer.id.clone());
                    scope.spawn(move || {
                        let stored = store.complaint(c).expect("read").expect("exists");
                        let retailer = store
                            .retailer(&stored.complaint.facts().retailer_id)
                            .expect("read");
                        let command = match i % 3 {
                            0 => Command::Accept { offer_id: None },
                            1 => Command::Reject {
                                reason: RejectionReason::TooSlow,
                                counter_remedy: None,
                                message: None,
                            },
                            _ => Command::Withdraw { reason: None },
                        };
                        let tr = stored
                            .complaint
                            .apply(&command, &customer, t0(), policy, &Default::default(), "x")
                            .expect("the machine accepts each of them from `proposed`");
                        barrier.wait();
                        store
                            .record_transition(stored.version, &tr, retailer.as_ref())
                            .map(|_| ())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "exactly one racing transition commits: {results:?}");
        assert!(results
            .iter()
            .filter(|r| r.is_err())
            .all(|r| matches!(r, Err(StoreError::Conflict(_)))));
        let log = t.store().events(&c).expect("log");
        assert_eq!(log.len(), 3, "file, propose and the one winner");
        let outbox = t.store().outbox_of(&c).expect("outbox");
        assert!(
            outbox.iter().all(|o| o.event_seq <= Some(3)),
            "losers queued no mail"
        );
    }
}

/// Many requests at once over HTTP: every 200 is one event, the log has no
/// gaps, and accept and reject never both win.
async fn racing_requests_keep_the_log_consistent(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    for round in 0..3 {
        let c = id(&file(&app, &w).await);
        act(
            &app,
            &c,
            "offers",
            &w.staff,
            json!({"remedy": "replacement"}),
        )
        .await
        .expect(200);
        let attempts = (0..12).map(|i| {
            let (action, body) = match (i + round) % 3 {
                0 => ("accept", json!({})),
                1 => ("reject", json!({"reason": "too_slow"})),
                _ => ("withdraw", json!({})),
            };
            let (app, c, customer) = (&app, c.clone(), w.customer.clone());
            async move { (action, act(app, &c, action, &customer, body).await) }
        });
        let answers = join_all(attempts).await;
        let winners: Vec<&str> = answers
            .iter()
            .filter(|(_, a)| a.status == 200)
            .map(|(n, _)| *n)
            .collect();
        for (_, lost) in answers.iter().filter(|(_, a)| a.status != 200) {
            assert_eq!(lost.status, 409, "the losers answer 409: {lost:?}");
        }
        assert!(!winners.is_empty());
        assert!(
            !(winners.contains(&"accept") && winners.contains(&"reject")),
            "{winners:?}"
        );
        assert!(
            winners.iter().filter(|w| **w == "withdraw").count() <= 1,
            "{winners:?}"
        );
        let log = t.store().events(&c).expect("log");
        assert_eq!(log.len(), 2 + winners.len(), "one event per 200");
        for (i, e) in log.iter().enumerate() {
            assert_eq!(e.seq, i as i64 + 1);
            if i > 0 {
                assert_eq!(e.from_state.as_deref(), Some(log[i - 1].to_state.as_str()));
            }
        }
        let stored = t.store().complaint(&c).expect("read").expect("exists");
        assert_eq!(stored.version, log.len() as i64);
    }
}
