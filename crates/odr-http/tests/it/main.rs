//! Integration tests of odr-http's building blocks, one binary.

mod auth;
mod body;
mod framework;
mod openapi;
mod problem;
mod request_id;

use actix_web::{body::MessageBody, dev::ServiceResponse, http::header, test::read_body};
use serde_json::Value;

/// The response's problem document, after checking its media type.
pub async fn problem_of<B: MessageBody>(res: ServiceResponse<B>) -> (u16, Value) {
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("").to_owned())
        .unwrap_or_default();
    assert_eq!(
        ct, "application/problem+json",
        "error {status} must be a problem document"
    );
    let bytes = read_body(res).await;
    let json: Value = serde_json::from_slice(&bytes).expect("problem body is JSON");
    (status, json)
}
