use actix_web::{http::header, ResponseError};
use odr_http::problem::{ApiError, FieldError, PROBLEM_CODES};
use serde_json::{json, Value};

async fn render(err: ApiError) -> (u16, Value, actix_web::http::header::HeaderMap) {
    let res = err.error_response();
    let headers = res.headers().clone();
    let req = actix_web::test::TestRequest::default().to_http_request();
    let (status, body) = crate::problem_of(actix_web::dev::ServiceResponse::new(req, res)).await;
    (status, body, headers)
}

fn all_errors() -> Vec<ApiError> {
    let fe = || vec![FieldError::new("a", "b", "c")];
    vec![
        ApiError::Malformed {
            detail: "d".into(),
            errors: fe(),
        },
        ApiError::Validation { errors: fe() },
        ApiError::Unauthenticated("d".into()),
        ApiError::Forbidden("d".into()),
        ApiError::NotFound,
        ApiError::MethodNotAllowed,
        ApiError::InvalidTransition {
            detail: "d".into(),
            state: "s".into(),
            allowed_actions: vec![],
        },
        ApiError::OfferLimitReached {
            detail: "d".into(),
            state: "s".into(),
            allowed_actions: vec![],
        },
        ApiError::Conflict("d".into()),
        ApiError::EmailTaken,
        ApiError::PreconditionFailed("d".into()),
        ApiError::PayloadTooLarge { limit: 10 },
        ApiError::UnsupportedMediaType("d".into()),
        ApiError::IdempotencyKeyReused,
        ApiError::RateLimited {
            retry_after_secs: 3,
        },
        ApiError::Unavailable("pool timed out".into()),
        ApiError::Internal("db exploded at /var/lib".into()),
    ]
}

#[actix_rt::test]
async fn every_error_is_a_complete_problem_document_with_a_listed_code() {
    let expected: [(u16, &str); 17] = [
        (400, "malformed_request"),
        (422, "validation_failed"),
        (401, "unauthenticated"),
        (403, "forbidden"),
        (404, "not_found"),
        (405, "method_not_allowed"),
        (409, "invalid_transition"),
        (409, "offer_limit_reached"),
        (409, "conflict"),
        (409, "email_taken"),
        (412, "precondition_failed"),
        (413, "payload_too_large"),
        (415, "unsupported_media_type"),
        (422, "idempotency_key_reused"),
        (429, "rate_limited"),
        (503, "unavailable"),
        (500, "internal_error"),
    ];
    for (err, (status, code)) in all_errors().into_iter().zip(expected) {
        assert_eq!(err.code(), code);
        assert!(
            PROBLEM_CODES.contains(&code),
            "{code} missing from PROBLEM_CODES"
        );
        let (got, body, _) = render(err).await;
        assert_eq!(got, status, "{code}");
        assert_eq!(body["status"], status, "{code}");
        assert_eq!(body["code"], code);
        assert_eq!(
            body["type"],
            format!("https://odr.dev/problems/{}", code.replace('_', "-"))
        );
        assert!(
            body["title"].as_str().is_some_and(|t| !t.is_empty()),
            "{code} has a title"
        );
        assert!(
            body["detail"].as_str().is_some_and(|t| !t.is_empty()),
            "{code} has a detail"
        );
        assert_eq!(
            body.get("errors").is_some(),
            status == 400 || code == "validation_failed",
            "{code}: errors only for 400/422"
        );
    }
}

#[actix_rt::test]
async fn server_errors_never_show_their_cause() {
    let (_, body, headers) = render(ApiError::Internal("db exploded at /var/lib".into())).await;
    assert!(
        !body.to_string().contains("exploded"),
        "internal cause leaked: {body}"
    );
    assert!(headers.get(header::RETRY_AFTER).is_none());
    let (_, body, headers) = render(ApiError::Unavailable("pool timed out".into())).await;
    assert!(
        !body.to_string().contains("pool"),
        "internal cause leaked: {body}"
    );
    assert_eq!(
        headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
}

#[actix_rt::test]
async fn unauthenticated_asks_for_a_bearer_token_and_rate_limit_says_when_to_retry() {
    let (_, _, headers) = render(ApiError::Unauthenticated("Sign in.".into())).await;
    assert_eq!(
        headers
            .get(header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
        "Bearer"
    );
    let (_, body, headers) = render(ApiError::RateLimited {
        retry_after_secs: 42,
    })
    .await;
    assert_eq!(
        headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
        "42"
    );
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("42")));
}

#[actix_rt::test]
async fn invalid_transition_names_the_state_and_what_is_allowed() {
    let err = ApiError::InvalidTransition {
        detail: "The complaint is closed; nothing more can happen to it.".into(),
        state: "closed".into(),
        allowed_actions: vec!["message".into()],
    };
    let (_, body, _) = render(err).await;
    assert_eq!(body["state"], "closed");
    assert_eq!(body["allowed_actions"], json!(["message"]));
    assert_eq!(
        body["detail"],
        "The complaint is closed; nothing more can happen to it."
    );
}

#[actix_rt::test]
async fn validation_one_names_its_field() {
    let (status, body, _) = render(ApiError::validation_one(
        "description",
        "too_long",
        "At most 5000 characters.",
    ))
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["errors"],
        json!([{"field": "description", "code": "too_long", "message": "At most 5000 characters."}])
    );
}
