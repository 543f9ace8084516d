//! The roles of a process: `odr serve` sends mail over real SMTP and acts
//! on deadlines by itself; the same work split over `serve --no-worker
//! --no-scheduler`, `odr worker` and `odr scheduler` gives the same result.
//! Deadlines are set to seconds; waits poll with a bound.

use std::time::{Duration, Instant};

use odr_store::Backend;
use odr_tests::smtp::SmtpSink;
use serde_json::{json, Value};

use crate::server::{Server, Site};

on_databases! {
    both: [
        serve_mails_over_smtp_and_escalates_an_unanswered_complaint,
        worker_and_scheduler_run_as_processes_of_their_own,
    ],
}

/// Settings that make the acknowledge deadline pass within seconds.
fn quick(sink: &SmtpSink) -> Vec<(&'static str, String)> {
    vec![
        ("ODR_SMTP_URL", sink.url()),
        ("ODR_DEADLINE_ACKNOWLEDGE", "3s".into()),
        ("ODR_SCHEDULER_INTERVAL", "1s".into()),
        ("ODR_MAIL_POLL_INTERVAL", "1s".into()),
    ]
}

fn env<'a>(pairs: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Files the demo customer's complaint against the demo shop.
fn file_complaint(web: &Server) -> Value {
    let customer = web.login("customer@demo.odr.test", "demo-customer-pass");
    let shops = web.get("/api/v1/retailers", None).expect(200);
    let shop = shops["items"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["name"] == "Demo Shop"))
        .expect("the demo shop")["id"]
        .clone();
    web.post(
        "/api/v1/complaints",
        Some(&customer),
        &json!({
            "retailer_id": shop, "order_reference": "P-1", "category": "not_delivered",
            "desired_remedy": "redelivery", "description": "The parcel never came."
        }),
    )
    .expect(201)
}

fn wait_for_state(web: &Server, id: &str, state: &str) -> Value {
    let admin = web.login("admin@demo.odr.test", "demo-admin-pass");
    let started = Instant::now();
    loop {
        let now = web
            .get(&format!("/api/v1/complaints/{id}"), Some(&admin))
            .expect(200);
        if now["state"] == state {
            return now;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "still {} after 30 s: {}",
            now["state"],
            web.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn check_the_journey(web: &Server, sink: &SmtpSink) {
    let filed = file_complaint(web);
    let reference = filed["reference"].as_str().expect("reference").to_owned();
    let escalated = wait_for_state(web, filed["id"].as_str().expect("id"), "escalated");
    assert_eq!(escalated["escalation"]["reason"], "no_acknowledgement");
    // Ours: the receipt and the shop's notice, then the escalation to the
    // customer, the shop and the admin (a reminder to the shop may come
    // between, if a scheduler pass fell into its one-second window). The
    // demo complaint's own mails are not ours.
    let started = Instant::now();
    let ours = loop {
        let ours: Vec<_> = sink
            .messages()
            .into_iter()
            .filter(|m| {
                m.subject
                    .as_deref()
                    .unwrap_or_default()
                    .contains(&reference)
            })
            .collect();
        if ours.len() >= 5 || started.elapsed() > Duration::from_secs(30) {
            break ours;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let to = |address: &str| ours.iter().filter(|m| m.envelope_to == [address]).count();
    assert_eq!(to("customer@demo.odr.test"), 2, "receipt and escalation");
    assert!(
        (2..=3).contains(&to("support@demo-shop.test")),
        "notice, escalation (and a reminder)"
    );
    assert_eq!(
        to("admin@demo.odr.test"),
        1,
        "an escalation waiting for a mediator"
    );
}

fn serve_mails_over_smtp_and_escalates_an_unanswered_complaint(backend: Backend) {
    let sink = SmtpSink::start();
    let site = Site::new(backend);
    site.run(&["seed-demo"], &[]).assert_success();
    let settings = quick(&sink);
    let web = site.serve(&env(&settings));
    check_the_journey(&web, &sink);
}

fn worker_and_scheduler_run_as_processes_of_their_own(backend: Backend) {
    let sink = SmtpSink::start();
    let site = Site::new(backend);
    site.run(&["seed-demo"], &[]).assert_success();
    let settings = quick(&sink);
    let web = {
        let mut web = site.spawn_with(&["serve", "--no-worker", "--no-scheduler"], &env(&settings));
        web.wait_until_healthy();
        web
    };
    let _worker = site.spawn_with(&["worker"], &env(&settings));
    let _scheduler = site.spawn_with(&["scheduler"], &env(&settings));
    check_the_journey(&web, &sink);
}
