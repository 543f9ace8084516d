use actix_web::{
    dev::Payload,
    test::TestRequest,
    web::{self, Bytes},
    FromRequest, ResponseError,
};
use odr_http::{ApiError, BodyLimit, JsonBody, QueryParams};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Offer {
    remedy: Remedy,
    amount: Option<Money>,
    message: Option<String>,
    items: Option<Vec<Item>>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Remedy {
    Refund,
    Repair,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Money {
    amount_minor: i64,
    currency: String,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Item {
    sku: String,
    quantity: u32,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Acknowledge {
    message: Option<String>,
}

async fn extract<T: serde::de::DeserializeOwned + 'static>(req: TestRequest) -> Result<T, Value> {
    let (req, mut payload) = req.to_http_parts();
    match JsonBody::<T>::from_request(&req, &mut payload).await {
        Ok(JsonBody(v)) => Ok(v),
        Err(e) => Err(problem(e).await),
    }
}

async fn problem(e: ApiError) -> Value {
    let req = TestRequest::default().to_http_request();
    let (_, body) = crate::problem_of(actix_web::dev::ServiceResponse::new(
        req,
        e.error_response(),
    ))
    .await;
    body
}

fn json_req(body: &str) -> TestRequest {
    TestRequest::post()
        .insert_header(("content-type", "application/json"))
        .set_payload(body.to_owned())
}

#[actix_rt::test]
async fn a_well_formed_body_decodes() {
    let offer: Offer = extract(json_req(
        r#"{"remedy":"refund","amount":{"amount_minor":1999,"currency":"EUR"}}"#,
    ))
    .await
    .expect("valid offer");
    assert_eq!(offer.remedy, Remedy::Refund);
    assert_eq!(
        offer.amount,
        Some(Money {
            amount_minor: 1999,
            currency: "EUR".into()
        })
    );
    let charset = TestRequest::post()
        .insert_header(("content-type", "application/json; charset=UTF-8"))
        .set_payload(r#"{"remedy":"repair"}"#);
    assert!(
        extract::<Offer>(charset).await.is_ok(),
        "charset=utf-8 is accepted"
    );
}

#[actix_rt::test]
async fn other_content_types_are_415() {
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin1",
    ] {
        let req = TestRequest::post()
            .insert_header(("content-type", ct))
            .set_payload(r#"{"remedy":"refund"}"#);
        let body = extract::<Offer>(req).await.expect_err(ct);
        assert_eq!(body["code"], "unsupported_media_type", "{ct}");
    }
    let no_type = TestRequest::post().set_payload(r#"{"remedy":"refund"}"#);
    assert_eq!(
        extract::<Offer>(no_type).await.expect_err("no type")["status"],
        415
    );
}

#[actix_rt::test]
async fn an_empty_body_reads_as_an_empty_object() {
    let ack: Acknowledge = extract(TestRequest::post()).await.expect("bodiless POST");
    assert_eq!(ack, Acknowledge { message: None });
    let body = extract::<Offer>(TestRequest::post())
        .await
        .expect_err("remedy is required");
    assert_eq!(body["code"], "validation_failed");
    assert_eq!(body["errors"][0]["field"], "remedy");
}

#[actix_rt::test]
async fn bodies_over_the_limit_are_413_by_header_and_by_stream() {
    let big = format!(r#"{{"message":"{}"}}"#, "x".repeat(100));
    let req = json_req(&big).app_data(BodyLimit(64));
    let body = extract::<Acknowledge>(req)
        .await
        .expect_err("declared too large");
    assert_eq!(body["code"], "payload_too_large");
    assert_eq!(body["status"], 413);

    // No Content-Length: the limit holds while streaming, also via web::Data.
    let chunks: Vec<Result<Bytes, actix_web::error::PayloadError>> = (0..10)
        .map(|_| Ok(Bytes::from_static(b"          ")))
        .collect();
    let req = TestRequest::post()
        .insert_header(("content-type", "application/json"))
        .app_data(web::Data::new(BodyLimit(64)))
        .to_http_request();
    let stream: std::pin::Pin<Box<dyn futures_util::Stream<Item = _>>> =
        Box::pin(futures_util::stream::iter(chunks));
    let mut payload = Payload::Stream { payload: stream };
    let err = JsonBody::<Acknowledge>::from_request(&req, &mut payload)
        .await
        .expect_err("streamed too large");
    assert_eq!(err.code(), "payload_too_large");
}

#[actix_rt::test]
async fn undecodable_bodies_are_400_naming_the_field() {
    let cases = [
        (r#"{"remedy":"refund""#, "", "malformed_json"),
        (r#"{"remedy":"refund"} trailing"#, "", "malformed_json"),
        (
            r#"{"remedy":"refund","amount":{"amount_minor":1,"currency":"EUR","extra":1}}"#,
            "amount.extra",
            "unknown_field",
        ),
        (
            r#"{"remedy":"refund","colour":"red"}"#,
            "colour",
            "unknown_field",
        ),
        (
            r#"{"remedy":"refund","items":[{"sku":"A","quantity":"two"}]}"#,
            "items[0].quantity",
            "invalid_type",
        ),
        (
            r#"{"remedy":"refund","amount":{"amount_minor":19.99,"currency":"EUR"}}"#,
            "amount.amount_minor",
            "invalid_type",
        ),
        (r#"[]"#, "", "invalid_type"),
    ];
    for (input, field, code) in cases {
        let body = extract::<Offer>(json_req(input)).await.expect_err(input);
        assert_eq!(body["status"], 400, "{input}: {body}");
        assert_eq!(body["code"], "malformed_request", "{input}");
        assert_eq!(body["errors"][0]["field"], field, "{input}: {body}");
        assert_eq!(body["errors"][0]["code"], code, "{input}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or("");
        assert!(
            !message.is_empty() && !message.contains("i64") && !message.contains("u32"),
            "plain message: {message}"
        );
    }
}

#[actix_rt::test]
async fn decodable_bodies_with_bad_values_are_422_naming_the_field() {
    let cases = [
        (r#"{}"#, "remedy", "required"),
        (
            r#"{"remedy":"refund","amount":{"amount_minor":1}}"#,
            "amount.currency",
            "required",
        ),
        (r#"{"remedy":"teleport"}"#, "remedy", "unknown_code"),
        (
            r#"{"remedy":"refund","items":[{"sku":"A","quantity":-1}]}"#,
            "items[0].quantity",
            "invalid_value",
        ),
    ];
    for (input, field, code) in cases {
        let body = extract::<Offer>(json_req(input)).await.expect_err(input);
        assert_eq!(body["status"], 422, "{input}: {body}");
        assert_eq!(body["code"], "validation_failed", "{input}");
        assert_eq!(
            body["errors"],
            json!([{"field": field, "code": code, "message": body["errors"][0]["message"]}]),
            "{input}"
        );
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ListQuery {
    limit: Option<u32>,
    state: Option<String>,
}

#[actix_rt::test]
async fn query_params_decode_and_name_the_bad_parameter() {
    let ok = |q: &str| TestRequest::get().uri(&format!("/x?{q}")).to_http_parts();
    let (req, mut pl) = ok("limit=20&state=filed");
    let QueryParams(q) = QueryParams::<ListQuery>::from_request(&req, &mut pl)
        .await
        .expect("valid query");
    assert_eq!(q.limit, Some(20));

    for (query, field, code) in [
        ("limit=lots", "limit", "invalid_value"),
        ("colour=red", "colour", "unknown_parameter"),
    ] {
        let (req, mut pl) = ok(query);
        let err = QueryParams::<ListQuery>::from_request(&req, &mut pl)
            .await
            .expect_err(query);
        let body = problem(err).await;
        assert_eq!(body["status"], 400, "{query}: {body}");
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
        assert_eq!(body["errors"][0]["code"], code, "{query}: {body}");
    }
}
