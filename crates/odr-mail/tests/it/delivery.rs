//! Happy paths and workers that die or race: every mail arrives once, at
//! the right address, threaded per complaint and recipient.

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use odr_store::{Backend, StoreError};
use odr_tests::smtp::SmtpSink;

use crate::world::{assert_each_row_arrived_once, exact_retries, message_id, options, smtp, World};

const ARRIVAL: Duration = Duration::from_secs(10);

on_both_databases!(
    every_pending_mail_arrives_once_threaded_per_complaint_and_recipient,
    a_worker_killed_mid_batch_loses_nothing_and_its_stale_ack_is_refused,
    concurrent_claims_never_hand_out_one_row_twice,
    a_running_worker_delivers_when_woken_and_stops_on_shutdown,
);

async fn every_pending_mail_arrives_once_threaded_per_complaint_and_recipient(backend: Backend) {
    let world = World::new(backend);
    let sink = SmtpSink::start();
    let first = world.file("A-1");
    world.acknowledge(&first);
    world.file("B-2");
    let rows = world.outbox();
    assert_eq!(
        rows.len(),
        5,
        "file ×2 (support, customer) + acknowledge (customer)"
    );

    let worker = world.worker(smtp(&sink.url()), options(exact_retries(8)));
    let report = worker.run_once().await.unwrap();
    assert_eq!(
        (report.claimed, report.sent, report.failed, report.dead),
        (5, 5, 0, 0)
    );

    let mails = sink.wait_for(5, ARRIVAL);
    assert_each_row_arrived_once(&rows, &mails);
    let mail_of = |template: &str, complaint: &str, to: &str| {
        let row = rows
            .iter()
            .find(|r| {
                r.template == template
                    && r.complaint_id.as_deref() == Some(complaint)
                    && r.to_address == to
            })
            .unwrap_or_else(|| panic!("no {template} row to {to}"));
        let id = message_id(&row.id);
        mails
            .iter()
            .find(|m| m.message_id.as_deref() == Some(&id))
            .unwrap()
            .clone()
    };
    let a = &first.complaint.facts().id;
    let receipt = mail_of("complaint_receipt", a, "chris@example.test");
    let acknowledged = mail_of("acknowledged", a, "chris@example.test");
    let filed = mail_of("complaint_filed", a, "support@teapot.test");
    for first_mail in [&receipt, &filed] {
        assert_eq!(
            first_mail.in_reply_to, None,
            "a complaint's first mail starts a thread"
        );
        assert_eq!(first_mail.references, None);
    }
    assert_eq!(
        acknowledged.in_reply_to, receipt.message_id,
        "the second mail replies to the first"
    );
    assert_eq!(acknowledged.references, receipt.message_id);
    let other: Vec<_> = mails
        .iter()
        .filter(|m| {
            ![&receipt, &acknowledged, &filed]
                .iter()
                .any(|x| x.message_id == m.message_id)
        })
        .collect();
    assert_eq!(other.len(), 2);
    for mail in other {
        assert_eq!(
            mail.in_reply_to, None,
            "another complaint is another thread"
        );
    }
    assert!(acknowledged
        .to
        .as_deref()
        .unwrap()
        .contains("Chris Customer"));
    assert_eq!(filed.to.as_deref(), Some("support@teapot.test"));
    assert_eq!(
        acknowledged.header("Auto-Submitted"),
        Some("auto-generated")
    );
    assert_eq!(acknowledged.content_language.as_deref(), Some("en"));
    assert_eq!(acknowledged.content_type, "multipart/alternative");
    assert!(acknowledged.text.is_some() && acknowledged.html.is_some());

    assert!(world
        .outbox()
        .iter()
        .all(|r| r.status == "sent" && r.sent_at.is_some()));
    let again = worker.run_once().await.unwrap();
    assert_eq!(again.claimed, 0, "sent mail is not claimed again");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.messages().len(), 5);
}

async fn a_worker_killed_mid_batch_loses_nothing_and_its_stale_ack_is_refused(backend: Backend) {
    let world = World::new(backend);
    let sink = SmtpSink::start();
    let complaint = world.file("K-1");
    world.acknowledge(&complaint);
    let rows = world.outbox();
    let lease = Duration::from_secs(300);

    // The first worker claims the batch and dies before sending any of it.
    let dead_workers_batch = world
        .store
        .claim_mail(world.clock.now(), lease, 20)
        .unwrap();
    assert_eq!(dead_workers_batch.len(), 3);

    let survivor = world.worker(smtp(&sink.url()), options(exact_retries(8)));
    let report = survivor.run_once().await.unwrap();
    assert_eq!(
        report.claimed, 0,
        "leased rows are not handed out while the lease runs"
    );

    world.clock.advance(lease + Duration::from_secs(1));
    let report = survivor.run_once().await.unwrap();
    assert_eq!((report.claimed, report.sent), (3, 3));
    assert_each_row_arrived_once(&rows, &sink.wait_for(3, ARRIVAL));

    let stale = &dead_workers_batch[0];
    let now = world.clock.now();
    assert!(
        !world
            .store
            .mark_sent(&stale.id, &stale.claim_token, now)
            .unwrap(),
        "an ack with an expired claim token must not apply"
    );
    let failed = world.store.mark_failed(
        &stale.id,
        &stale.claim_token,
        now,
        "late",
        &exact_retries(8),
    );
    assert!(matches!(failed, Err(StoreError::Conflict(_))), "{failed:?}");
    assert!(world
        .outbox()
        .iter()
        .all(|r| r.status == "sent" && r.last_error.is_none()));
}

async fn concurrent_claims_never_hand_out_one_row_twice(backend: Backend) {
    let world = World::new(backend);
    for n in 0..15 {
        world.file(&format!("R-{n}"));
    }
    let all: HashSet<String> = world.outbox().into_iter().map(|r| r.id).collect();
    assert_eq!(all.len(), 30);

    let barrier = Arc::new(Barrier::new(2));
    let now = world.clock.now();
    let claimers: Vec<_> = (0..2)
        .map(|_| {
            let store = world.store.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let mut mine = Vec::new();
                loop {
                    let batch = store.claim_mail(now, Duration::from_secs(300), 3).unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch.into_iter().map(|m| m.id));
                }
            })
        })
        .collect();
    let claims: Vec<Vec<String>> = claimers.into_iter().map(|t| t.join().unwrap()).collect();
    let mut seen = HashSet::new();
    for id in claims.iter().flatten() {
        assert!(seen.insert(id.clone()), "row {id} was claimed twice");
    }
    assert_eq!(seen, all, "every row was claimed by one of the two workers");
}

async fn a_running_worker_delivers_when_woken_and_stops_on_shutdown(backend: Backend) {
    let world = World::new(backend);
    let sink = SmtpSink::start();
    let mut opts = options(exact_retries(8));
    opts.poll_every = Duration::from_secs(3600);
    let wake = Arc::new(tokio::sync::Notify::new());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = world.worker(smtp(&sink.url()), opts);
    let running = tokio::spawn(worker.run(wake.clone(), async {
        let _ = stopped.await;
    }));
    // The first pass runs at start; later mail waits for a wake (the poll is
    // an hour away).
    tokio::time::sleep(Duration::from_millis(100)).await;
    tokio::task::block_in_place(|| world.file("W-1"));
    wake.notify_one();
    let mails = sink.wait_for(2, ARRIVAL);
    assert_each_row_arrived_once(&world.outbox(), &mails);

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the worker stops when told to")
        .unwrap();
}
