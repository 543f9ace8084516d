//! Limits, lists and headers: rate limits on signing in, keyset pages,
//! bad input as problem documents, security headers and CORS.

use std::sync::Arc;

use actix_web::http::Method;
use actix_web::test::{init_service, TestRequest};
use odr_domain::Role;
use odr_tests::{call, call_with_headers, on_both_databases, send, Answer, Db, TestApp};
use serde_json::{json, Value};

use crate::steps::*;

on_both_databases!(
    login_is_limited_per_client_address,
    the_right_password_signs_in_while_wrong_ones_are_throttled,
    register_is_limited_per_client_address,
    event_message_staff_and_mediator_lists_page_one_by_one,
    next_deadline_sort_orders_by_running_deadline_and_pages_stably,
    assigned_me_shows_only_a_mediators_own_cases,
    bad_input_is_a_problem_that_names_the_field,
    security_headers_on_every_response,
    cors_answers_only_configured_origins
);

const PASSWORD: &str = "correct horse battery";

async fn from(app: &impl App, peer: &str, path: &str, body: Value) -> Answer {
    let req = TestRequest::post()
        .uri(path)
        .peer_addr(peer.parse().unwrap())
        .set_json(body);
    send(app, req).await
}

async fn login(app: &impl App, peer: &str, email: &str, password: &str) -> Answer {
    from(
        app,
        peer,
        "/api/v1/auth/login",
        json!({"email": email, "password": password}),
    )
    .await
}

async fn login_is_limited_per_client_address(db: Db) {
    let t = TestApp::new(db);
    let _w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    // Ten wrong guesses at ten different accounts: the address is the limit.
    for i in 0..10 {
        login(
            &app,
            "192.0.2.1:4000",
            &format!("nobody{i}@example.test"),
            "x",
        )
        .await
        .expect(401);
    }
    let throttled = login(&app, "192.0.2.1:4001", "chris@example.test", PASSWORD).await;
    let retry: u64 = throttled
        .header("retry-after")
        .expect("a 429 says when to come back")
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let body = throttled.expect(429);
    assert_eq!(body["code"], "rate_limited");
    // Another address is not affected.
    login(&app, "198.51.100.9:4000", "chris@example.test", PASSWORD)
        .await
        .expect(200);
    // A minute later the address may try again.
    t.clock.advance(chrono::Duration::seconds(61));
    let token = login(&app, "192.0.2.1:4002", "chris@example.test", PASSWORD)
        .await
        .expect(200);
    assert!(token["access_token"].is_string());
}

async fn the_right_password_signs_in_while_wrong_ones_are_throttled(db: Db) {
    let t = TestApp::new(db);
    let _w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    // Someone guesses at Chris's account from many addresses.
    for i in 0..10 {
        login(
            &app,
            &format!("203.0.113.{i}:5000"),
            "Chris@Example.test",
            "guess",
        )
        .await
        .expect(401);
    }
    let guess = login(&app, "203.0.113.50:5000", "chris@example.test", "guess").await;
    assert!(guess.header("retry-after").is_some());
    assert_eq!(guess.expect(429)["code"], "rate_limited");
    // Chris, with the right password, is never refused for it.
    login(&app, "192.0.2.77:5000", "chris@example.test", PASSWORD)
        .await
        .expect(200);
    // Even from an address that guessed.
    login(&app, "203.0.113.1:5000", "chris@example.test", PASSWORD)
        .await
        .expect(200);
    // Other accounts are not throttled by it.
    login(&app, "203.0.113.2:5000", "eve@example.test", "guess")
        .await
        .expect(401);
}

async fn register_is_limited_per_client_address(db: Db) {
    let t = TestApp::new(db);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let register = |peer: &'static str, i: usize| {
        let app = &app;
        async move {
            from(
                app,
                peer,
                "/api/v1/auth/register",
                json!({
                    "email": format!("new{i}@example.test"),
                    "password": "a long enough secret",
                    "display_name": "New"
                }),
            )
            .await
        }
    };
    for i in 0..10 {
        register("192.0.2.5:1000", i).await.expect(201);
    }
    let throttled = register("192.0.2.5:1001", 10).await;
    assert!(throttled.header("retry-after").is_some());
    assert_eq!(throttled.expect(429)["code"], "rate_limited");
    register("192.0.2.6:1000", 11).await.expect(201);
    t.clock.advance(chrono::Duration::seconds(60));
    register("192.0.2.5:1000", 12).await.expect(201);
}

/// Follows `next_cursor` with `limit=1` and returns every item seen.
async fn walk(app: &impl App, path: &str, who: &odr_tests::Person) -> Vec<Value> {
    let mut seen = Vec::new();
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut next = format!("{path}{sep}limit=1");
    loop {
        let page = get(app, &next, who).await.expect(200);
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 1, "limit=1 gave {} items", items.len());
        seen.extend(items.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => next = format!("{path}{sep}limit=1&cursor={c}"),
            None => return seen,
        }
        assert!(seen.len() < 100, "the cursor never ends");
    }
}

async fn event_message_staff_and_mediator_lists_page_one_by_one(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    t.person(
        "second@teapot.test",
        Role::RetailerStaff,
        Some(&w.retailer_id),
    );
    t.person(
        "third@teapot.test",
        Role::RetailerStaff,
        Some(&w.retailer_id),
    );
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    act(&app, &c, "acknowledge", &w.staff, json!({}))
        .await
        .expect(200);
    for text in ["one", "two", "three"] {
        act(&app, &c, "messages", &w.customer, json!({"body": text}))
            .await
            .expect_ok();
    }

    let all = get(&app, &format!("/api/v1/complaints/{c}/events"), &w.customer)
        .await
        .expect(200);
    assert!(all["next_cursor"].is_null());
    let events = walk(&app, &format!("/api/v1/complaints/{c}/events"), &w.customer).await;
    assert_eq!(&Value::Array(events.clone()), &all["items"]);
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    assert_eq!(seqs.len(), 5, "file, acknowledge and three messages");

    let messages = walk(&app, &format!("/api/v1/complaints/{c}/messages"), &w.staff).await;
    let bodies: Vec<&str> = messages.iter().filter_map(|m| m["body"].as_str()).collect();
    assert_eq!(bodies, vec!["one", "two", "three"]);

    let staff_path = format!("/api/v1/retailers/{}/staff", w.retailer_id);
    let all = get(&app, &staff_path, &w.admin).await.expect(200);
    let staff = walk(&app, &staff_path, &w.admin).await;
    assert_eq!(staff.len(), 3);
    assert_eq!(&Value::Array(staff), &all["items"]);

    let mediators = walk(&app, "/api/v1/mediators", &w.admin).await;
    assert_eq!(mediators.len(), 2);
    assert_ne!(mediators[0]["id"], mediators[1]["id"]);

    // Too large a limit is clamped, not refused; a foreign cursor is 422;
    // an unknown parameter is 400 naming it.
    get(&app, &format!("{staff_path}?limit=100000"), &w.admin)
        .await
        .expect(200);
    let bad = get(
        &app,
        &format!("/api/v1/complaints/{c}/events?cursor=zz"),
        &w.customer,
    )
    .await
    .expect(422);
    assert_eq!(bad["errors"][0]["field"], "cursor");
    for path in [
        format!("/api/v1/complaints/{c}/events?page=2"),
        format!("/api/v1/complaints/{c}/messages?page=2"),
        format!("{staff_path}?page=2"),
        "/api/v1/mediators?page=2".to_owned(),
        "/api/v1/complaints?page=2".to_owned(),
        "/api/v1/retailers?page=2".to_owned(),
    ] {
        let bad = get(&app, &path, &w.admin).await.expect(400);
        assert_eq!(bad["code"], "malformed_request", "{path}");
        assert_eq!(bad["errors"][0]["field"], "page", "{path}");
    }
}

trait ExpectOk {
    fn expect_ok(self) -> Value;
}

impl ExpectOk for Answer {
    #[track_caller]
    fn expect_ok(self) -> Value {
        assert!(
            self.status.is_success(),
            "expected success, got {} with {}",
            self.status,
            self.body
        );
        self.body
    }
}

async fn next_deadline_sort_orders_by_running_deadline_and_pages_stably(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let hour = chrono::Duration::hours(1);
    // a: filed first but acknowledged, so its running deadline is the
    // (later) offer deadline; b: filed an hour later, waiting for an
    // acknowledgement; c: withdrawn, so nothing runs.
    let a = id(&file(&app, &w).await);
    t.clock.advance(hour);
    let b = id(&file(&app, &w).await);
    t.clock.advance(hour);
    let c = id(&file(&app, &w).await);
    act(&app, &a, "acknowledge", &w.staff, json!({}))
        .await
        .expect(200);
    act(&app, &c, "withdraw", &w.customer, json!({}))
        .await
        .expect(200);

    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let newest = get(&app, "/api/v1/complaints", &w.customer)
        .await
        .expect(200);
    assert_eq!(ids(&newest), vec![c.clone(), b.clone(), a.clone()]);
    let by_deadline = get(&app, "/api/v1/complaints?sort=next_deadline", &w.customer)
        .await
        .expect(200);
    assert_eq!(
        ids(&by_deadline),
        vec![b.clone(), a.clone(), c.clone()],
        "soonest running deadline first, closed last"
    );

    // Page by page, while a new complaint arrives after the first page.
    let first = get(
        &app,
        "/api/v1/complaints?sort=next_deadline&limit=1",
        &w.customer,
    )
    .await
    .expect(200);
    assert_eq!(ids(&first), vec![b.clone()]);
    t.clock.advance(hour);
    let d = id(&file(&app, &w).await);
    let mut seen = ids(&first);
    let mut cursor = first["next_cursor"].as_str().unwrap().to_owned();
    loop {
        let page = get(
            &app,
            &format!("/api/v1/complaints?sort=next_deadline&limit=1&cursor={cursor}"),
            &w.customer,
        )
        .await
        .expect(200);
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(
        seen,
        vec![b, d, a, c],
        "each complaint once, the new one in its place"
    );
    // A cursor of one sort is not taken by the other.
    let bad = get(
        &app,
        &format!("/api/v1/complaints?cursor={cursor}"),
        &w.customer,
    )
    .await
    .expect(422);
    assert_eq!(bad["errors"][0]["field"], "cursor");
    let bad = get(&app, "/api/v1/complaints?sort=oldest", &w.customer)
        .await
        .expect(422);
    assert_eq!(bad["errors"][0]["field"], "sort");
}

async fn assigned_me_shows_only_a_mediators_own_cases(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let mut cases = Vec::new();
    for _ in 0..3 {
        let c = id(&file(&app, &w).await);
        shop_escalates(&app, &c, &w).await;
        cases.push(c);
    }
    act(
        &app,
        &cases[0],
        "mediator",
        &w.mediator,
        json!({"mediator_id": w.mediator.id}),
    )
    .await
    .expect(200);
    act(
        &app,
        &cases[1],
        "mediator",
        &w.other_mediator,
        json!({"mediator_id": w.other_mediator.id}),
    )
    .await
    .expect(200);
    let count = |v: &Value| v["items"].as_array().unwrap().len();
    let visible = get(&app, "/api/v1/complaints", &w.mediator)
        .await
        .expect(200);
    assert_eq!(count(&visible), 2, "own case and the unclaimed one");
    let mine = get(&app, "/api/v1/complaints?assigned=me", &w.mediator)
        .await
        .expect(200);
    assert_eq!(count(&mine), 1);
    assert_eq!(mine["items"][0]["id"], cases[0].as_str());
    let not_mediator = get(&app, "/api/v1/complaints?assigned=me", &w.customer)
        .await
        .expect(422);
    assert_eq!(not_mediator["errors"][0]["field"], "assigned");
}

/// Files a complaint with a body sent as is; the answer must be a problem.
async fn file_raw(
    app: &impl App,
    content_type: &str,
    payload: String,
    who: &odr_tests::Person,
) -> Answer {
    let req = TestRequest::post()
        .uri("/api/v1/complaints")
        .insert_header(("Content-Type", content_type))
        .insert_header(("Authorization", format!("Bearer {}", who.token)))
        .set_payload(payload);
    let a = send(app, req).await;
    assert_eq!(
        a.header("content-type"),
        Some("application/problem+json"),
        "{:?}",
        a.body
    );
    a
}

async fn bad_input_is_a_problem_that_names_the_field(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let problem = |a: &Answer| {
        assert_eq!(
            a.header("content-type"),
            Some("application/problem+json"),
            "{:?}",
            a.body
        );
    };
    // Over 1 MiB.
    let huge = format!(r#"{{"description": "{}"}}"#, "x".repeat(1024 * 1024 + 10));
    let a = file_raw(&app, "application/json", huge, &w.customer).await;
    assert_eq!(a.expect(413)["code"], "payload_too_large");
    // Not JSON.
    let a = file_raw(&app, "text/plain", "hello".into(), &w.customer).await;
    assert_eq!(a.expect(415)["code"], "unsupported_media_type");
    // Malformed JSON.
    let a = file_raw(
        &app,
        "application/json",
        r#"{"retailer_id": "#.into(),
        &w.customer,
    )
    .await;
    let body = a.expect(400);
    assert_eq!(body["code"], "malformed_request");
    assert!(body["errors"][0]["field"].is_string());
    // An unknown field, named by its path.
    let mut filing = json!({
        "retailer_id": w.retailer_id, "order_reference": "A-1", "category": "damaged",
        "desired_remedy": "replacement", "description": "Cracked.",
        "items": [{"sku": "T", "name": "Teapot", "quantity": 1, "colour": "red"}]
    });
    let a = post(&app, "/api/v1/complaints", &w.customer, filing.clone()).await;
    let body = a.expect(400);
    assert_eq!(body["errors"][0]["field"], "items[0].colour");
    assert_eq!(body["errors"][0]["code"], "unknown_field");
    // Too long texts are 422, each named.
    filing["items"] = json!([]);
    filing["description"] = json!("d".repeat(5001));
    filing["order_reference"] = json!("o".repeat(101));
    let body = post(&app, "/api/v1/complaints", &w.customer, filing)
        .await
        .expect(422);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert!(fields.contains(&"description"), "{body}");
    assert!(fields.contains(&"order_reference"), "{body}");
    let c = id(&file(&app, &w).await);
    let long = "m".repeat(5001);
    let body = act(&app, &c, "messages", &w.customer, json!({"body": long}))
        .await
        .expect(422);
    assert_eq!(body["errors"][0]["field"], "body");
    let body = act(&app, &c, "withdraw", &w.customer, json!({"reason": long}))
        .await
        .expect(422);
    assert_eq!(body["errors"][0]["field"], "reason");
    let name = "n".repeat(201);
    let body = post(
        &app,
        &format!("/api/v1/retailers/{}/staff", w.retailer_id),
        &w.admin,
        json!({"email": "long@teapot.test", "display_name": name, "password": "a long enough secret"}),
    )
    .await
    .expect(422);
    assert_eq!(body["errors"][0]["field"], "display_name");
    let body = post(
        &app,
        "/api/v1/mediators",
        &w.admin,
        json!({"email": "long@odr.test", "display_name": name, "password": "a long enough secret"}),
    )
    .await
    .expect(422);
    assert_eq!(body["errors"][0]["field"], "display_name");
    // The framework's own errors are problems too.
    let a = get(&app, "/api/v1/nothing-here", &w.customer).await;
    problem(&a);
    assert_eq!(a.expect(404)["code"], "not_found");
    let a = call(
        &app,
        Method::PUT,
        "/api/v1/complaints",
        Some(&w.customer),
        None,
    )
    .await;
    problem(&a);
    assert_eq!(a.expect(405)["code"], "method_not_allowed");
    let a = get(&app, "/api/v1/complaints?limit=many", &w.customer).await;
    problem(&a);
    let body = a.expect(400);
    assert_eq!(body["errors"][0]["field"], "limit");
}

async fn security_headers_on_every_response(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    for a in [
        call(&app, Method::GET, "/healthz", None, None).await,
        get(&app, "/api/v1/me", &w.customer).await,
        call(&app, Method::GET, "/api/v1/me", None, None).await,
        call(&app, Method::GET, "/no/such/page", None, None).await,
    ] {
        assert_eq!(
            a.header("content-security-policy"),
            Some("default-src 'none'; frame-ancestors 'none'"),
            "{:?}",
            a.body
        );
        assert_eq!(a.header("x-frame-options"), Some("DENY"));
        assert_eq!(a.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(a.header("referrer-policy"), Some("no-referrer"));
        assert!(a.header("x-request-id").is_some());
        assert!(
            a.header("access-control-allow-origin").is_none(),
            "CORS is off unless origins are configured"
        );
    }
}

async fn cors_answers_only_configured_origins(db: Db) {
    let mut t = TestApp::new(db);
    let w = t.world();
    let mut http = (*t.state.http).clone();
    http.cors_allowed_origins = vec!["https://shop.example".into()];
    t.state.http = Arc::new(http);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let preflight = |origin: &'static str| {
        TestRequest::default()
            .method(Method::OPTIONS)
            .uri("/api/v1/complaints")
            .insert_header(("Origin", origin))
            .insert_header(("Access-Control-Request-Method", "POST"))
            .insert_header((
                "Access-Control-Request-Headers",
                "authorization,content-type,idempotency-key",
            ))
    };
    let ok = send(&app, preflight("https://shop.example")).await;
    assert!(ok.status.is_success(), "{:?}", ok);
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    assert_eq!(ok.header("access-control-max-age"), Some("600"));
    let methods = ok.header("access-control-allow-methods").unwrap();
    for m in ["GET", "POST", "PATCH", "DELETE", "OPTIONS"] {
        assert!(methods.contains(m), "{methods}");
    }
    let headers = ok
        .header("access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(headers.contains("idempotency-key"), "{headers}");

    let other = send(&app, preflight("https://evil.example")).await;
    assert!(other.header("access-control-allow-origin").is_none());
    assert!(!other.status.is_success());
    assert_eq!(
        other.header("content-type"),
        Some("application/problem+json"),
        "a refused preflight is a problem document too: {other:?}"
    );
    assert!(other.header("content-security-policy").is_some());

    let me_from = |origin: &'static str| {
        let (app, who) = (&app, &w.customer);
        async move {
            let origin = [("Origin", origin)];
            call_with_headers(app, Method::GET, "/api/v1/me", Some(who), None, &origin).await
        }
    };
    let simple = me_from("https://shop.example").await;
    assert_eq!(
        simple.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    let exposed = simple
        .header("access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    for h in ["etag", "location", "x-request-id", "retry-after"] {
        assert!(exposed.contains(h), "{exposed}");
    }
    let foreign = me_from("https://evil.example").await;
    assert!(foreign.header("access-control-allow-origin").is_none());
    foreign.expect(200);
}
