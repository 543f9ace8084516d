//! `GET /api/v1/retailers/{id}/stats`: every figure of api.md's
//! "Statistics" checked against values worked out by hand from complaints
//! with known timings, the period filter (plain dates whole days, instants
//! half-open), other shops kept out, who may ask, and nulls without data.

use actix_web::test::init_service;
use chrono::{DateTime, Utc};
use odr_domain::complaint::Policy;
use odr_store::EngineRules;
use odr_tests::{on_both_databases, Db, Person, TestApp, World};
use serde_json::{json, Value};

use crate::steps::*;

on_both_databases!(
    stats_match_figures_worked_out_by_hand,
    only_the_shops_staff_and_admins_see_its_stats,
    a_period_without_complaints_has_nulls_and_empty_weeks
);

fn at(t: &TestApp, when: &str) {
    let instant: DateTime<Utc> = when.parse().unwrap();
    t.clock.set(instant);
}

fn tick(t: &TestApp) {
    use odr_http::Clock;
    t.store()
        .act_on_deadlines(
            t.clock.now(),
            &Policy::default(),
            EngineRules::default(),
            50,
        )
        .unwrap();
}

async fn file_as(app: &impl App, who: &Person, retailer: &str, category: &str) -> String {
    id(&post(
        app,
        "/api/v1/complaints",
        who,
        json!({
            "retailer_id": retailer,
            "order_reference": "A-2001",
            "category": category,
            "desired_remedy": "replacement",
            "description": "Something went wrong with the order.",
        }),
    )
    .await
    .expect(201))
}

async fn stats(app: &impl App, w: &World, who: &Person, query: &str) -> Value {
    get(
        app,
        &format!("/api/v1/retailers/{}/stats{query}", w.retailer_id),
        who,
    )
    .await
    .expect(200)
}

#[track_caller]
fn close_to(v: &Value, expected: f64) {
    let got = v.as_f64().unwrap_or_else(|| panic!("a number, got {v}"));
    assert!(
        (got - expected).abs() < 1e-9,
        "expected {expected}, got {got}"
    );
}

/// Drives seven complaints of the Teapot Shop (A to G), one of the Other
/// Shop (H) and a late one (J) through known moments.
async fn build(t: &TestApp, app: &impl App, w: &World) -> [String; 9] {
    let (customer, staff) = (&w.customer, &w.staff);
    let shop = w.retailer_id.as_str();
    // Week of Monday 2026-11-30.
    at(t, "2026-12-01T09:00:00Z");
    let a = file_as(app, customer, shop, "damaged").await;
    at(t, "2026-12-01T10:00:00Z");
    let b = file_as(app, customer, shop, "damaged").await;
    at(t, "2026-12-01T11:00:00Z");
    act(app, &a, "acknowledge", staff, json!({}))
        .await
        .expect(200);
    at(t, "2026-12-01T13:00:00Z");
    act(app, &a, "offers", staff, json!({"remedy": "repair"}))
        .await
        .expect(200);
    at(t, "2026-12-01T14:00:00Z");
    act(app, &a, "accept", customer, json!({}))
        .await
        .expect(200);
    at(t, "2026-12-01T16:00:00Z");
    act(app, &b, "offers", staff, json!({"remedy": "repair"}))
        .await
        .expect(200);
    at(t, "2026-12-01T17:00:00Z");
    act(
        app,
        &b,
        "reject",
        customer,
        json!({"reason": "wrong_remedy"}),
    )
    .await
    .expect(200);
    at(t, "2026-12-01T18:00:00Z");
    act(app, &b, "offers", staff, json!({"remedy": "replacement"}))
        .await
        .expect(200);
    at(t, "2026-12-01T19:00:00Z");
    act(app, &b, "accept", customer, json!({}))
        .await
        .expect(200);
    act(app, &a, "fulfil", staff, json!({})).await.expect(200);
    at(t, "2026-12-02T09:00:00Z");
    let c = file_as(app, customer, shop, "damaged").await;
    at(t, "2026-12-02T09:30:00Z");
    let h = file_as(app, customer, &w.other_retailer_id, "damaged").await;
    at(t, "2026-12-02T09:45:00Z");
    act(app, &h, "acknowledge", &w.other_staff, json!({}))
        .await
        .expect(200);
    at(t, "2026-12-02T10:00:00Z");
    act(app, &c, "acknowledge", staff, json!({}))
        .await
        .expect(200);
    at(t, "2026-12-02T12:00:00Z");
    let d = file_as(app, customer, shop, "damaged").await;
    act(app, &c, "withdraw", customer, json!({}))
        .await
        .expect(200);
    at(t, "2026-12-02T16:00:00Z");
    act(
        app,
        &d,
        "messages",
        staff,
        json!({"body": "Could you send a photo?"}),
    )
    .await
    .expect(201);
    act(app, &b, "fulfil", staff, json!({})).await.expect(200);
    at(t, "2026-12-02T17:00:00Z");
    act(
        app,
        &d,
        "offers",
        staff,
        json!({"remedy": "repair", "expires_at": "2026-12-04T12:00:00Z"}),
    )
    .await
    .expect(200);
    at(t, "2026-12-03T09:00:00Z");
    let e = file_as(app, customer, shop, "wrong_item").await;
    at(t, "2026-12-03T10:00:00Z");
    let f = file_as(app, customer, shop, "wrong_item").await;
    at(t, "2026-12-03T13:00:00Z");
    act(app, &f, "acknowledge", staff, json!({}))
        .await
        .expect(200);
    at(t, "2026-12-03T14:00:00Z");
    act(app, &f, "offers", staff, json!({"remedy": "repair"}))
        .await
        .expect(200);
    at(t, "2026-12-03T15:00:00Z");
    act(app, &f, "accept", customer, json!({}))
        .await
        .expect(200);
    // D's offer expires unanswered: it lapses (an offer answered, not a
    // retailer deadline). E only gets its reminder.
    at(t, "2026-12-04T12:00:00Z");
    tick(t);
    // E's acknowledge_by (48 h) passes: escalated, a breach.
    at(t, "2026-12-05T09:00:00Z");
    tick(t);
    at(t, "2026-12-05T10:00:00Z");
    act(
        app,
        &e,
        "mediator",
        &w.admin,
        json!({"mediator_id": w.mediator.id}),
    )
    .await
    .expect(200);
    at(t, "2026-12-06T09:00:00Z");
    act(
        app,
        &e,
        "decision",
        &w.mediator,
        json!({"in_favour_of": "retailer", "reasoning": "The item matches the order."}),
    )
    .await
    .expect(200);
    // Week of Monday 2026-12-07.
    at(t, "2026-12-07T09:00:00Z");
    let g = file_as(app, customer, shop, "defective").await;
    at(t, "2026-12-08T15:00:00Z");
    act(app, &g, "acknowledge", staff, json!({}))
        .await
        .expect(200);
    at(t, "2026-12-08T16:00:00Z");
    for (complaint, score) in [(&a, 5), (&b, 4), (&c, 2), (&e, 3)] {
        act(
            app,
            complaint,
            "feedback",
            customer,
            json!({"score": score}),
        )
        .await
        .expect(201);
    }
    // Week of Monday 2026-12-14: J, filed at midnight sharp.
    at(t, "2026-12-14T00:00:00Z");
    let j = file_as(app, customer, shop, "damaged").await;
    // F's fulfil_by (14 days after acceptance) has passed: the customer
    // escalates, a breach of a retailer deadline.
    at(t, "2026-12-17T16:00:00Z");
    act(
        app,
        &f,
        "escalate",
        customer,
        json!({"reason": "not_fulfilled"}),
    )
    .await
    .expect(200);
    [a, b, c, d, e, f, g, h, j]
}

async fn stats_match_figures_worked_out_by_hand(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    build(&t, &app, &w).await;

    // Plain dates: 2026-11-23 00:00 up to and including 2026-12-13, i.e.
    // [2026-11-23T00:00Z, 2026-12-14T00:00Z): A to G, not J, not H.
    let s = stats(&app, &w, &w.staff, "?from=2026-11-23&to=2026-12-13").await;
    assert_eq!(s["from"], "2026-11-23T00:00:00Z");
    assert_eq!(s["to"], "2026-12-14T00:00:00Z");

    let counts = &s["counts"];
    assert_eq!(counts["total"], 7);
    // A, B, C, D, E closed; F escalated; G acknowledged.
    assert_eq!(counts["by_state"]["closed"], 5);
    assert_eq!(counts["by_state"]["escalated"], 1);
    assert_eq!(counts["by_state"]["acknowledged"], 1);
    assert_eq!(counts["by_state"]["filed"], 0);
    assert_eq!(counts["by_state"]["proposed"], 0);
    assert_eq!(counts["by_state"]["accepted"], 0);
    // A, B, C, D damaged; E, F wrong_item; G defective.
    assert_eq!(counts["by_category"]["damaged"], 4);
    assert_eq!(counts["by_category"]["wrong_item"], 2);
    assert_eq!(counts["by_category"]["defective"], 1);
    assert_eq!(counts["by_category"]["warranty"], 0);
    // A, B fulfilled; C withdrawn; D lapsed; E decided.
    assert_eq!(
        counts["by_outcome"],
        json!({"resolved": 2, "withdrawn": 1, "lapsed": 1, "decided": 1})
    );

    // First response (the shop's first acknowledge, offer or message):
    // A 11:00-09:00 = 2 h, B 16:00-10:00 = 6 h, C 10:00-09:00 = 1 h,
    // D message 16:00-12:00 = 4 h, F 13:00-10:00 = 3 h,
    // G 12-08 15:00 - 12-07 09:00 = 30 h; E none (the deadline acted).
    // Sorted [1, 2, 3, 4, 6, 30], n = 6.
    // median: rank (6-1)·0.5 = 2.5 → 3 + 0.5·(4-3) = 3.5
    // p90:    rank (6-1)·0.9 = 4.5 → 6 + 0.5·(30-6) = 18
    close_to(&s["hours_to_first_response"]["median"], 3.5);
    close_to(&s["hours_to_first_response"]["p90"], 18.0);
    // Close: A 19:00-09:00 = 10 h, B 12-02 16:00 - 12-01 10:00 = 30 h,
    // C 12:00-09:00 = 3 h, D 12-04 12:00 - 12-02 12:00 = 48 h,
    // E 12-06 09:00 - 12-03 09:00 = 72 h. Sorted [3, 10, 30, 48, 72], n = 5.
    // median: rank 4·0.5 = 2 → 30
    // p90:    rank 4·0.9 = 3.6 → 48 + 0.6·(72-48) = 62.4
    close_to(&s["hours_to_close"]["median"], 30.0);
    close_to(&s["hours_to_close"]["p90"], 62.4);

    let rates = &s["rates"];
    // Offers answered: A accepted, B rejected, B accepted, D lapsed,
    // F accepted = 5; accepted 3 → 3/5.
    close_to(&rates["offer_acceptance"], 3.0 / 5.0);
    // Escalated: E (deadline), F (not fulfilled) → 2/7.
    close_to(&rates["escalation"], 2.0 / 7.0);
    // Retailer deadline passed: E acknowledge_by, F fulfil_by → 2/7 (D's
    // lapse is the customer's deadline).
    close_to(&rates["deadline_breach"], 2.0 / 7.0);
    // Reached accepted or escalated: A, B, E, F = 4; accepted and never
    // escalated: A, B = 2 → 1/2.
    close_to(&rates["agreement"], 0.5);
    // Left accepted: A fulfilled, B fulfilled, F escalated = 3; resolved
    // 2 → 2/3.
    close_to(&rates["fulfilment"], 2.0 / 3.0);

    // Feedback: A 5, B 4, C 2, E 3 → 4 responses, 14/4 = 3.5.
    assert_eq!(s["satisfaction"]["responses"], 4);
    close_to(&s["satisfaction"]["average"], 3.5);

    // Weeks from Monday 2026-11-23 (empty) to Monday 2026-12-07.
    // 11-30: filed A-F = 6, closed A (12-01), B, C (12-02), D (12-04),
    // E (12-06) = 5; 12-07: filed G, nothing closed.
    assert_eq!(
        s["weekly"],
        json!([
            {"week_start": "2026-11-23", "filed": 0, "closed": 0},
            {"week_start": "2026-11-30", "filed": 6, "closed": 5},
            {"week_start": "2026-12-07", "filed": 1, "closed": 0},
        ])
    );

    // Admins see the same.
    let admin = stats(&app, &w, &w.admin, "?from=2026-11-23&to=2026-12-13").await;
    assert_eq!(admin, s);

    // The period filter. Plain dates include both whole days: 2026-12-01
    // alone holds A and B.
    let day = stats(&app, &w, &w.staff, "?from=2026-12-01&to=2026-12-01").await;
    assert_eq!(day["counts"]["total"], 2);
    assert_eq!(day["to"], "2026-12-02T00:00:00Z");
    assert_eq!(day["weekly"].as_array().unwrap().len(), 1);
    // ... and J, filed at 2026-12-14 00:00, belongs to 2026-12-14.
    let with_j = stats(&app, &w, &w.staff, "?from=2026-11-23&to=2026-12-14").await;
    assert_eq!(with_j["counts"]["total"], 8);
    assert_eq!(with_j["counts"]["by_state"]["filed"], 1);
    // Instants are half-open: [09:00, 10:00) holds A but not B.
    let hour = stats(
        &app,
        &w,
        &w.staff,
        "?from=2026-12-01T09:00:00Z&to=2026-12-01T10:00:00Z",
    )
    .await;
    assert_eq!(hour["counts"]["total"], 1);
    close_to(&hour["hours_to_first_response"]["median"], 2.0);
    close_to(&hour["hours_to_close"]["p90"], 10.0);
    let after_a = stats(
        &app,
        &w,
        &w.staff,
        "?from=2026-12-01T09:00:00.000001Z&to=2026-12-01T10:00:00.000001Z",
    )
    .await;
    assert_eq!(after_a["counts"]["total"], 1, "B only");
    close_to(&after_a["hours_to_first_response"]["median"], 6.0);
    // `to` as an instant excludes J at exactly its filing time.
    let until_j = stats(
        &app,
        &w,
        &w.staff,
        "?from=2026-11-23T00:00:00Z&to=2026-12-14T00:00:00Z",
    )
    .await;
    assert_eq!(until_j["counts"], s["counts"]);
    // The default is the last 90 days before now (2026-12-17 16:00): all
    // nine minus H, the Other Shop's.
    let default = stats(&app, &w, &w.staff, "").await;
    assert_eq!(default["counts"]["total"], 8);
    assert_eq!(default["to"], "2026-12-17T16:00:00Z");
    assert_eq!(default["from"], "2026-09-18T16:00:00Z");

    // The Other Shop sees only H, acknowledged after 15 minutes.
    let other = get(
        &app,
        &format!("/api/v1/retailers/{}/stats", w.other_retailer_id),
        &w.other_staff,
    )
    .await
    .expect(200);
    assert_eq!(other["counts"]["total"], 1);
    close_to(&other["hours_to_first_response"]["median"], 0.25);
    assert_eq!(
        other["satisfaction"],
        json!({"responses": 0, "average": null})
    );

    // A bad period is named.
    let bad = get(
        &app,
        &format!("/api/v1/retailers/{}/stats?from=yesterday", w.retailer_id),
        &w.staff,
    )
    .await
    .expect(422);
    assert_eq!(bad["errors"][0]["field"], "from");
    let bad = get(
        &app,
        &format!(
            "/api/v1/retailers/{}/stats?from=2026-12-02&to=2026-12-01",
            w.retailer_id
        ),
        &w.staff,
    )
    .await
    .expect(422);
    assert_eq!(bad["errors"][0]["field"], "to");
}

async fn only_the_shops_staff_and_admins_see_its_stats(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let path = format!("/api/v1/retailers/{}/stats", w.retailer_id);
    for who in [&w.customer, &w.other_staff, &w.mediator] {
        let no = get(&app, &path, who).await.expect(403);
        assert_eq!(no["code"], "forbidden");
    }
    get(&app, &path, &w.staff).await.expect(200);
    get(&app, &path, &w.admin).await.expect(200);
    let unknown = get(&app, "/api/v1/retailers/no-such-shop/stats", &w.admin)
        .await
        .expect(404);
    assert_eq!(unknown["code"], "not_found");
    let anonymous = odr_tests::call(&app, actix_web::http::Method::GET, &path, None, None).await;
    assert_eq!(anonymous.status.as_u16(), 401);
}

async fn a_period_without_complaints_has_nulls_and_empty_weeks(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    file(&app, &w).await; // filed 2026-12-01, outside the period
    let s = stats(&app, &w, &w.staff, "?from=2026-10-01&to=2026-10-31").await;
    assert_eq!(s["counts"]["total"], 0);
    assert!(s["counts"]["by_state"]
        .as_object()
        .unwrap()
        .values()
        .all(|n| n == 0));
    assert_eq!(
        s["hours_to_first_response"],
        json!({"median": null, "p90": null})
    );
    assert_eq!(s["hours_to_close"], json!({"median": null, "p90": null}));
    assert_eq!(
        s["rates"],
        json!({"offer_acceptance": null, "escalation": null, "deadline_breach": null,
               "agreement": null, "fulfilment": null})
    );
    assert_eq!(s["satisfaction"], json!({"responses": 0, "average": null}));
    // 2026-10-01 is a Thursday: weeks of 09-28, 10-05, 10-12, 10-19, 10-26.
    let weeks: Vec<&str> = s["weekly"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            assert_eq!(
                (w["filed"].as_i64(), w["closed"].as_i64()),
                (Some(0), Some(0))
            );
            w["week_start"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        weeks,
        [
            "2026-09-28",
            "2026-10-05",
            "2026-10-12",
            "2026-10-19",
            "2026-10-26"
        ]
    );
}
