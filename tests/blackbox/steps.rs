//! The moves of a complaint, as a client makes them.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::Method;
use odr_tests::{call, Answer, Person, TestApp, World};
use serde_json::{json, Value};

pub trait App:
    Service<actix_http::Request, Response = ServiceResponse<Self::Body>, Error = actix_web::Error>
{
    type Body: MessageBody + 'static;
}

impl<S, B> App for S
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    type Body = B;
}

pub async fn post(app: &impl App, path: &str, who: &Person, body: Value) -> Answer {
    call(app, Method::POST, path, Some(who), Some(body)).await
}

pub async fn get(app: &impl App, path: &str, who: &Person) -> Answer {
    call(app, Method::GET, path, Some(who), None).await
}

/// Files the standard complaint (a broken teapot, partial refund of 25 EUR).
pub async fn file(app: &impl App, w: &World) -> Value {
    post(
        app,
        "/api/v1/complaints",
        &w.customer,
        json!({
            "retailer_id": w.retailer_id,
            "order_reference": "A-1001",
            "category": "damaged",
            "desired_remedy": "partial_refund",
            "claimed_amount": {"amount_minor": 2500, "currency": "EUR"},
            "description": "The teapot arrived with a cracked lid.",
            "items": [{"sku": "TP-1", "name": "Teapot", "quantity": 1}]
        }),
    )
    .await
    .expect(201)
}

pub async fn act(app: &impl App, id: &str, action: &str, who: &Person, body: Value) -> Answer {
    post(app, &format!("/api/v1/complaints/{id}/{action}"), who, body).await
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

pub fn actions(v: &Value) -> Vec<&str> {
    v["allowed_actions"]
        .as_array()
        .expect("allowed_actions")
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

/// The shop escalates: the customer is being unreasonable.
pub async fn shop_escalates(app: &impl App, id: &str, w: &World) -> Value {
    act(
        app,
        id,
        "escalate",
        &w.staff,
        json!({"reason": "customer_unreasonable"}),
    )
    .await
    .expect(200)
}

/// The mail server refuses every queued mail for good (one attempt
/// allowed), so all of it is dead.
pub fn kill_queued_mail(t: &TestApp) {
    use odr_http::Clock;
    let once = odr_store::delivery::RetryPolicy {
        max_attempts: 1,
        ..Default::default()
    };
    for mail in t
        .store()
        .claim_mail(t.clock.now(), std::time::Duration::from_secs(60), 10)
        .expect("claim")
    {
        t.store()
            .mark_failed(
                &mail.id,
                &mail.claim_token,
                t.clock.now(),
                "550 mailbox unavailable",
                &once,
            )
            .expect("mark failed");
    }
}

/// The token of the newest magic-link mail queued for `email`.
pub fn mailed_token(t: &TestApp, email: &str) -> String {
    let rows = t.store().outbox_to_address(email).unwrap();
    let row = rows
        .iter()
        .rev()
        .find(|r| r.template == "magic_link")
        .unwrap_or_else(|| panic!("no magic link for {email}: {rows:?}"));
    let url = row.payload["magic_link"]["url"].as_str().unwrap();
    let (base, token) = url.split_once("/sign-in?token=").unwrap();
    assert_eq!(base, &*t.state.public_url);
    token.to_owned()
}

/// The smallest PNG by its signature: the magic bytes and an IHDR chunk
/// (1x1, 8-bit RGBA).
pub fn tiny_png() -> Vec<u8> {
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    png.extend_from_slice(&[0, 0, 0, 13]);
    png.extend_from_slice(b"IHDR");
    png.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
    png.extend_from_slice(&[0x1F, 0x15, 0xC4, 0x89]);
    png
}
