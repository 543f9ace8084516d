//! Deadlines act by themselves: each rule of lifecycle.md's table fires
//! once, as a `system` event through the same transition path, with its
//! mails queued; reminders go out once, a lead ahead.

use actix_web::test::init_service;
use chrono::Duration;
use odr_domain::complaint::Policy;
use odr_store::{EngineRules, Tick};
use odr_tests::{on_both_databases, Db, TestApp};
use serde_json::json;

use crate::steps::*;

on_both_databases!(
    an_unanswered_complaint_escalates_as_no_acknowledgement,
    no_offer_lapse_and_not_fulfilled_each_fire_once,
    an_overdue_decision_reminds_admins_every_day,
    reminders_reach_the_party_who_must_act_once,
    concurrent_schedulers_apply_each_deadline_once,
    auto_assignment_picks_the_least_busy_mediator,
    business_days_stretch_the_retailers_deadlines_over_weekends_and_holidays
);

fn tick(t: &TestApp) -> Tick {
    use odr_http::Clock;
    t.store()
        .act_on_deadlines(
            t.clock.now(),
            &Policy::default(),
            EngineRules::default(),
            50,
        )
        .expect("scheduler pass")
}

fn system_events(t: &TestApp, c: &str) -> Vec<(String, serde_json::Value)> {
    t.store()
        .events(c)
        .expect("log")
        .into_iter()
        .filter(|e| e.actor_role == "system")
        .map(|e| {
            assert!(e.actor_id.is_none(), "system events have no actor id");
            (e.event_type, e.payload)
        })
        .collect()
}

async fn an_unanswered_complaint_escalates_as_no_acknowledgement(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    t.clock.advance(Duration::hours(47));
    tick(&t); // the reminder, a day ahead
    assert_eq!(
        get(&app, &format!("/api/v1/complaints/{c}"), &w.customer)
            .await
            .expect(200)["state"],
        "filed"
    );
    t.clock.advance(Duration::hours(1));
    let pass = tick(&t);
    assert_eq!(pass.deadlines, 1);
    let now = get(&app, &format!("/api/v1/complaints/{c}"), &w.customer)
        .await
        .expect(200);
    assert_eq!(now["state"], "escalated");
    assert_eq!(now["escalation"]["reason"], "no_acknowledgement");
    assert_eq!(tick(&t).deadlines, 0, "a deadline acts once");
    let events = system_events(&t, &c);
    let passed: Vec<_> = events
        .iter()
        .filter(|(k, _)| k == "deadline_passed")
        .collect();
    assert_eq!(passed.len(), 1);
    assert_eq!(passed[0].1["reason"], "no_acknowledgement");
    let outbox = t.store().outbox_of(&c).expect("outbox");
    let mut escalated: Vec<&str> = outbox
        .iter()
        .filter(|o| o.template == "escalated")
        .map(|o| o.recipient_role.as_str())
        .collect();
    escalated.sort_unstable();
    assert_eq!(
        escalated,
        vec!["admin", "customer", "retailer"],
        "escalation mails like `escalate`"
    );
}

async fn no_offer_lapse_and_not_fulfilled_each_fire_once(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    // acknowledged, no offer within 14 days of filing
    let a = id(&file(&app, &w).await);
    act(&app, &a, "acknowledge", &w.staff, json!({}))
        .await
        .expect(200);
    // proposed, the offer expires after its own expires_at
    let b = id(&file(&app, &w).await);
    let expires = (t0_plus(&t, Duration::days(3))).to_rfc3339();
    act(
        &app,
        &b,
        "offers",
        &w.staff,
        json!({"remedy": "replacement", "expires_at": expires}),
    )
    .await
    .expect(200);
    // accepted, not carried out within fulfil_by
    let c = id(&file(&app, &w).await);
    act(&app, &c, "offers", &w.staff, json!({"remedy": "repair"}))
        .await
        .expect(200);
    act(&app, &c, "accept", &w.customer, json!({}))
        .await
        .expect(200);

    t.clock.advance(Duration::days(3));
    tick(&t);
    let lapsed = get(&app, &format!("/api/v1/complaints/{b}"), &w.customer)
        .await
        .expect(200);
    assert_eq!(
        (lapsed["state"].as_str(), lapsed["outcome"].as_str()),
        (Some("closed"), Some("lapsed"))
    );
    assert!(t
        .store()
        .outbox_of(&b)
        .expect("outbox")
        .iter()
        .any(|o| o.template == "lapsed" && o.recipient_role == "customer"));

    t.clock.advance(Duration::days(11));
    tick(&t);
    for (id, reason) in [(&a, "no_offer"), (&c, "not_fulfilled")] {
        let now = get(&app, &format!("/api/v1/complaints/{id}"), &w.customer)
            .await
            .expect(200);
        assert_eq!(now["state"], "escalated", "{reason}");
        assert_eq!(now["escalation"]["reason"], reason);
        let passed = system_events(&t, id)
            .into_iter()
            .filter(|(k, _)| k == "deadline_passed")
            .count();
        assert_eq!(passed, 1, "{reason} fired once");
    }
    tick(&t);
    let passed_b = system_events(&t, &b)
        .into_iter()
        .filter(|(k, _)| k == "deadline_passed")
        .count();
    assert_eq!(passed_b, 1, "the lapse fired once");
}

fn t0_plus(t: &TestApp, d: Duration) -> chrono::DateTime<chrono::Utc> {
    use odr_http::Clock;
    t.clock.now() + d
}

async fn an_overdue_decision_reminds_admins_every_day(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    act(
        &app,
        &c,
        "escalate",
        &w.customer,
        json!({"reason": "other"}),
    )
    .await
    .expect(200);
    t.clock.advance(Duration::days(30));
    tick(&t);
    t.clock.advance(Duration::hours(12));
    tick(&t);
    t.clock.advance(Duration::hours(12));
    tick(&t);
    let events = system_events(&t, &c);
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, vec!["deadline_passed", "reminder"], "{events:?}");
    assert_eq!(events[0].1["reason"], "decision_overdue");
    let overdue = t
        .store()
        .outbox_of(&c)
        .expect("outbox")
        .into_iter()
        .filter(|o| o.template == "decision_overdue")
        .count();
    assert_eq!(overdue, 2, "admins hear at the deadline and a day later");
    let state = get(&app, &format!("/api/v1/complaints/{c}"), &w.admin)
        .await
        .expect(200);
    assert_eq!(
        state["state"], "escalated",
        "an overdue decision changes no state"
    );
}

async fn reminders_reach_the_party_who_must_act_once(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    act(
        &app,
        &c,
        "offers",
        &w.staff,
        json!({"remedy": "replacement"}),
    )
    .await
    .expect(200);
    // The offer expires in 7 days: the customer is reminded after 6.
    t.clock.advance(Duration::days(6) - Duration::minutes(1));
    assert_eq!(tick(&t).reminders, 0);
    t.clock.advance(Duration::minutes(2));
    assert_eq!(tick(&t).reminders, 1);
    assert_eq!(tick(&t).reminders, 0, "once per deadline");
    let reminders: Vec<(String, String)> = t
        .store()
        .outbox_of(&c)
        .expect("outbox")
        .into_iter()
        .filter(|o| o.template == "deadline_reminder")
        .map(|o| (o.recipient_role, o.to_address))
        .collect();
    assert_eq!(
        reminders,
        vec![("customer".to_owned(), "chris@example.test".to_owned())]
    );
    let (kind, payload) = system_events(&t, &c).pop().expect("a reminder event");
    assert_eq!(kind, "reminder");
    assert_eq!(payload["deadline"], "expires_at");
}

async fn concurrent_schedulers_apply_each_deadline_once(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let ids: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..6 {
            v.push(id(&file(&app, &w).await));
        }
        v
    };
    t.clock.advance(Duration::days(3));
    let passes: Vec<Tick> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3).map(|_| s.spawn(|| tick(&t))).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("scheduler thread"))
            .collect()
    });
    let applied: usize = passes.iter().map(|p| p.deadlines).sum();
    assert_eq!(
        applied, 6,
        "each deadline once across schedulers: {passes:?}"
    );
    for c in &ids {
        let passed = system_events(&t, c)
            .into_iter()
            .filter(|(k, _)| k == "deadline_passed")
            .count();
        assert_eq!(passed, 1);
    }
}

async fn auto_assignment_picks_the_least_busy_mediator(db: Db) {
    let mut t = TestApp::new(db);
    t.state.rules = EngineRules { auto_assign: true };
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let first = id(&file(&app, &w).await);
    let one = act(
        &app,
        &first,
        "escalate",
        &w.customer,
        json!({"reason": "other"}),
    )
    .await
    .expect(200);
    let second = id(&file(&app, &w).await);
    let two = shop_escalates(&app, &second, &w).await;
    let chosen = [one["mediator_id"].as_str(), two["mediator_id"].as_str()];
    assert!(chosen.iter().all(Option::is_some), "{chosen:?}");
    assert_ne!(
        chosen[0], chosen[1],
        "the second case goes to the other, less busy mediator"
    );
    let outbox = t.store().outbox_of(&first).expect("outbox");
    assert!(outbox
        .iter()
        .any(|o| o.template == "escalated" && o.recipient_role == "mediator"));
    assert!(
        !outbox.iter().any(|o| o.recipient_role == "admin"),
        "nobody waits, so admins are not asked"
    );
}

async fn business_days_stretch_the_retailers_deadlines_over_weekends_and_holidays(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    actix_web::test::call_service(
        &app,
        actix_web::test::TestRequest::patch()
            .uri(&format!("/api/v1/retailers/{}", w.retailer_id))
            .insert_header(("Authorization", format!("Bearer {}", w.staff.token)))
            .set_json(
                json!({"business_days": true, "holidays": ["2026-12-07"], "time_zone": "UTC"}),
            )
            .to_request(),
    )
    .await;
    // Friday 4 December, 09:00: two business days skip the weekend and
    // Monday's holiday, and end on Wednesday at 09:00.
    t.clock.advance(Duration::days(3));
    let filed = file(&app, &w).await;
    assert_eq!(filed["deadlines"]["acknowledge_by"], "2026-12-09T09:00:00Z");
    let c = id(&filed);
    t.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-12-09T08:59:00Z")
            .expect("t")
            .to_utc(),
    );
    tick(&t);
    assert_eq!(
        get(&app, &format!("/api/v1/complaints/{c}"), &w.customer)
            .await
            .expect(200)["state"],
        "filed"
    );
    t.clock.advance(Duration::minutes(1));
    assert_eq!(
        tick(&t).deadlines,
        1,
        "the deadline acts at the exact instant shown"
    );
}
