//! Who may do what: 401 without a valid token, 403 for a known complaint
//! without the right, 404 for what the caller may not see at all, 409 with
//! the state and the allowed actions, 400/422 for bad bodies.

use actix_web::http::Method;
use actix_web::test::init_service;
use odr_tests::{call, on_both_databases, Db, Person, TestApp};
use serde_json::json;

use crate::steps::*;

on_both_databases!(
    role_checks_and_no_leak_404s,
    invalid_transitions_name_state_and_allowed_actions,
    the_final_offer_cannot_be_rejected,
    bad_bodies_are_problems_naming_the_field,
    tokens_are_checked
);

async fn role_checks_and_no_leak_404s(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    let path = format!("/api/v1/complaints/{c}");
    // Those who may not see it at all get 404, exactly like a missing id.
    for outsider in [&w.other_customer, &w.other_staff, &w.mediator] {
        let a = get(&app, &path, outsider).await.expect(404);
        assert_eq!(a["code"], "not_found");
        act(&app, &c, "acknowledge", outsider, json!({}))
            .await
            .expect(404);
        get(&app, &format!("{path}/events"), outsider)
            .await
            .expect(404);
    }
    get(&app, "/api/v1/complaints/no-such-id", &w.customer)
        .await
        .expect(404);
    // Those who see it but may not do this get 403.
    let a = act(&app, &c, "acknowledge", &w.customer, json!({}))
        .await
        .expect(403);
    assert_eq!(a["code"], "forbidden");
    act(&app, &c, "withdraw", &w.staff, json!({}))
        .await
        .expect(403);
    act(
        &app,
        &c,
        "decision",
        &w.admin,
        json!({"in_favour_of": "retailer", "reasoning": "x"}),
    )
    .await
    .expect(403);
    // Only customers file.
    let a = post(
        &app,
        "/api/v1/complaints",
        &w.staff,
        json!({
            "retailer_id": w.retailer_id, "order_reference": "X", "category": "other",
            "desired_remedy": "explanation", "description": "x"
        }),
    )
    .await
    .expect(403);
    assert_eq!(a["code"], "forbidden");
    // Admin sees everything; lists show each caller only their own.
    get(&app, &path, &w.admin).await.expect(200);
    let mine = get(&app, "/api/v1/complaints", &w.other_customer)
        .await
        .expect(200);
    assert_eq!(mine["items"], json!([]));
    let theirs = get(&app, "/api/v1/complaints", &w.other_staff)
        .await
        .expect(200);
    assert_eq!(theirs["items"], json!([]));
    let ours = get(
        &app,
        "/api/v1/complaints?state=filed&category=damaged",
        &w.staff,
    )
    .await
    .expect(200);
    assert_eq!(ours["items"].as_array().unwrap().len(), 1);
    // A mediator claims only for themself.
    shop_escalates(&app, &c, &w).await;
    let a = act(
        &app,
        &c,
        "mediator",
        &w.mediator,
        json!({"mediator_id": w.other_mediator.id}),
    )
    .await
    .expect(403);
    assert_eq!(a["code"], "forbidden");
    // Before claiming, a mediator sees the case but not its file.
    get(&app, &format!("{path}/events"), &w.mediator)
        .await
        .expect(403);
    act(
        &app,
        &c,
        "mediator",
        &w.mediator,
        json!({"mediator_id": w.mediator.id}),
    )
    .await
    .expect(200);
    get(&app, &format!("{path}/events"), &w.mediator)
        .await
        .expect(200);
    act(
        &app,
        &c,
        "decision",
        &w.other_mediator,
        json!({"in_favour_of": "retailer", "reasoning": "x"}),
    )
    .await
    .expect(404);
}

async fn invalid_transitions_name_state_and_allowed_actions(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    let a = act(&app, &c, "fulfil", &w.staff, json!({})).await;
    assert_eq!(a.header("content-type"), Some("application/problem+json"));
    let body = a.expect(409);
    assert_eq!(body["code"], "invalid_transition");
    assert_eq!(body["status"], 409);
    assert_eq!(body["state"], "filed");
    assert_eq!(
        body["allowed_actions"],
        json!(["acknowledge", "propose", "escalate"])
    );
    assert!(body["type"].as_str().unwrap().starts_with("https://"));
    assert!(body["title"].is_string() && body["detail"].is_string());
    let accept = act(&app, &c, "accept", &w.customer, json!({}))
        .await
        .expect(409);
    assert_eq!(accept["allowed_actions"], json!(["escalate", "withdraw"]));
}

async fn the_final_offer_cannot_be_rejected(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    for round in 1..=3 {
        act(&app, &c, "offers", &w.staff, json!({"remedy": "voucher", "amount": {"amount_minor": 500 * round, "currency": "EUR"}})).await.expect(200);
        if round < 3 {
            act(
                &app,
                &c,
                "reject",
                &w.customer,
                json!({"reason": "amount_too_low"}),
            )
            .await
            .expect(200);
        }
    }
    let limit = act(
        &app,
        &c,
        "reject",
        &w.customer,
        json!({"reason": "amount_too_low"}),
    )
    .await
    .expect(409);
    assert_eq!(limit["code"], "offer_limit_reached");
    assert!(limit["detail"].as_str().unwrap().contains("escalate"));
    assert_eq!(
        limit["allowed_actions"],
        json!(["accept", "escalate", "withdraw"])
    );
    let after = get(&app, &format!("/api/v1/complaints/{c}"), &w.customer)
        .await
        .expect(200);
    assert_eq!(after["state"], "proposed");
}

async fn bad_bodies_are_problems_naming_the_field(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    let unknown = act(
        &app,
        &c,
        "offers",
        &w.staff,
        json!({"remedy": "replacement", "colour": "red"}),
    )
    .await
    .expect(400);
    assert_eq!(unknown["code"], "malformed_request");
    assert_eq!(unknown["errors"][0]["field"], "colour");
    let code = act(
        &app,
        &c,
        "offers",
        &w.staff,
        json!({"remedy": "money_back"}),
    )
    .await
    .expect(422);
    assert_eq!(code["errors"][0]["field"], "remedy");
    let amount = act(
        &app,
        &c,
        "offers",
        &w.staff,
        json!({"remedy": "full_refund"}),
    )
    .await
    .expect(422);
    assert_eq!(amount["errors"][0]["field"], "amount");
    let currency = act(
        &app,
        &c,
        "offers",
        &w.staff,
        json!({"remedy": "voucher", "amount": {"amount_minor": 5, "currency": "USD"}}),
    )
    .await
    .expect(422);
    assert_eq!(currency["errors"][0]["field"], "amount.currency");
    let long = "x".repeat(5001);
    let too_long = post(
        &app,
        "/api/v1/complaints",
        &w.customer,
        json!({
            "retailer_id": w.retailer_id, "order_reference": "A-2", "category": "other",
            "desired_remedy": "explanation", "description": long
        }),
    )
    .await
    .expect(422);
    assert_eq!(too_long["errors"][0]["field"], "description");
    let missing = post(
        &app,
        "/api/v1/complaints",
        &w.customer,
        json!({"retailer_id": w.retailer_id}),
    )
    .await
    .expect(422);
    assert_eq!(missing["code"], "validation_failed");
    let log = t.store().events(&c).unwrap();
    assert_eq!(log.len(), 1, "bad input wrote nothing");
}

async fn tokens_are_checked(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let a = call(&app, Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(a.header("www-authenticate"), Some("Bearer"));
    assert_eq!(a.expect(401)["code"], "unauthenticated");
    let forged = Person {
        id: w.customer.id.clone(),
        token: format!("{}x", w.customer.token),
    };
    get(&app, "/api/v1/me", &forged).await.expect(401);
    // A token past its exp is refused by the injected clock, no waiting.
    t.clock.advance(chrono::Duration::days(401));
    get(&app, "/api/v1/me", &w.customer).await.expect(401);
}
