//! The mail server goes away: nothing is lost, nothing is sent twice, and
//! what keeps failing ends up `dead` for an admin to requeue.

use std::time::Duration;

use odr_store::Backend;
use odr_tests::smtp::SmtpSink;

use crate::world::{
    assert_each_row_arrived_once, count_by_message_id, exact_retries, message_id, options, smtp,
    World,
};

const ARRIVAL: Duration = Duration::from_secs(10);

on_both_databases!(
    mail_written_while_the_server_is_down_arrives_once_when_it_is_back,
    mail_that_keeps_failing_is_dead_with_its_error_until_an_admin_requeues_it,
);

async fn mail_written_while_the_server_is_down_arrives_once_when_it_is_back(backend: Backend) {
    let world = World::new(backend);
    let mut sink = SmtpSink::start();
    let worker = world.worker(smtp(&sink.url()), options(exact_retries(8)));
    let complaint = world.file("D-1");
    sink.stop();

    let report = worker.run_once().await.unwrap();
    assert_eq!((report.claimed, report.failed, report.dead), (2, 2, 0));
    let failed_at = world.clock.now();
    for row in world.outbox() {
        assert_eq!(
            (row.status.as_str(), row.attempts),
            ("pending", 1),
            "{row:?}"
        );
        assert_eq!(row.available_at, failed_at + chrono::Duration::seconds(30));
        assert!(row.last_error.is_some(), "the failure is recorded");
    }

    // Transitions go on while the server is down; their mail waits too.
    world.clock.advance(Duration::from_secs(5));
    world.acknowledge(&complaint);
    world.file("D-2");
    let report = worker.run_once().await.unwrap();
    assert_eq!(
        (report.claimed, report.failed),
        (3, 3),
        "only the new rows are due; the first two wait for their backoff"
    );
    let rows = world.outbox();
    assert_eq!(rows.len(), 5);
    assert!(rows
        .iter()
        .all(|r| r.status == "pending" && r.attempts == 1));

    sink.restart();
    let report = worker.run_once().await.unwrap();
    assert_eq!(report.claimed, 0, "nothing is due before its backoff ends");
    world.clock.advance(Duration::from_secs(31));
    let report = worker.run_once().await.unwrap();
    assert_eq!((report.claimed, report.sent), (5, 5));
    let mails = sink.wait_for(5, ARRIVAL);
    assert_each_row_arrived_once(&rows, &mails);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(worker.run_once().await.unwrap().claimed, 0);
    assert!(count_by_message_id(&sink.messages())
        .values()
        .all(|n| *n == 1));
}

async fn mail_that_keeps_failing_is_dead_with_its_error_until_an_admin_requeues_it(
    backend: Backend,
) {
    let world = World::new(backend);
    let mut sink = SmtpSink::start();
    sink.stop();
    let worker = world.worker(smtp(&sink.url()), options(exact_retries(3)));
    world.file("X-1");

    let mut waits = Vec::new();
    for attempt in 1..=3 {
        let report = worker.run_once().await.unwrap();
        assert_eq!(report.claimed, 2, "attempt {attempt}");
        let row = &world.outbox()[0];
        waits.push((row.available_at - world.clock.now()).num_seconds());
        world.clock.advance(Duration::from_secs(3600));
        if attempt < 3 {
            assert_eq!((report.failed, report.dead), (2, 0), "attempt {attempt}");
        } else {
            assert_eq!((report.failed, report.dead), (0, 2), "attempt {attempt}");
        }
    }
    assert_eq!(waits[..2], [30, 60], "the wait doubles after each failure");
    assert_eq!(
        worker.run_once().await.unwrap().claimed,
        0,
        "dead mail is not retried"
    );

    let dead = world.store.list_outbox(Some("dead"), 50).unwrap();
    assert_eq!(dead.len(), 2);
    for row in &dead {
        assert_eq!(row.attempts, 3);
        let error = row.last_error.as_deref().unwrap_or_default();
        assert!(error.contains("SMTP"), "the last error is kept: {error:?}");
    }
    assert_eq!(
        world.store.count_by_status().unwrap(),
        [("dead".to_owned(), 2)]
    );

    sink.restart();
    let requeued = &dead[0];
    let now = world.clock.now();
    assert!(world.store.retry_dead(&requeued.id, now).unwrap());
    assert!(
        !world.store.retry_dead(&requeued.id, now).unwrap(),
        "only dead mail can be requeued"
    );
    let report = worker.run_once().await.unwrap();
    assert_eq!((report.claimed, report.sent), (1, 1));
    let mails = sink.wait_for(1, ARRIVAL);
    assert_eq!(mails[0].message_id, Some(message_id(&requeued.id)));
    let mut counts = world.store.count_by_status().unwrap();
    counts.sort();
    assert_eq!(counts, [("dead".to_owned(), 1), ("sent".to_owned(), 1)]);
    let sent = world.store.list_outbox(Some("sent"), 50).unwrap();
    assert_eq!(sent[0].attempts, 0, "a requeue starts the count afresh");
}
