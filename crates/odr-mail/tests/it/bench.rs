//! Measurements, not checks: run with
//! `cargo nextest run -p odr-mail --run-ignored only -E 'test(bench)' --no-capture`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use odr_store::Backend;
use odr_tests::smtp::SmtpSink;

use crate::world::{exact_retries, options, smtp, World};

macro_rules! ignored_on_both_databases {
    ($($name:ident),+) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "a measurement; run on demand"]
                async fn $name() {
                    super::$name(odr_store::Backend::Sqlite).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "a measurement; run on demand"]
                async fn $name() {
                    super::$name(odr_store::Backend::Postgres).await
                }
            )+
        }
    };
}

ignored_on_both_databases!(
    bench_mails_per_second,
    bench_latency_from_commit_to_delivery,
    bench_smtp_alone
);

/// The transport alone, without database or rendering: 200 small mails.
async fn bench_smtp_alone(_backend: Backend) {
    let sink = SmtpSink::start();
    let transport = smtp(&sink.url());
    let started = Instant::now();
    for n in 0..200 {
        let message = lettre::Message::builder()
            .from("ODR <no-reply@odr.test>".parse().unwrap())
            .to("chris@example.test".parse().unwrap())
            .subject(format!("mail {n}"))
            .body("hello".to_owned())
            .unwrap();
        transport.send(message).await.unwrap();
    }
    let took = started.elapsed();
    sink.wait_for(200, Duration::from_secs(30));
    println!(
        "SMTP alone: 200 mails in {took:.2?}: {:.0} mails/s",
        200.0 / took.as_secs_f64()
    );
}

const COMPLAINTS: usize = 200;

async fn bench_mails_per_second(backend: Backend) {
    let world = World::new(backend);
    let sink = SmtpSink::start();
    for n in 0..COMPLAINTS {
        world.file(&format!("T-{n}"));
    }
    let mut opts = options(exact_retries(8));
    opts.batch = 50;
    let worker = world.worker(smtp(&sink.url()), opts);
    let started = Instant::now();
    let mut sent = 0;
    loop {
        let report = worker.run_once().await.unwrap();
        sent += report.sent;
        if report.claimed == 0 {
            break;
        }
    }
    let took = started.elapsed();
    sink.wait_for(2 * COMPLAINTS, Duration::from_secs(30));
    assert_eq!(sent, 2 * COMPLAINTS);
    println!(
        "{backend}: one worker delivered {sent} mails in {took:.2?}: {:.0} mails/s",
        sent as f64 / took.as_secs_f64()
    );
}

async fn bench_latency_from_commit_to_delivery(backend: Backend) {
    let world = World::new(backend);
    let sink = SmtpSink::start();
    let mut opts = options(exact_retries(8));
    opts.poll_every = Duration::from_secs(60);
    let wake = Arc::new(tokio::sync::Notify::new());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = world.worker(smtp(&sink.url()), opts);
    let running = tokio::spawn(worker.run(wake.clone(), async {
        let _ = stopped.await;
    }));
    let mut latencies = Vec::new();
    for n in 0..30 {
        let store_world = &world;
        let committed = tokio::task::block_in_place(|| {
            store_world.file(&format!("L-{n}"));
            Instant::now()
        });
        wake.notify_one();
        let expected = 2 * (n + 1);
        while sink.count() < expected {
            tokio::time::sleep(Duration::from_millis(1)).await;
            assert!(
                committed.elapsed() < Duration::from_secs(10),
                "mail did not arrive"
            );
        }
        latencies.push(committed.elapsed());
    }
    let _ = stop.send(());
    running.await.unwrap();
    latencies.sort();
    println!(
        "{backend}: commit → both mails in the sink: median {:.1?}, p90 {:.1?}, max {:.1?}",
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 9 / 10],
        latencies[latencies.len() - 1]
    );
}
