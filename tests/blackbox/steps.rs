//! The moves of a complaint, as a client makes them.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::Method;
use odr_tests::{call, Answer, Person, World};
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
