//! Feedback: the customer of a closed complaint rates it once (1 to 5, an
//! optional comment); the machine offers `feedback` in `allowed_actions`
//! until then, logs it as a `feedback` event that leaves the state
//! `closed`, and every closing mail to the customer asks for it.

use actix_web::http::Method;
use actix_web::test::init_service;
use odr_mail::render::Renderer;
use odr_store::mail_facts::MailFacts;
use odr_tests::{call_with_headers, on_both_databases, Db, TestApp};
use serde_json::json;

use crate::steps::*;

on_both_databases!(
    feedback_is_given_once_by_the_customer_of_a_closed_complaint,
    feedback_is_checked_and_replayed_like_any_post,
    the_closing_mail_asks_the_customer_how_satisfied_they_are
);

async fn feedback_is_given_once_by_the_customer_of_a_closed_complaint(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    let path = format!("/api/v1/complaints/{c}");

    // Not while the complaint is open: refused like any other transition.
    let open = act(&app, &c, "feedback", &w.customer, json!({"score": 5}))
        .await
        .expect(409);
    assert_eq!(open["code"], "invalid_transition");
    assert_eq!(open["state"], "filed");
    assert_eq!(open["allowed_actions"], json!(["escalate", "withdraw"]));
    let filed = get(&app, &path, &w.customer).await.expect(200);
    assert!(!actions(&filed).contains(&"feedback"));

    act(&app, &c, "withdraw", &w.customer, json!({}))
        .await
        .expect(200);
    // Closed: the customer may give feedback, nobody else.
    let closed = get(&app, &path, &w.customer).await.expect(200);
    assert_eq!(actions(&closed), vec!["feedback"]);
    let for_staff = get(&app, &path, &w.staff).await.expect(200);
    assert!(actions(&for_staff).is_empty());
    for who in [&w.staff, &w.admin] {
        let no = act(&app, &c, "feedback", who, json!({"score": 5}))
            .await
            .expect(403);
        assert_eq!(no["code"], "forbidden");
    }
    // Another customer cannot even see the complaint.
    act(&app, &c, "feedback", &w.other_customer, json!({"score": 5}))
        .await
        .expect(404);

    t.clock.advance(chrono::Duration::hours(2));
    let given = act(
        &app,
        &c,
        "feedback",
        &w.customer,
        json!({"score": 4, "comment": "  Quick and fair.  "}),
    )
    .await
    .expect(201);
    assert_eq!(given["complaint_id"], c.as_str());
    assert_eq!(given["score"], 4);
    assert_eq!(given["comment"], "Quick and fair.");
    assert_eq!(given["created_at"], "2026-12-01T11:00:00Z");

    // Once only.
    let again = act(&app, &c, "feedback", &w.customer, json!({"score": 1}))
        .await
        .expect(409);
    assert_eq!(again["code"], "conflict");
    let after = get(&app, &path, &w.customer).await.expect(200);
    assert!(actions(&after).is_empty());
    assert_eq!(after["state"], "closed");
    assert_eq!(after["outcome"], "withdrawn");

    // In the log: `feedback`, closed to closed, by the customer.
    let log = get(&app, &format!("{path}/events"), &w.staff)
        .await
        .expect(200);
    let items = log["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        3,
        "file, withdraw, feedback; the refusals wrote nothing"
    );
    let last = &items[2];
    assert_eq!(last["type"], "feedback");
    assert_eq!(last["from_state"], "closed");
    assert_eq!(last["to_state"], "closed");
    assert_eq!(last["actor_role"], "customer");
    assert_eq!(last["actor_id"], w.customer.id.as_str());
    assert_eq!(last["payload"]["score"], 4);
    assert_eq!(last["payload"]["comment"], "Quick and fair.");
    assert_eq!(
        t.store().feedback(&c).unwrap().map(|f| f.score),
        Some(4),
        "the row the statistics read"
    );
    // Nobody is mailed about it.
    let outbox = t.store().outbox_of(&c).unwrap();
    assert!(outbox.iter().all(|o| o.event_seq != Some(3)));
}

async fn feedback_is_checked_and_replayed_like_any_post(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    act(&app, &c, "withdraw", &w.customer, json!({}))
        .await
        .expect(200);
    for score in [0, 6, -1] {
        let bad = act(&app, &c, "feedback", &w.customer, json!({"score": score}))
            .await
            .expect(422);
        assert_eq!(bad["code"], "validation_failed");
        assert_eq!(bad["errors"][0]["field"], "score");
    }
    let long = "x".repeat(5001);
    let bad = act(
        &app,
        &c,
        "feedback",
        &w.customer,
        json!({"score": 3, "comment": long}),
    )
    .await
    .expect(422);
    assert_eq!(bad["errors"][0]["field"], "comment");
    let bad = act(&app, &c, "feedback", &w.customer, json!({"score": "five"}))
        .await
        .expect(400);
    assert_eq!(bad["code"], "malformed_request");
    let missing = act(
        &app,
        &c,
        "feedback",
        &w.customer,
        json!({"comment": "no score"}),
    )
    .await
    .expect(422);
    assert_eq!(missing["errors"][0]["field"], "score");
    act(
        &app,
        &c,
        "feedback",
        &w.customer,
        json!({"score": 3, "stars": 3}),
    )
    .await
    .expect(400);
    // A retry with the same Idempotency-Key replays the first answer.
    let path = format!("/api/v1/complaints/{c}/feedback");
    let key = [("Idempotency-Key", "feedback-1")];
    let mut answers = Vec::new();
    for _ in 0..2 {
        let answer = call_with_headers(
            &app,
            Method::POST,
            &path,
            Some(&w.customer),
            Some(json!({"score": 3})),
            &key,
        )
        .await;
        answers.push(answer.expect(201));
    }
    assert_eq!(answers[0], answers[1]);
    let log = t.store().events(&c).unwrap();
    assert_eq!(
        log.iter().filter(|e| e.event_type == "feedback").count(),
        1,
        "the replay wrote nothing"
    );
}

async fn the_closing_mail_asks_the_customer_how_satisfied_they_are(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    act(&app, &c, "offers", &w.staff, json!({"remedy": "repair"}))
        .await
        .expect(200);
    act(&app, &c, "accept", &w.customer, json!({}))
        .await
        .expect(200);
    act(&app, &c, "fulfil", &w.staff, json!({}))
        .await
        .expect(200);
    let renderer = Renderer::new("http://odr.test").unwrap();
    let outbox = t.store().outbox_of(&c).unwrap();
    let closing: Vec<_> = outbox
        .iter()
        .filter(|o| o.template == "fulfilled")
        .collect();
    assert_eq!(closing.len(), 2, "the customer and the shop");
    for row in closing {
        let facts: MailFacts = serde_json::from_value(row.payload.clone()).unwrap();
        let mail = renderer.render(&facts).unwrap();
        let asks = (1..=5).all(|n| {
            let link = format!("http://odr.test/complaints/{c}?feedback={n}#feedback");
            mail.text.contains(&link) && mail.html.contains(&link)
        });
        if row.recipient_role == "customer" {
            assert!(asks, "the customer is asked: {}", mail.text);
            assert!(mail.text.contains("how satisfied are you"));
            assert!(mail.text.contains("add a comment"));
        } else {
            assert!(!mail.text.contains("feedback="), "the shop is not asked");
        }
    }
    // Earlier mails to the customer (the complaint still open) do not ask.
    for row in outbox.iter().filter(|o| o.template != "fulfilled") {
        let facts: MailFacts = serde_json::from_value(row.payload.clone()).unwrap();
        assert!(!renderer.render(&facts).unwrap().text.contains("feedback="));
    }
}
