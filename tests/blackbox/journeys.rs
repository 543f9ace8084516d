//! The three paths of issue 3 through lifecycle.md, on each database, with
//! the event log and the outbox rows checked after each.

use actix_web::test::init_service;
use odr_tests::{on_both_databases, Db, TestApp};
use serde_json::json;

use crate::steps::*;

on_both_databases!(
    offer_reject_offer_escalate_assign_decide,
    offer_accept_fulfil,
    withdraw_right_after_filing,
    messages_reach_the_other_side_and_the_mediator
);

async fn offer_reject_offer_escalate_assign_decide(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let filed = file(&app, &w).await;
    let c = id(&filed);
    assert_eq!(filed["state"], "filed");
    assert!(filed["reference"].as_str().unwrap().starts_with("ODR-"));
    assert_eq!(actions(&filed), vec!["escalate", "withdraw"]);

    let ack = act(
        &app,
        &c,
        "acknowledge",
        &w.staff,
        json!({"message": "Sorry to hear that!"}),
    )
    .await
    .expect(200);
    assert_eq!(ack["state"], "acknowledged");
    assert_eq!(actions(&ack), vec!["propose", "escalate"]);

    let offered = act(
        &app,
        &c,
        "offers",
        &w.staff,
        json!({
            "remedy": "partial_refund", "amount": {"amount_minor": 1000, "currency": "EUR"}
        }),
    )
    .await
    .expect(200);
    assert_eq!(offered["state"], "proposed");
    assert_eq!(offered["current_offer"]["amount"]["amount_minor"], 1000);

    let rejected = act(&app, &c, "reject", &w.customer, json!({
        "reason": "amount_too_low", "counter_remedy": "full_refund", "message": "Half is not enough."
    })).await.expect(200);
    assert_eq!(rejected["state"], "acknowledged");
    assert!(rejected["current_offer"].is_null());

    act(
        &app,
        &c,
        "offers",
        &w.staff,
        json!({"remedy": "replacement"}),
    )
    .await
    .expect(200);
    let escalated = act(
        &app,
        &c,
        "escalate",
        &w.customer,
        json!({"reason": "offers_rejected"}),
    )
    .await
    .expect(200);
    assert_eq!(escalated["state"], "escalated");
    assert!(escalated["deadlines"]["decide_by"].is_string());

    // The queue: any mediator sees the unassigned case and may claim it.
    let queue = get(
        &app,
        "/api/v1/complaints?state=escalated",
        &w.other_mediator,
    )
    .await
    .expect(200);
    assert_eq!(queue["items"].as_array().unwrap().len(), 1);
    let assigned = act(
        &app,
        &c,
        "mediator",
        &w.admin,
        json!({"mediator_id": w.mediator.id}),
    )
    .await
    .expect(200);
    assert_eq!(assigned["mediator_id"], w.mediator.id.as_str());
    // The mediator who was not chosen loses sight of it.
    get(&app, &format!("/api/v1/complaints/{c}"), &w.other_mediator)
        .await
        .expect(404);

    let mediator_view = get(&app, &format!("/api/v1/complaints/{c}"), &w.mediator)
        .await
        .expect(200);
    assert_eq!(actions(&mediator_view), vec!["decide"]);
    let decided = act(
        &app,
        &c,
        "decision",
        &w.mediator,
        json!({
            "in_favour_of": "customer", "remedy": "full_refund",
            "amount": {"amount_minor": 2500, "currency": "EUR"},
            "reasoning": "The photos show the lid cracked in transit."
        }),
    )
    .await
    .expect(200);
    assert_eq!(decided["state"], "closed");
    assert_eq!(decided["outcome"], "decided");
    assert_eq!(decided["ruling"]["in_favour_of"], "customer");
    assert!(actions(&decided).is_empty());

    let log = get(&app, &format!("/api/v1/complaints/{c}/events"), &w.customer)
        .await
        .expect(200);
    let types: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        vec![
            "file",
            "acknowledge",
            "propose",
            "reject",
            "propose",
            "escalate",
            "assign_mediator",
            "decide"
        ]
    );
    for (i, e) in log["items"].as_array().unwrap().iter().enumerate() {
        assert_eq!(e["seq"], i as i64 + 1, "the log is numbered without gaps");
    }
    assert!(log["items"][0]["from_state"].is_null());
    assert_eq!(log["items"][7]["actor_role"], "mediator");

    // One outbox row per notification of lifecycle.md's table.
    let outbox = t.store().outbox_of(&c).unwrap();
    let rows: Vec<(i64, &str, &str)> = outbox
        .iter()
        .map(|o| {
            (
                o.event_seq.unwrap(),
                o.template.as_str(),
                o.recipient_role.as_str(),
            )
        })
        .collect();
    let expected = [
        (1, "complaint_filed", "retailer"),
        (1, "complaint_receipt", "customer"),
        (2, "acknowledged", "customer"),
        (3, "offer_proposed", "customer"),
        (4, "offer_rejected", "retailer"),
        (5, "offer_proposed", "customer"),
        (6, "escalated", "customer"),
        (6, "escalated", "retailer"),
        (6, "escalated", "admin"),
        (7, "mediator_assigned", "mediator"),
        (8, "decided", "customer"),
        (8, "decided", "retailer"),
        (8, "decided", "mediator"),
    ];
    let mut sorted = rows.clone();
    sorted.sort();
    let mut want = expected.to_vec();
    want.sort();
    assert_eq!(sorted, want);
    let retailer_mail = outbox
        .iter()
        .find(|o| o.recipient_role == "retailer")
        .unwrap();
    assert_eq!(retailer_mail.to_address, "support@teapot-shop.test");
    assert_eq!(
        retailer_mail.locale, "de",
        "the support address gets the retailer's locale"
    );
}

async fn offer_accept_fulfil(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    let offered = act(&app, &c, "offers", &w.staff, json!({
        "remedy": "full_refund", "amount": {"amount_minor": 2500, "currency": "EUR"}, "message": "Refund on its way."
    })).await.expect(200);
    let offer_id = offered["current_offer"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        actions(
            &get(&app, &format!("/api/v1/complaints/{c}"), &w.customer)
                .await
                .expect(200)
        ),
        vec!["accept", "reject", "escalate", "withdraw"]
    );
    let accepted = act(
        &app,
        &c,
        "accept",
        &w.customer,
        json!({"offer_id": offer_id}),
    )
    .await
    .expect(200);
    assert_eq!(accepted["state"], "accepted");
    assert!(accepted["deadlines"]["fulfil_by"].is_string());
    // Escalating before fulfil_by is refused like any other transition.
    let early = act(
        &app,
        &c,
        "escalate",
        &w.customer,
        json!({"reason": "not_fulfilled"}),
    )
    .await
    .expect(409);
    assert_eq!(early["code"], "invalid_transition");
    let done = act(&app, &c, "fulfil", &w.staff, json!({}))
        .await
        .expect(200);
    assert_eq!(done["state"], "closed");
    assert_eq!(done["outcome"], "resolved");
    let outbox = t.store().outbox_of(&c).unwrap();
    assert_eq!(
        outbox.iter().filter(|o| o.template == "fulfilled").count(),
        2
    );
}

async fn withdraw_right_after_filing(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    let closed = act(
        &app,
        &c,
        "withdraw",
        &w.customer,
        json!({"reason": "The shop called me."}),
    )
    .await
    .expect(200);
    assert_eq!(closed["outcome"], "withdrawn");
    let again = act(&app, &c, "withdraw", &w.customer, json!({}))
        .await
        .expect(409);
    assert_eq!(again["code"], "invalid_transition");
    assert_eq!(again["state"], "closed");
    // Closed: only the customer's feedback is left.
    assert_eq!(again["allowed_actions"], json!(["feedback"]));
    let log = get(&app, &format!("/api/v1/complaints/{c}/events"), &w.staff)
        .await
        .expect(200);
    assert_eq!(
        log["items"].as_array().unwrap().len(),
        2,
        "the refused withdraw wrote nothing"
    );
}

async fn messages_reach_the_other_side_and_the_mediator(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    let m = act(
        &app,
        &c,
        "messages",
        &w.staff,
        json!({"phrase_codes": ["please_send_photos"]}),
    )
    .await
    .expect(201);
    assert_eq!(m["phrase_codes"], json!(["please_send_photos"]));
    act(
        &app,
        &c,
        "messages",
        &w.customer,
        json!({"body": "Here they are.", "phrase_codes": ["photos_attached"]}),
    )
    .await
    .expect(201);
    let bad = act(
        &app,
        &c,
        "messages",
        &w.customer,
        json!({"phrase_codes": ["hello_there"]}),
    )
    .await
    .expect(422);
    assert_eq!(bad["errors"][0]["field"], "phrase_codes[0]");
    let empty = act(&app, &c, "messages", &w.customer, json!({}))
        .await
        .expect(422);
    assert_eq!(empty["code"], "validation_failed");
    let thread = get(
        &app,
        &format!("/api/v1/complaints/{c}/messages"),
        &w.customer,
    )
    .await
    .expect(200);
    assert_eq!(thread["items"].as_array().unwrap().len(), 2);
    let outbox = t.store().outbox_of(&c).unwrap();
    let to: Vec<&str> = outbox
        .iter()
        .filter(|o| o.template == "message_added")
        .map(|o| o.recipient_role.as_str())
        .collect();
    assert_eq!(
        to,
        vec!["customer", "retailer"],
        "each message goes to the other party only"
    );
    let state = get(&app, &format!("/api/v1/complaints/{c}"), &w.customer)
        .await
        .expect(200);
    assert_eq!(state["state"], "filed", "messages change no state");
    assert_eq!(state["version"], 3);
}
