//! The contract shops build on: `Idempotency-Key` on POST (a retry gets the
//! first answer and writes nothing) and preconditions on complaints (`ETag`,
//! `If-Match`, `If-None-Match`).

use actix_web::http::Method;
use actix_web::test::init_service;
use futures_util::future::join_all;
use odr_tests::{call_with_headers, on_both_databases, Answer, Db, Person, TestApp, World};
use serde_json::{json, Value};

use crate::steps::*;

on_both_databases!(
    a_retried_filing_replays_the_first_answer_and_files_nothing_new,
    the_same_key_with_another_body_is_refused_as_reused,
    a_retried_login_replays_without_the_access_token,
    keys_belong_to_their_caller,
    concurrent_requests_with_one_key_execute_once,
    a_client_error_is_replayed_too,
    an_expired_key_acts_as_new,
    a_malformed_key_is_a_malformed_request,
    a_stale_if_match_is_412_and_writes_nothing,
    a_fresh_if_match_applies_the_transition,
    if_none_match_with_the_current_tag_is_304,
    the_etag_differs_by_role_for_one_version,
    a_key_left_running_by_a_dead_process_is_taken_over_after_its_lease,
);

fn filing(w: &World) -> Value {
    json!({
        "retailer_id": w.retailer_id,
        "order_reference": "A-2002",
        "category": "damaged",
        "desired_remedy": "replacement",
        "description": "The kettle arrived dented.",
    })
}

async fn post_with(
    app: &impl App,
    path: &str,
    who: Option<&Person>,
    body: Value,
    headers: &[(&str, &str)],
) -> Answer {
    call_with_headers(app, Method::POST, path, who, Some(body), headers).await
}

async fn get_with(app: &impl App, path: &str, who: &Person, headers: &[(&str, &str)]) -> Answer {
    call_with_headers(app, Method::GET, path, Some(who), None, headers).await
}

/// How many complaints `who` sees in the list.
async fn complaint_count(app: &impl App, who: &Person) -> usize {
    let list = get(app, "/api/v1/complaints?limit=200", who)
        .await
        .expect(200);
    list["items"].as_array().expect("items").len()
}

async fn event_count(app: &impl App, id: &str, who: &Person) -> usize {
    let log = get(app, &format!("/api/v1/complaints/{id}/events"), who)
        .await
        .expect(200);
    log["items"].as_array().expect("items").len()
}

fn etag(answer: &Answer) -> String {
    answer
        .header("etag")
        .unwrap_or_else(|| panic!("no ETag on {} {}", answer.status, answer.body))
        .to_owned()
}

async fn a_retried_filing_replays_the_first_answer_and_files_nothing_new(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let key = [("Idempotency-Key", "file-kettle-1")];
    let path = "/api/v1/complaints";
    let first = post_with(&app, path, Some(&w.customer), filing(&w), &key).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = post_with(&app, path, Some(&w.customer), filing(&w), &key).await;
    assert_eq!(again.status, 201, "the retry must answer like the first");
    assert_eq!(
        again.body, first.body,
        "the retry must show the same complaint"
    );
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("etag"), first.header("etag"));
    assert_eq!(again.header("content-type"), first.header("content-type"));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert!(
        again.header("x-request-id").is_some(),
        "replays get a request id too"
    );
    assert_eq!(
        complaint_count(&app, &w.customer).await,
        1,
        "a retried filing must not file a second complaint"
    );
}

async fn the_same_key_with_another_body_is_refused_as_reused(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let key = [("Idempotency-Key", "file-kettle-2")];
    let path = "/api/v1/complaints";
    post_with(&app, path, Some(&w.customer), filing(&w), &key)
        .await
        .expect(201);
    let mut other = filing(&w);
    other["description"] = json!("Actually it was the lid.");
    let reused = post_with(&app, path, Some(&w.customer), other, &key)
        .await
        .expect(422);
    assert_eq!(reused["code"], "idempotency_key_reused");
    assert_eq!(complaint_count(&app, &w.customer).await, 1);
}

async fn a_retried_login_replays_without_the_access_token(db: Db) {
    let t = TestApp::new(db);
    let _w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let key = [("Idempotency-Key", "login-1")];
    let body = json!({"email": "chris@example.test", "password": "correct horse battery"});
    let path = "/api/v1/auth/login";
    let first = post_with(&app, path, None, body.clone(), &key)
        .await
        .expect(200);
    assert!(first["access_token"].is_string(), "{first}");
    let again = post_with(&app, path, None, body, &key).await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let again = again.expect(200);
    assert_eq!(
        again["access_token"],
        Value::Null,
        "a token must never be kept for replays"
    );
    assert_eq!(again["token_type"], first["token_type"]);
}

async fn keys_belong_to_their_caller(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let key = [("Idempotency-Key", "same-key")];
    let path = "/api/v1/complaints";
    let chris = post_with(&app, path, Some(&w.customer), filing(&w), &key)
        .await
        .expect(201);
    let eve = post_with(&app, path, Some(&w.other_customer), filing(&w), &key).await;
    assert_eq!(
        eve.header("idempotent-replayed"),
        None,
        "another caller's key must not replay"
    );
    let eve = eve.expect(201);
    assert_ne!(id(&chris), id(&eve));
    assert_eq!(complaint_count(&app, &w.other_customer).await, 1);
}

async fn concurrent_requests_with_one_key_execute_once(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let key = [("Idempotency-Key", "at-once")];
    let path = "/api/v1/complaints";
    let answers =
        join_all((0..6).map(|_| post_with(&app, path, Some(&w.customer), filing(&w), &key))).await;
    let mut ids = Vec::new();
    for a in &answers {
        match a.status.as_u16() {
            201 => ids.push(id(&a.body)),
            409 => assert_eq!(a.body["code"], "conflict", "{}", a.body),
            other => panic!("unexpected {other}: {}", a.body),
        }
    }
    assert!(!ids.is_empty(), "one of the requests must execute");
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "every 201 shows one complaint"
    );
    assert_eq!(complaint_count(&app, &w.customer).await, 1);
}

async fn a_client_error_is_replayed_too(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let key = [("Idempotency-Key", "bad-filing")];
    let path = "/api/v1/complaints";
    let mut body = filing(&w);
    body["category"] = json!("no_such_category");
    let first = post_with(&app, path, Some(&w.customer), body.clone(), &key)
        .await
        .expect(422);
    let again = post_with(&app, path, Some(&w.customer), body, &key).await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        again.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(again.expect(422), first);
}

async fn an_expired_key_acts_as_new(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let key = [("Idempotency-Key", "kept-a-day")];
    let path = "/api/v1/complaints";
    let first = post_with(&app, path, Some(&w.customer), filing(&w), &key)
        .await
        .expect(201);
    t.clock
        .advance(chrono::Duration::from_std(t.state.http.idempotency_ttl).unwrap());
    t.clock.advance(chrono::Duration::seconds(1));
    let later = post_with(&app, path, Some(&w.customer), filing(&w), &key).await;
    assert_eq!(later.header("idempotent-replayed"), None);
    assert_ne!(
        id(&later.expect(201)),
        id(&first),
        "an expired key runs again"
    );
    assert_eq!(complaint_count(&app, &w.customer).await, 2);
    // And the purge forgets it for good once expired.
    t.clock
        .advance(chrono::Duration::from_std(t.state.http.idempotency_ttl).unwrap());
    t.clock.advance(chrono::Duration::seconds(1));
    let now = odr_http::Clock::now(t.clock.as_ref());
    assert_eq!(t.store().purge_idempotency_keys(now).unwrap(), 1);
}

async fn a_malformed_key_is_a_malformed_request(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let long = "k".repeat(256);
    let key = [("Idempotency-Key", long.as_str())];
    let problem = post_with(
        &app,
        "/api/v1/complaints",
        Some(&w.customer),
        filing(&w),
        &key,
    )
    .await
    .expect(400);
    assert_eq!(problem["code"], "malformed_request");
    assert!(
        problem.to_string().contains("Idempotency-Key"),
        "the problem must name the header: {problem}"
    );
    assert_eq!(complaint_count(&app, &w.customer).await, 0);
}

async fn a_stale_if_match_is_412_and_writes_nothing(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    let path = format!("/api/v1/complaints/{c}");
    let read = get_with(&app, &path, &w.customer, &[]).await;
    let stale = etag(&read);
    act(&app, &c, "acknowledge", &w.staff, json!({}))
        .await
        .expect(200);
    let before = event_count(&app, &c, &w.customer).await;
    let refused = post_with(
        &app,
        &format!("{path}/withdraw"),
        Some(&w.customer),
        json!({}),
        &[("If-Match", stale.as_str())],
    )
    .await
    .expect(412);
    assert_eq!(refused["code"], "precondition_failed");
    assert_eq!(
        event_count(&app, &c, &w.customer).await,
        before,
        "a stale If-Match must write nothing"
    );
    let now = get(&app, &path, &w.customer).await.expect(200);
    assert_eq!(now["state"], "acknowledged");
}

async fn a_fresh_if_match_applies_the_transition(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    let path = format!("/api/v1/complaints/{c}");
    let read = get_with(&app, &path, &w.staff, &[]).await;
    let fresh = etag(&read);
    let version = read.body["version"].as_i64().expect("version");
    let done = post_with(
        &app,
        &format!("{path}/acknowledge"),
        Some(&w.staff),
        json!({}),
        &[("If-Match", fresh.as_str())],
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_ne!(etag(&done), fresh, "a transition moves the tag");
    assert_eq!(done.body["version"].as_i64(), Some(version + 1));
    assert_eq!(done.header("vary"), Some("Authorization"));
    post_with(
        &app,
        &format!("{path}/offers"),
        Some(&w.staff),
        json!({"remedy": "replacement"}),
        &[("If-Match", "*")],
    )
    .await
    .expect(200);
}

async fn if_none_match_with_the_current_tag_is_304(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let filed = post_with(
        &app,
        "/api/v1/complaints",
        Some(&w.customer),
        filing(&w),
        &[],
    )
    .await;
    let tag = etag(&filed);
    let path = format!("/api/v1/complaints/{}", id(&filed.body));
    let unchanged = get_with(&app, &path, &w.customer, &[("If-None-Match", tag.as_str())]).await;
    assert_eq!(unchanged.status, 304);
    assert_eq!(unchanged.body, Value::Null, "a 304 has no body");
    assert_eq!(unchanged.header("etag"), Some(tag.as_str()));
    let other = get_with(
        &app,
        &path,
        &w.customer,
        &[("If-None-Match", "\"0-customer\"")],
    )
    .await;
    assert_eq!(other.status, 200);
    assert_eq!(etag(&other), tag);
}

async fn the_etag_differs_by_role_for_one_version(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    let path = format!("/api/v1/complaints/{c}");
    let customer = get_with(&app, &path, &w.customer, &[]).await;
    let staff = get_with(&app, &path, &w.staff, &[]).await;
    assert_eq!(customer.body["version"], staff.body["version"]);
    assert_ne!(etag(&customer), etag(&staff));
    assert_eq!(customer.header("vary"), Some("Authorization"));
    // The staff's tag does not satisfy the customer's If-Match.
    let staff_tag = etag(&staff);
    post_with(
        &app,
        &format!("{path}/withdraw"),
        Some(&w.customer),
        json!({}),
        &[("If-Match", staff_tag.as_str())],
    )
    .await
    .expect(412);
}

/// A process that dies mid-request leaves its key `running`; a retry is 409
/// for a few minutes, then runs, instead of being blocked for the key's life.
async fn a_key_left_running_by_a_dead_process_is_taken_over_after_its_lease(db: Db) {
    use odr_store::{KeptResponse, KeyClaim};
    let t = TestApp::new(db);
    let store = t.store();
    let now = || odr_http::Clock::now(t.clock.as_ref());
    let ttl = chrono::Duration::hours(24);
    let claim = |hash: &str, at| store.claim_idempotency_key("user:u", "k", hash, at, ttl);
    assert_eq!(claim("h", now()).unwrap(), KeyClaim::Fresh);
    assert_eq!(claim("h", now()).unwrap(), KeyClaim::Running);
    assert_eq!(claim("other", now()).unwrap(), KeyClaim::Reused);
    t.clock.advance(chrono::Duration::minutes(6));
    assert_eq!(claim("h", now()).unwrap(), KeyClaim::Fresh, "lease over");
    let kept = KeptResponse {
        status: 201,
        headers: [("location".to_owned(), "/x".to_owned())].into(),
        body: "{}".into(),
    };
    store.finish_idempotency_key("user:u", "k", &kept).unwrap();
    t.clock.advance(chrono::Duration::hours(1));
    assert_eq!(claim("h", now()).unwrap(), KeyClaim::Done(kept));
}
