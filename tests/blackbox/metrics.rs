//! `GET /metrics`: what a scrape reports after real traffic, and who may
//! scrape (loopback peers, or the metrics token).

use std::sync::Arc;

use actix_web::test::{init_service, TestRequest};
use odr_http::Clock;
use odr_tests::{on_both_databases, send, Answer, Db, TestApp};
use serde_json::json;

use crate::steps::*;

on_both_databases!(
    a_scrape_counts_routes_by_pattern_events_outbox_and_pool,
    only_loopback_or_the_token_may_scrape,
    a_scheduler_pass_reports_its_actions_and_lag
);

async fn scrape(app: &impl App, peer: &str, token: Option<&str>) -> Answer {
    let mut req = TestRequest::get()
        .uri("/metrics")
        .peer_addr(peer.parse().unwrap());
    if let Some(token) = token {
        req = req.insert_header(("Authorization", format!("Bearer {token}")));
    }
    send(app, req).await
}

/// The value of the sample whose line starts with `series ` (exactly).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}

async fn a_scrape_counts_routes_by_pattern_events_outbox_and_pool(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    act(&app, &c, "acknowledge", &w.staff, json!({}))
        .await
        .expect(200);
    act(
        &app,
        &c,
        "offers",
        &w.staff,
        json!({"remedy": "partial_refund", "amount": {"amount_minor": 1000, "currency": "EUR"}}),
    )
    .await
    .expect(200);
    get(&app, "/no/such/thing", &w.customer).await.expect(404);

    let res = scrape(&app, "127.0.0.1:5000", None).await;
    let content_type = res.header("content-type").unwrap().to_owned();
    let text = res.expect(200).as_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );

    // Requests under the matched pattern, never the raw path with its id.
    assert_eq!(
        sample(
            &text,
            r#"odr_http_requests_total{route="/api/v1/complaints/{id}/offers",method="POST",status="200"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"odr_http_requests_total{route="/api/v1/complaints",method="POST",status="201"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"odr_http_requests_total{route="unmatched",method="GET",status="404"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(!text.contains(&c), "no complaint id in any label:\n{text}");
    assert_eq!(
        sample(
            &text,
            r#"odr_http_request_duration_seconds_count{route="/api/v1/complaints/{id}/acknowledge",method="POST"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        text.contains(r#"odr_http_request_duration_seconds_bucket{le="0.005",route="/api/v1/complaints/{id}/offers",method="POST"}"#)
            || text.contains(r#"odr_http_request_duration_seconds_bucket{route="/api/v1/complaints/{id}/offers",method="POST",le="0.005"}"#),
        "{text}"
    );

    // Committed events by name.
    assert_eq!(
        sample(&text, r#"odr_transitions_total{event="file"}"#),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, r#"odr_transitions_total{event="acknowledge"}"#),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, r#"odr_transitions_total{event="propose"}"#),
        Some(1.0),
        "{text}"
    );

    // The outbox, read at scrape time: each status reported, and the mail
    // the filing queued is pending (no worker runs here).
    let (pending, sent, dead) = (
        sample(&text, r#"odr_outbox_rows{status="pending"}"#).unwrap(),
        sample(&text, r#"odr_outbox_rows{status="sent"}"#).unwrap(),
        sample(&text, r#"odr_outbox_rows{status="dead"}"#).unwrap(),
    );
    let in_store: i64 = t
        .store()
        .count_by_status()
        .unwrap()
        .iter()
        .map(|(_, n)| n)
        .sum();
    assert_eq!(pending + sent + dead, in_store as f64, "{text}");
    assert!(pending >= 1.0, "{text}");
    assert!(sample(&text, "odr_outbox_oldest_pending_age_seconds").unwrap() >= 0.0);

    // The pool.
    let max = sample(&text, "odr_db_pool_max").unwrap();
    assert_eq!(max, f64::from(t.store().options().max_size));
    let idle = sample(&text, r#"odr_db_pool_connections{state="idle"}"#).unwrap();
    let in_use = sample(&text, r#"odr_db_pool_connections{state="in_use"}"#).unwrap();
    assert!(idle + in_use <= max && idle + in_use >= 1.0, "{text}");

    // The scheduler has not run in this process: its series are there, at 0.
    assert_eq!(sample(&text, "odr_scheduler_lag_seconds"), Some(0.0));
}

async fn only_loopback_or_the_token_may_scrape(db: Db) {
    let t = TestApp::new(db);
    // No token configured: loopback only (IPv4 and IPv6).
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    scrape(&app, "127.0.0.1:5000", None).await.expect(200);
    scrape(&app, "[::1]:5000", None).await.expect(200);
    let refused = scrape(&app, "192.0.2.7:5000", None).await.expect(404);
    assert_eq!(refused["code"], "not_found");
    scrape(&app, "192.0.2.7:5000", Some("anything"))
        .await
        .expect(404);
    // No peer address known: refused too.
    send(&app, TestRequest::get().uri("/metrics"))
        .await
        .expect(404);

    // With a token: the right one opens it from anywhere; a wrong one is
    // answered like no token at all.
    let mut state = t.state.clone();
    let mut http = (*state.http).clone();
    http.metrics_token = Some("s3cret-metrics-token".into());
    state.http = Arc::new(http);
    let app = init_service(odr_http::build_app(state)).await;
    scrape(&app, "192.0.2.7:5000", Some("s3cret-metrics-token"))
        .await
        .expect(200);
    scrape(&app, "192.0.2.7:5000", Some("s3cret-metrics-tokeN"))
        .await
        .expect(404);
    scrape(&app, "192.0.2.7:5000", None).await.expect(404);
    scrape(&app, "127.0.0.1:5000", None).await.expect(200);
}

async fn a_scheduler_pass_reports_its_actions_and_lag(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    file(&app, &w).await;
    assert_eq!(t.store().oldest_due(t.clock.now()).unwrap(), None);

    // Three days on, the acknowledgement deadline (and its reminder) are due.
    t.clock.advance(chrono::Duration::days(3));
    let now = t.clock.now();
    let oldest = t.store().oldest_due(now).unwrap().expect("a due wake-up");
    assert!(oldest <= now);
    let tick = t
        .store()
        .act_on_deadlines(now, &t.state.policy, t.state.rules, 100)
        .unwrap();
    t.state
        .metrics
        .scheduler_pass(Some(&tick), now, Some(oldest));

    let text = scrape(&app, "127.0.0.1:5000", None)
        .await
        .expect(200)
        .as_str()
        .unwrap()
        .to_owned();
    let lag = sample(&text, "odr_scheduler_lag_seconds").unwrap();
    assert_eq!(lag, (now - oldest).num_seconds() as f64, "{text}");
    assert!(lag > 0.0);
    assert_eq!(
        sample(&text, r#"odr_scheduler_actions_total{kind="deadline"}"#),
        Some(tick.deadlines as f64),
        "{text}"
    );
    assert!(tick.deadlines + tick.reminders >= 1);
    assert_eq!(
        sample(&text, "odr_scheduler_last_tick_timestamp_seconds"),
        Some(now.timestamp() as f64)
    );
}
