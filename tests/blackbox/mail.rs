//! Every notification of lifecycle.md's table, through the real worker to
//! a real SMTP server on loopback: the right addresses, the reference, the
//! recipient's language, one thread per complaint and recipient.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::Method;
use actix_web::test::init_service;
use odr_http::Clock;
use odr_mail::message::Sender;
use odr_mail::render::Renderer;
use odr_mail::transport::MailTransport;
use odr_mail::worker::{OutboxWorker, WorkerOptions};
use odr_tests::smtp::{ReceivedMail, SmtpSink};
use odr_tests::{call, on_both_databases, Db, TestApp};
use serde_json::json;

use crate::steps::*;

on_both_databases!(
    every_notification_reaches_exactly_its_recipients_in_their_language,
    admins_see_dead_mail_and_requeue_it
);

/// A mail worker that sends to the SMTP sink (also used by guest_filing.rs).
pub fn worker(t: &TestApp, sink: &SmtpSink) -> OutboxWorker {
    let clock = t.clock.clone();
    OutboxWorker::new(
        t.store().clone(),
        Arc::new(Renderer::new("http://odr.test").expect("renderer")),
        Arc::new(
            MailTransport::from_settings(
                Some(&sink.url()),
                Path::new("unused"),
                Duration::from_secs(5),
            )
            .expect("smtp transport"),
        ),
        Sender::new("ODR <no-reply@odr.test>", "http://odr.test").expect("sender"),
        Arc::new(move || clock.now()),
        WorkerOptions::default(),
    )
}

async fn every_notification_reaches_exactly_its_recipients_in_their_language(db: Db) {
    let sink = SmtpSink::start();
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    call(
        &app,
        Method::PATCH,
        "/api/v1/me",
        Some(&w.customer),
        Some(json!({"locale": "de", "time_zone": "Europe/Berlin"})),
    )
    .await
    .expect(200);
    let filed = file(&app, &w).await;
    let c = id(&filed);
    let reference = filed["reference"].as_str().expect("reference").to_owned();
    act(&app, &c, "acknowledge", &w.staff, json!({}))
        .await
        .expect(200);
    act(
        &app,
        &c,
        "offers",
        &w.staff,
        json!({"remedy": "voucher", "amount": {"amount_minor": 1500, "currency": "EUR"}}),
    )
    .await
    .expect(200);
    act(
        &app,
        &c,
        "reject",
        &w.customer,
        json!({"reason": "wrong_remedy", "counter_remedy": "full_refund"}),
    )
    .await
    .expect(200);
    act(
        &app,
        &c,
        "offers",
        &w.staff,
        json!({"remedy": "replacement"}),
    )
    .await
    .expect(200);
    act(
        &app,
        &c,
        "escalate",
        &w.customer,
        json!({"reason": "offers_rejected"}),
    )
    .await
    .expect(200);
    act(
        &app,
        &c,
        "mediator",
        &w.admin,
        json!({"mediator_id": w.mediator.id}),
    )
    .await
    .expect(200);
    act(
        &app,
        &c,
        "messages",
        &w.customer,
        json!({"phrase_codes": ["photos_attached"], "body": "<b>Fotos</b> anbei"}),
    )
    .await
    .expect(201);
    act(&app, &c, "decision", &w.mediator, json!({"in_favour_of": "customer", "remedy": "full_refund",
        "amount": {"amount_minor": 2500, "currency": "EUR"}, "reasoning": "The lid was cracked in transit."})).await.expect(200);

    let worker = worker(&t, &sink);
    let report = worker.run_once().await.expect("a delivery pass");
    assert_eq!(report.sent, 15, "{report:?}");
    assert_eq!(
        worker.run_once().await.expect("second pass").claimed,
        0,
        "nothing is sent twice"
    );
    let mails = sink.wait_for(15, Duration::from_secs(10));
    assert_eq!(mails.len(), 15);

    let mut by_address: BTreeMap<String, Vec<&ReceivedMail>> = BTreeMap::new();
    for m in &mails {
        assert_eq!(m.envelope_to.len(), 1, "one recipient per mail");
        let subject = m.subject.as_deref().unwrap_or_default();
        assert!(
            subject.contains(&reference),
            "every subject names the reference: {subject}"
        );
        by_address
            .entry(m.envelope_to[0].clone())
            .or_default()
            .push(m);
    }
    let counts: BTreeMap<&str, usize> = by_address
        .iter()
        .map(|(a, v)| (a.as_str(), v.len()))
        .collect();
    assert_eq!(
        counts,
        BTreeMap::from([
            ("admin@odr.test", 1),
            ("chris@example.test", 6),
            ("mia@odr.test", 3),
            ("support@teapot-shop.test", 5),
        ]),
        "file 2, acknowledge 1, offers 2, reject 1, escalate 3, assign 1, message 2, decide 3"
    );
    for (address, mails) in &by_address {
        let roots: Vec<_> = mails.iter().filter(|m| m.in_reply_to.is_none()).collect();
        assert_eq!(roots.len(), 1, "{address}: one mail starts the thread");
        let root_id = roots[0].message_id.clone().expect("a Message-ID");
        for m in mails.iter().filter(|m| m.in_reply_to.is_some()) {
            assert_eq!(
                m.in_reply_to.as_deref(),
                Some(root_id.as_str()),
                "{address}"
            );
            assert!(m
                .references
                .as_deref()
                .unwrap_or_default()
                .contains(&root_id));
        }
    }
    for m in &by_address["chris@example.test"] {
        assert_eq!(
            m.content_language.as_deref(),
            Some("de"),
            "the customer chose German"
        );
    }
    for m in &by_address["admin@odr.test"] {
        assert_eq!(m.content_language.as_deref(), Some("en"));
    }
    // The mediator reads the customer's structured phrase in English, and
    // the customer's markup is text, not HTML.
    let to_mediator = by_address["mia@odr.test"]
        .iter()
        .find(|m| m.html.as_deref().unwrap_or_default().contains("Fotos"))
        .expect("the message reached the mediator");
    let html = to_mediator.html.as_deref().unwrap_or_default();
    assert!(
        html.contains("&lt;b&gt;Fotos&lt;/b&gt;"),
        "user text is escaped in HTML"
    );
    assert!(!html.contains("<b>Fotos</b>"));
    let outbox = t.store().outbox_of(&c).expect("outbox");
    assert!(
        outbox.iter().all(|o| o.status == "sent"),
        "every row is marked sent"
    );
}

async fn admins_see_dead_mail_and_requeue_it(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    file(&app, &w).await;
    kill_queued_mail(&t);
    let dead = get(&app, "/api/v1/admin/outbox?status=dead", &w.admin)
        .await
        .expect(200);
    let rows = dead["items"].as_array().expect("items");
    assert_eq!(rows.len(), 2, "the retailer's and the customer's mail");
    assert_eq!(rows[0]["last_error"], "550 mailbox unavailable");
    get(&app, "/api/v1/admin/outbox?status=dead", &w.staff)
        .await
        .expect(403);
    let bad = get(&app, "/api/v1/admin/outbox?status=lost", &w.admin)
        .await
        .expect(422);
    assert_eq!(bad["errors"][0]["field"], "status");
    let first = rows[0]["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/admin/outbox/{first}/retry");
    post(&app, &path, &w.staff, json!({})).await.expect(403);
    post(&app, &path, &w.admin, json!({})).await.expect(202);
    post(&app, &path, &w.admin, json!({})).await.expect(409);
    let left = get(&app, "/api/v1/admin/outbox?status=dead", &w.admin)
        .await
        .expect(200);
    assert_eq!(left["items"].as_array().expect("items").len(), 1);
    let pending = get(&app, "/api/v1/admin/outbox?status=pending", &w.admin)
        .await
        .expect(200);
    assert_eq!(pending["items"][0]["id"], first.as_str());
    assert_eq!(pending["items"][0]["attempts"], 0);
}
