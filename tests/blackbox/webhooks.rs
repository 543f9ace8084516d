//! Signed webhooks: a toy shop on loopback receives the deliveries the
//! worker makes (driven one batch at a time, with the test's clock), checks
//! their signature with the secret shown once, and can answer 500, redirect
//! or drop the connection to play an outage.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::http::Method;
use actix_web::test::init_service;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use odr_http::Clock;
use odr_tests::{call, on_both_databases, Db, Person, TestApp, World};
use odr_webhooks::address::AddressPolicy;
use odr_webhooks::worker::BatchReport;
use odr_webhooks::{DeliveryWorker, WorkerSettings};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::steps::*;

on_both_databases!(
    a_delivery_is_signed_and_carries_the_complaint_as_the_api_showed_it,
    an_outage_is_retried_until_delivered_with_the_same_event_id,
    a_redelivery_sends_the_same_event_again_as_one_more_attempt,
    an_endpoint_failing_for_three_days_is_disabled_and_its_shop_mailed,
    private_addresses_are_refused_unless_allowed,
    an_address_is_checked_again_at_delivery,
    redirects_are_not_followed,
    only_the_shops_people_and_admins_manage_its_webhooks,
    a_refused_transition_writes_no_delivery,
    the_delivery_log_is_newest_first_in_pages
);

/// What the toy shop answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Ok,
    Fail,
    /// Closes every connection without an answer.
    Down,
    /// 302 to another address.
    Redirect(u16),
}

#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("the delivery has no {name} header: {:?}", self.headers))
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("the body is JSON")
    }
}

/// A shop's webhook receiver on loopback, recording what it received.
struct ToyShop {
    port: u16,
    mode: Arc<Mutex<Mode>>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl ToyShop {
    fn start() -> ToyShop {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mode = Arc::new(Mutex::new(Mode::Ok));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (m, r) = (mode.clone(), received.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mode = *m.lock().unwrap();
                serve_one(stream, mode, &r);
            }
        });
        ToyShop {
            port,
            mode,
            received,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/odr/webhook", self.port)
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn serve_one(stream: TcpStream, mode: Mode, received: &Mutex<Vec<Received>>) {
    if mode == Mode::Down {
        return; // dropped: the connection closes without an answer
    }
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((n, v)) = h.trim_end().split_once(':') {
            headers.push((n.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    received.lock().unwrap().push(Received {
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let answer = match mode {
        Mode::Ok => "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".to_owned(),
        Mode::Fail => {
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .to_owned()
        }
        Mode::Redirect(port) => format!(
            "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{port}/odr/webhook\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
        Mode::Down => unreachable!(),
    };
    let mut stream = stream;
    let _ = stream.write_all(answer.as_bytes());
}

/// The test app with `ODR_WEBHOOK_ALLOW_PRIVATE` as given (the toy shop
/// is on loopback).
fn app_allowing_private(db: Db, allow: bool) -> TestApp {
    let mut t = TestApp::new(db);
    let mut http = (*t.state.http).clone();
    http.webhook_allow_private = allow;
    t.state.http = Arc::new(http);
    t
}

fn worker(t: &TestApp, allow_private: bool) -> DeliveryWorker {
    DeliveryWorker::new(
        t.store().clone(),
        t.state.secrets.clone(),
        WorkerSettings {
            addresses: AddressPolicy { allow_private },
            timeout: Duration::from_secs(5),
            ..WorkerSettings::default()
        },
    )
}

/// One batch of the worker at the test's time.
async fn deliver(t: &TestApp) -> BatchReport {
    worker(t, true).run_batch(t.clock.now()).await.unwrap()
}

fn hooks_path(retailer_id: &str) -> String {
    format!("/api/v1/retailers/{retailer_id}/webhooks")
}

async fn register(app: &impl App, w: &World, url: &str, events: &[&str]) -> Value {
    post(
        app,
        &hooks_path(&w.retailer_id),
        &w.staff,
        json!({"url": url, "events": events}),
    )
    .await
    .expect(201)
}

async fn log(app: &impl App, w: &World, hook: &Value) -> Vec<Value> {
    let path = format!("{}/{}/deliveries", hooks_path(&w.retailer_id), id(hook));
    get(app, &path, &w.staff).await.expect(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn redeliver_path(w: &World, hook: &Value, delivery_id: &str) -> String {
    format!(
        "{}/{}/deliveries/{delivery_id}/redeliver",
        hooks_path(&w.retailer_id),
        id(hook)
    )
}

/// Checks `ODR-Signature` as a shop would: `t=<unix>,v1=<hex HMAC-SHA256
/// of "<t>.<raw body>" keyed with the whole secret>`.
fn signature_is_valid(secret: &str, received: &Received) -> bool {
    let header = received.header("ODR-Signature");
    let (t, v1) = header
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
        .unwrap_or_else(|| panic!("malformed signature header {header}"));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{}", received.body).as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    expected == v1
}

fn advance(t: &TestApp, by: chrono::Duration) -> DateTime<Utc> {
    t.clock.advance(by);
    t.clock.now()
}

async fn a_delivery_is_signed_and_carries_the_complaint_as_the_api_showed_it(db: Db) {
    let t = app_allowing_private(db, true);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let w = t.world();
    let shop = ToyShop::start();
    let hook = register(
        &app,
        &w,
        &shop.url(),
        &["complaint.filed", "complaint.acknowledged"],
    )
    .await;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{hook}");
    assert_eq!(hook["enabled"], true);
    let listed = get(&app, &hooks_path(&w.retailer_id), &w.staff)
        .await
        .expect(200);
    assert_eq!(listed["items"][0]["id"], hook["id"]);
    assert!(
        listed["items"][0].get("secret").is_none(),
        "the list shows the secret: {listed}"
    );

    let filed = file(&app, &w).await;
    let complaint_id = id(&filed);
    let as_staff_then = get(
        &app,
        &format!("/api/v1/complaints/{complaint_id}"),
        &w.staff,
    )
    .await
    .expect(200);
    let report = deliver(&t).await;
    assert_eq!((report.claimed, report.delivered), (1, 1), "{report:?}");

    let got = shop.received();
    assert_eq!(got.len(), 1);
    let first = &got[0];
    assert!(
        signature_is_valid(&secret, first),
        "the signature does not verify"
    );
    assert!(!signature_is_valid("whsec_wrong", first));
    let signed_at: i64 = first.header("ODR-Signature")[2..12].parse().unwrap();
    assert_eq!(signed_at, t.clock.now().timestamp());
    let body = first.json();
    assert_eq!(first.header("ODR-Event-Type"), "complaint.filed");
    assert_eq!(first.header("ODR-Event-Id"), body["id"].as_str().unwrap());
    assert_eq!(first.header("Content-Type"), "application/json");
    assert_eq!(body["type"], "complaint.filed");
    assert_eq!(
        body["created_at"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        t.clock.now()
    );
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert_eq!(
        body["data"]["complaint"], as_staff_then,
        "data.complaint is not the complaint as the API shows it to the shop"
    );

    // The next event shows the complaint as it was then; an event the
    // endpoint did not subscribe to sends nothing.
    advance(&t, chrono::Duration::hours(1));
    act(&app, &complaint_id, "acknowledge", &w.staff, json!({}))
        .await
        .expect(200);
    post(
        &app,
        &format!("/api/v1/complaints/{complaint_id}/messages"),
        &w.customer,
        json!({"body": "Any news?"}),
    )
    .await
    .expect(201);
    advance(&t, chrono::Duration::hours(1));
    assert_eq!(deliver(&t).await.delivered, 1);
    let got = shop.received();
    assert_eq!(got.len(), 2);
    let second = got[1].json();
    assert_eq!(second["type"], "complaint.acknowledged");
    assert_eq!(second["data"]["complaint"]["state"], "acknowledged");
    assert_eq!(second["data"]["complaint"]["version"], 2);
    assert_ne!(second["id"], body["id"]);
    assert!(signature_is_valid(&secret, &got[1]));
    assert_eq!(deliver(&t).await.claimed, 0, "nothing else is due");
}

async fn an_outage_is_retried_until_delivered_with_the_same_event_id(db: Db) {
    let t = app_allowing_private(db, true);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let w = t.world();
    let shop = ToyShop::start();
    let hook = register(&app, &w, &shop.url(), &["complaint.filed"]).await;
    shop.set(Mode::Down);
    file(&app, &w).await;
    assert_eq!(deliver(&t).await.retrying, 1);
    let entries = log(&app, &w, &hook).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["status"], "retrying");
    assert_eq!(entries[0]["attempts"], 1);
    assert!(entries[0]["last_error"].as_str().is_some(), "{entries:?}");
    assert_eq!(entries[0]["last_status_code"], Value::Null);
    assert_eq!(deliver(&t).await.claimed, 0, "not due again at once");

    shop.set(Mode::Fail);
    advance(&t, chrono::Duration::hours(1));
    assert_eq!(deliver(&t).await.retrying, 1);
    let entries = log(&app, &w, &hook).await;
    assert_eq!(entries[0]["attempts"], 2);
    assert_eq!(entries[0]["last_status_code"], 500);

    shop.set(Mode::Ok);
    advance(&t, chrono::Duration::hours(1));
    assert_eq!(deliver(&t).await.delivered, 1);
    let entries = log(&app, &w, &hook).await;
    assert_eq!(entries[0]["status"], "delivered");
    assert_eq!(entries[0]["attempts"], 3);
    assert_eq!(entries[0]["last_error"], Value::Null);
    assert!(entries[0]["delivered_at"].as_str().is_some());
    let got = shop.received();
    // The 500 was received too: the same event both times.
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].header("ODR-Event-Id"), got[1].header("ODR-Event-Id"));
    assert_eq!(got[0].body, got[1].body);
    assert_eq!(entries[0]["event_id"], got[1].header("ODR-Event-Id"));
    let listed = get(&app, &hooks_path(&w.retailer_id), &w.staff)
        .await
        .expect(200);
    assert_eq!(listed["items"][0]["failing_since"], Value::Null);
}

async fn a_redelivery_sends_the_same_event_again_as_one_more_attempt(db: Db) {
    let t = app_allowing_private(db, true);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let w = t.world();
    let shop = ToyShop::start();
    let hook = register(&app, &w, &shop.url(), &["complaint.filed"]).await;
    file(&app, &w).await;
    deliver(&t).await;
    let delivery = log(&app, &w, &hook).await[0].clone();
    assert_eq!(delivery["attempts"], 1);
    let answer = post(
        &app,
        &redeliver_path(&w, &hook, &id(&delivery)),
        &w.staff,
        json!({}),
    )
    .await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    advance(&t, chrono::Duration::seconds(1));
    assert_eq!(deliver(&t).await.delivered, 1);
    let got = shop.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].header("ODR-Event-Id"), got[1].header("ODR-Event-Id"));
    assert_eq!(got[0].body, got[1].body);
    let again = log(&app, &w, &hook).await[0].clone();
    assert_eq!(again["id"], delivery["id"]);
    assert_eq!(again["attempts"], 2);
    assert_eq!(again["status"], "delivered");
    post(
        &app,
        &redeliver_path(&w, &hook, "no-such-delivery"),
        &w.staff,
        json!({}),
    )
    .await
    .expect(404);
}

async fn an_endpoint_failing_for_three_days_is_disabled_and_its_shop_mailed(db: Db) {
    let t = app_allowing_private(db, true);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let w = t.world();
    let shop = ToyShop::start();
    let hook = register(&app, &w, &shop.url(), &["complaint.filed"]).await;
    shop.set(Mode::Fail);
    file(&app, &w).await;
    let started = t.clock.now();
    let mut disabled_at = None;
    for _ in 0..20 {
        let report = deliver(&t).await;
        if report.disabled == 1 {
            disabled_at = Some(t.clock.now());
            break;
        }
        assert_eq!(report.disabled, 0);
        advance(&t, chrono::Duration::hours(8));
    }
    let disabled_at = disabled_at.expect("the endpoint is disabled in the end");
    let failing_for = disabled_at - started;
    assert!(
        failing_for >= chrono::Duration::days(3) && failing_for < chrono::Duration::days(4),
        "disabled after {failing_for}"
    );
    // It was tried for at least a day first, again and again.
    assert!(shop.received().len() >= 5, "{}", shop.received().len());

    let listed = get(&app, &hooks_path(&w.retailer_id), &w.staff)
        .await
        .expect(200);
    assert_eq!(listed["items"][0]["enabled"], false);
    let entries = log(&app, &w, &hook).await;
    assert_eq!(entries[0]["status"], "dead");
    for address in ["support@teapot-shop.test", "staff@teapot.test"] {
        let mails = t.store().outbox_to_address(address).unwrap();
        let mail = mails
            .iter()
            .find(|m| m.template == "webhook_disabled")
            .unwrap_or_else(|| panic!("{address} is not told: {mails:?}"));
        assert_eq!(mail.payload["webhook"]["url"], shop.url());
    }
    assert!(t
        .store()
        .outbox_to_address("staff@other.test")
        .unwrap()
        .iter()
        .all(|m| m.template != "webhook_disabled"));

    // Nothing more is sent or queued to it; a redeliver needs it enabled.
    let before = shop.received().len();
    file(&app, &w).await;
    advance(&t, chrono::Duration::hours(1));
    assert_eq!(deliver(&t).await.claimed, 0);
    assert_eq!(shop.received().len(), before);
    assert_eq!(log(&app, &w, &hook).await.len(), 1);
    let conflict = post(
        &app,
        &redeliver_path(&w, &hook, &id(&entries[0])),
        &w.staff,
        json!({}),
    )
    .await
    .expect(409);
    assert_eq!(conflict["code"], "conflict");
    assert!(conflict["detail"].as_str().unwrap().contains("disabled"));

    // Enabled again, the shop fixed, what it missed is redelivered.
    let path = format!("{}/{}", hooks_path(&w.retailer_id), id(&hook));
    let enabled = call(
        &app,
        Method::PATCH,
        &path,
        Some(&w.staff),
        Some(json!({"enabled": true})),
    )
    .await
    .expect(200);
    assert_eq!(enabled["enabled"], true);
    shop.set(Mode::Ok);
    post(
        &app,
        &redeliver_path(&w, &hook, &id(&entries[0])),
        &w.staff,
        json!({}),
    )
    .await
    .expect(202);
    assert_eq!(deliver(&t).await.delivered, 1);
}

async fn private_addresses_are_refused_unless_allowed(db: Db) {
    let t = app_allowing_private(db, false);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let w = t.world();
    let path = hooks_path(&w.retailer_id);
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.0.0.7/hook",
        "http://192.168.1.20/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fd00:ec2::254]/hook",
        "http://100.64.1.1/hook",
        "http://0.0.0.0/hook",
        "ftp://shop.example/hook",
        "https://user:pw@shop.example/hook",
        "not a url",
    ] {
        let refused = post(
            &app,
            &path,
            &w.staff,
            json!({"url": url, "events": ["complaint.filed"]}),
        )
        .await
        .expect(422);
        assert_eq!(refused["code"], "validation_failed", "{url}");
        assert_eq!(refused["errors"][0]["field"], "url", "{url}: {refused}");
    }
    let unknown = post(
        &app,
        &path,
        &w.staff,
        json!({"url": "http://127.0.0.1/hook", "events": ["complaint.filed", "complaint.reminded"]}),
    )
    .await
    .expect(422);
    let fields: Vec<&str> = unknown["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"events[1]"), "{unknown}");
    let empty = post(
        &app,
        &path,
        &w.staff,
        json!({"url": "http://127.0.0.1/hook", "events": []}),
    )
    .await
    .expect(422);
    assert!(empty["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["field"] == "events"));
    let listed = get(&app, &path, &w.staff).await.expect(200);
    assert_eq!(
        listed["items"],
        json!([]),
        "a refused registration wrote something"
    );

    let t = app_allowing_private(db, true);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let w = t.world();
    register(&app, &w, "http://127.0.0.1:8080/hook", &["complaint.filed"]).await;
}

async fn an_address_is_checked_again_at_delivery(db: Db) {
    let t = app_allowing_private(db, true);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let w = t.world();
    let shop = ToyShop::start();
    let hook = register(&app, &w, &shop.url(), &["complaint.filed"]).await;
    file(&app, &w).await;
    let strict = worker(&t, false).run_batch(t.clock.now()).await.unwrap();
    assert_eq!(strict.retrying, 1);
    assert!(shop.received().is_empty(), "a refused address was called");
    let entries = log(&app, &w, &hook).await;
    let error = entries[0]["last_error"].as_str().unwrap();
    assert!(error.contains("loopback"), "{error}");
}

async fn redirects_are_not_followed(db: Db) {
    let t = app_allowing_private(db, true);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let w = t.world();
    let shop = ToyShop::start();
    let elsewhere = ToyShop::start();
    shop.set(Mode::Redirect(elsewhere.port));
    let hook = register(&app, &w, &shop.url(), &["complaint.filed"]).await;
    file(&app, &w).await;
    assert_eq!(deliver(&t).await.retrying, 1);
    assert_eq!(shop.received().len(), 1);
    assert!(elsewhere.received().is_empty(), "the redirect was followed");
    let entries = log(&app, &w, &hook).await;
    assert_eq!(entries[0]["last_status_code"], 302);
    assert!(entries[0]["last_error"]
        .as_str()
        .unwrap()
        .contains("redirect"));
}

async fn only_the_shops_people_and_admins_manage_its_webhooks(db: Db) {
    let t = app_allowing_private(db, true);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let w = t.world();
    let path = hooks_path(&w.retailer_id);
    let body = json!({"url": "http://127.0.0.1:9/hook", "events": ["complaint.filed"]});
    for who in [&w.customer, &w.mediator] {
        post(&app, &path, who, body.clone()).await.expect(403);
        get(&app, &path, who).await.expect(403);
    }
    post(&app, &path, &w.other_staff, body.clone())
        .await
        .expect(404);
    get(&app, &path, &w.other_staff).await.expect(404);
    let by_admin = post(&app, &path, &w.admin, body.clone()).await.expect(201);
    let hook_path = format!("{path}/{}", id(&by_admin));
    get(&app, &format!("{hook_path}/deliveries"), &w.other_staff)
        .await
        .expect(404);
    call(&app, Method::DELETE, &hook_path, Some(&w.other_staff), None)
        .await
        .expect(404);

    // An API key acts as staff, but webhooks need a signed-in person.
    let key = post(
        &app,
        &format!("/api/v1/retailers/{}/api-keys", w.retailer_id),
        &w.staff,
        json!({"name": "Shop backend"}),
    )
    .await
    .expect(201);
    let as_key = Person {
        id: String::new(),
        token: key["key"].as_str().unwrap().to_owned(),
    };
    post(&app, &path, &as_key, body.clone()).await.expect(403);
    get(&app, &path, &as_key).await.expect(403);

    call(&app, Method::DELETE, &hook_path, Some(&w.staff), None)
        .await
        .expect(204);
    let listed = get(&app, &path, &w.staff).await.expect(200);
    assert_eq!(listed["items"], json!([]));
}

async fn a_refused_transition_writes_no_delivery(db: Db) {
    let t = app_allowing_private(db, true);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let w = t.world();
    let all = [
        "complaint.filed",
        "complaint.acknowledged",
        "complaint.offer_proposed",
        "complaint.offer_accepted",
        "complaint.offer_rejected",
        "complaint.escalated",
        "complaint.mediator_assigned",
        "complaint.decided",
        "complaint.fulfilled",
        "complaint.withdrawn",
        "complaint.lapsed",
        "complaint.message_added",
    ];
    let hook = register(&app, &w, "http://127.0.0.1:9/hook", &all).await;
    let filed = file(&app, &w).await;
    assert_eq!(log(&app, &w, &hook).await.len(), 1);
    // Accepting with no offer on the table is refused: nothing is written.
    act(&app, &id(&filed), "accept", &w.customer, json!({}))
        .await
        .expect(409);
    act(&app, &id(&filed), "acknowledge", &w.customer, json!({}))
        .await
        .expect(403);
    assert_eq!(log(&app, &w, &hook).await.len(), 1);
}

async fn the_delivery_log_is_newest_first_in_pages(db: Db) {
    let t = app_allowing_private(db, true);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let w = t.world();
    let hook = register(&app, &w, "http://127.0.0.1:9/hook", &["complaint.filed"]).await;
    for _ in 0..3 {
        file(&app, &w).await;
        advance(&t, chrono::Duration::minutes(1));
    }
    let path = format!("{}/{}/deliveries", hooks_path(&w.retailer_id), id(&hook));
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_path = match &cursor {
            Some(c) => format!("{path}?limit=2&cursor={c}"),
            None => format!("{path}?limit=2"),
        };
        let page = get(&app, &page_path, &w.staff).await.expect(200);
        for item in page["items"].as_array().unwrap() {
            assert_eq!(item["type"], "complaint.filed");
            assert_eq!(item["status"], "pending");
            seen.push(item["created_at"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 3);
    let mut newest_first = seen.clone();
    newest_first.sort();
    newest_first.reverse();
    assert_eq!(seen, newest_first);
    get(&app, &format!("{path}?cursor=nonsense"), &w.staff)
        .await
        .expect(422);
}
