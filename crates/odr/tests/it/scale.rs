//! Three `odr serve` processes (each with HTTP, mail worker and scheduler)
//! on one PostgreSQL database, one SMTP sink, and many clients at once,
//! each sending its requests round-robin over the three. Some requests race
//! each other through two processes, some race the three schedulers (the
//! acknowledge deadline and some offers run out within seconds).
//! Afterwards the database and the sink must agree with what the clients
//! were answered:
//!
//! - every log is gapless, chained, and ends in the stored state;
//! - every success is in the log once, no refusal is, no deadline acted
//!   twice, every deadline due has acted;
//! - of two requests that exclude each other exactly one succeeded;
//! - every outbox row arrived at the sink exactly once (by Message-ID), and
//!   nothing else did.

use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use odr_store::Backend;
use odr_tests::smtp::SmtpSink;

use crate::client;
use crate::load::{self, Answer, Driver, Journey, ALL_JOURNEYS};
use crate::server::{Server, Site};

const PROCESSES: usize = 3;
const CLIENTS: usize = 24;
const JOURNEYS_PER_CLIENT: usize = 2;

#[test]
fn postgres_three_processes_under_load_apply_each_event_once_and_mail_it_once() {
    let started = Instant::now();
    let sink = SmtpSink::start();
    let site = Site::new(Backend::Postgres);
    site.run(&["seed-demo"], &[]).assert_success();
    let smtp = sink.url();
    let env = [
        ("ODR_SMTP_URL", smtp.as_str()),
        ("ODR_POOL_SIZE", "8"),
        ("ODR_RATE_LIMIT_LOGIN", "100000/min"),
        ("ODR_DEADLINE_ACKNOWLEDGE", "4s"),
        ("ODR_SCHEDULER_INTERVAL", "1s"),
        ("ODR_MAIL_POLL_INTERVAL", "1s"),
    ];
    let mut servers: Vec<Server> = (0..PROCESSES)
        .map(|i| {
            let args: &[&str] = if i == 0 {
                &["serve"]
            } else {
                &["serve", "--no-migrate"]
            };
            site.spawn_with(args, &env)
        })
        .collect();
    for server in &mut servers {
        server.wait_until_healthy();
    }
    let addrs: Vec<_> = servers.iter().map(|s| s.addr).collect();
    let before = load::complaint_ids(&site.database_url);
    let shop = load::demo_shop(addrs[0]);
    let progress = AtomicUsize::new(0);

    let drivers: Vec<Driver> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (addrs, shop, progress) = (&addrs, &shop, &progress);
                s.spawn(move || {
                    let mut driver = Driver::new(addrs, c, &format!("scale{c}"), shop, progress);
                    for j in 0..JOURNEYS_PER_CLIENT {
                        let journey =
                            ALL_JOURNEYS[(c * JOURNEYS_PER_CLIENT + j) % ALL_JOURNEYS.len()];
                        driver.journey(journey);
                    }
                    driver
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a client thread panicked"))
            .collect()
    });
    let load_done = started.elapsed();

    let attempts: Vec<_> = drivers.iter().flat_map(|d| d.attempts.clone()).collect();
    // Under this load nothing is unavailable or broken: every answer is a
    // success or a refusal with a problem document saying why.
    for a in &attempts {
        match a.answer {
            Answer::Status(status) if (200..300).contains(&status) => {}
            Answer::Status(409) => assert!(
                matches!(a.code.as_deref(), Some("invalid_transition" | "conflict")),
                "a 409 without its code: {a:?}"
            ),
            _ => panic!("a request failed under load: {a:?}"),
        }
    }

    let url = &site.database_url;
    load::wait_for_deadlines(url, Duration::from_secs(40));
    let rows = load::wait_for_mail(url, &sink, Duration::from_secs(40));
    let all = load::complaints(url);
    load::check_logs(&all);
    load::check_attempts(&all, &before, &attempts);
    load::check_every_event_mailed(&all, &rows);

    // Each mail exactly once, and nothing else.
    let seen = load::deliveries(&rows, &sink);
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "mails delivered more than once: {twice:?}"
    );
    assert_eq!(
        sink.count(),
        rows.len(),
        "the sink got other mail than the outbox's"
    );

    // Races of requests that exclude each other: exactly one won.
    let mut raced = 0;
    let mut deadline_won = 0;
    for driver in &drivers {
        for (journey, id) in &driver.journeys {
            let tried: Vec<_> = driver
                .attempts
                .iter()
                .filter(|a| a.complaint.as_deref() == Some(id.as_str()))
                .collect();
            let ok = |event: &str| {
                tried
                    .iter()
                    .filter(|a| a.event == event && a.answer.ok())
                    .count()
            };
            let sent = |event: &str| tried.iter().filter(|a| a.event == event).count();
            let c = &all[id];
            match journey {
                Journey::RaceAcceptReject if sent("accept") == 1 => {
                    raced += 1;
                    assert_eq!(
                        ok("accept") + ok("reject"),
                        1,
                        "accept vs reject on {id}: {tried:#?}"
                    );
                }
                Journey::DoubleFulfil if sent("fulfil") == 2 => {
                    raced += 1;
                    assert_eq!(ok("fulfil"), 1, "fulfil twice on {id}: {tried:#?}");
                    assert_eq!(
                        (c.state.as_str(), c.outcome.as_deref()),
                        ("closed", Some("resolved"))
                    );
                }
                Journey::RaceAcceptWithdraw if sent("withdraw") == 1 => {
                    raced += 1;
                    assert!(
                        ok("accept") + ok("withdraw") >= 1,
                        "neither won on {id}: {tried:#?}"
                    );
                }
                Journey::LateAcknowledge if sent("acknowledge") == 1 => {
                    // The staff or a scheduler: one of them, once.
                    assert_eq!(
                        c.count("acknowledge") + c.count("deadline_passed"),
                        1,
                        "acknowledgement vs deadline on {id}: {c:#?}"
                    );
                    deadline_won += c.count("deadline_passed");
                }
                Journey::Lapse if sent("accept") == 1 => {
                    assert_eq!(
                        c.count("accept") + c.count("deadline_passed"),
                        1,
                        "acceptance vs expiry on {id}: {c:#?}"
                    );
                    if c.count("deadline_passed") == 1 {
                        deadline_won += 1;
                        assert_eq!(c.outcome.as_deref(), Some("lapsed"), "{c:#?}");
                    }
                }
                _ => {}
            }
        }
    }
    assert!(raced > 0, "no race between two processes took place");

    // Through the API of each process: the same state as the database.
    let admin = client::post(
        addrs[0],
        "/api/v1/auth/login",
        None,
        &serde_json::json!({ "email": "admin@demo.odr.test", "password": "demo-admin-pass" }),
    )
    .expect("admin login")
    .expect(200)["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    for (i, (id, c)) in all.iter().enumerate() {
        let events = client::get(
            addrs[i % PROCESSES],
            &format!("/api/v1/complaints/{id}/events"),
            Some(&admin),
        )
        .expect("events")
        .expect(200);
        let items = events
            .as_array()
            .or_else(|| events["items"].as_array())
            .expect("a list of events");
        assert_eq!(
            items.len(),
            c.events.len(),
            "complaint {id} through the API"
        );
        let view = client::get(
            addrs[(i + 1) % PROCESSES],
            &format!("/api/v1/complaints/{id}"),
            Some(&admin),
        )
        .expect("complaint")
        .expect(200);
        assert_eq!(
            view["state"],
            c.state.as_str(),
            "complaint {id} through the API"
        );
    }
    for server in &mut servers {
        assert!(server.is_running(), "a server died:\n{}", server.logs());
    }
    eprintln!(
        "scale: {} requests by {CLIENTS} clients over {PROCESSES} processes in {load_done:?}, \
         {} complaints, {} events, {} mails, {raced} races between processes, \
         {deadline_won} won by a scheduler; {:?} in all",
        attempts.len(),
        all.len(),
        all.values().map(|c| c.events.len()).sum::<usize>(),
        rows.len(),
        started.elapsed()
    );
}
