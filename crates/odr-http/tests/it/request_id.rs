use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::{from_fn, Next},
    test::{call_service, init_service, read_body, try_call_service, TestRequest},
    web, App,
};
use odr_http::{request_id::request_id_middleware, ApiError, RequestId};

async fn failing_middleware(
    _req: ServiceRequest,
    _next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    Err::<ServiceResponse<actix_web::body::BoxBody>, _>(
        ApiError::Unavailable("inner".into()).into(),
    )
}

macro_rules! app {
    () => {
        init_service(
            App::new()
                .route("/id", web::get().to(|id: RequestId| async move { id.0 }))
                .wrap(from_fn(request_id_middleware)),
        )
        .await
    };
}

fn id_of<B>(res: &ServiceResponse<B>) -> String {
    res.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[actix_rt::test]
async fn a_request_without_an_id_gets_a_fresh_uuid_that_the_handler_sees_too() {
    let app = app!();
    let res = call_service(&app, TestRequest::get().uri("/id").to_request()).await;
    let id = id_of(&res);
    assert!(
        uuid::Uuid::parse_str(&id).is_ok(),
        "generated id is a UUID: {id:?}"
    );
    assert_eq!(
        read_body(res).await,
        id.as_bytes(),
        "handler and header agree"
    );
}

#[actix_rt::test]
async fn the_callers_id_is_kept_when_sensible_and_replaced_otherwise() {
    let app = app!();
    let res = call_service(
        &app,
        TestRequest::get()
            .uri("/id")
            .insert_header(("x-request-id", "shop-42/abc"))
            .to_request(),
    )
    .await;
    assert_eq!(id_of(&res), "shop-42/abc");
    for bad in ["has space".to_owned(), "x".repeat(129)] {
        let res = call_service(
            &app,
            TestRequest::get()
                .uri("/id")
                .insert_header(("x-request-id", bad.as_str()))
                .to_request(),
        )
        .await;
        let id = id_of(&res);
        assert!(
            id != bad && uuid::Uuid::parse_str(&id).is_ok(),
            "{bad:?} replaced by {id:?}"
        );
    }
}

#[actix_rt::test]
async fn an_inner_middleware_failure_is_answered_with_the_id() {
    let app = init_service(
        App::new()
            .route("/id", web::get().to(|| async { "unreachable" }))
            .wrap(from_fn(failing_middleware))
            .wrap(from_fn(request_id_middleware)),
    )
    .await;
    let req = TestRequest::get()
        .uri("/id")
        .insert_header(("x-request-id", "abc"))
        .to_request();
    let err = try_call_service(&app, req)
        .await
        .err()
        .expect("the failure propagates to the server");
    let res = err.error_response();
    assert_eq!(
        res.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("abc")
    );
    let req = TestRequest::default().to_http_request();
    let (status, body) = crate::problem_of(ServiceResponse::new(req, res)).await;
    assert_eq!((status, body["code"].as_str()), (503, Some("unavailable")));
}
