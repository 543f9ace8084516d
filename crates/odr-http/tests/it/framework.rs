use actix_web::{
    guard,
    http::header,
    middleware::from_fn,
    test::{call_service, init_service, TestRequest},
    web, App, HttpResponse,
};
use odr_http::{framework_errors as fe, request_id::request_id_middleware};
use serde::Deserialize;

#[derive(Deserialize)]
struct Page {
    #[allow(dead_code)]
    limit: u32,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Note {
    #[allow(dead_code)]
    text: String,
}

macro_rules! app {
    () => {
        init_service(
            App::new()
                .app_data(fe::json_config())
                .app_data(fe::query_config())
                .app_data(fe::path_config())
                .service(web::resource("/plain").get(|| async { "ok" }))
                .service(
                    web::resource("/strict")
                        .get(|| async { "ok" })
                        .default_service(fe::method_not_allowed()),
                )
                .service(
                    web::resource("/guarded")
                        .guard(guard::Get())
                        .to(|| async { "ok" }),
                )
                .route("/page", web::get().to(|_: web::Query<Page>| async { "ok" }))
                .route(
                    "/items/{n}",
                    web::get().to(|_: web::Path<u32>| async { "ok" }),
                )
                .route(
                    "/notes",
                    web::post().to(|_: web::Json<Note>| async { "ok" }),
                )
                .route(
                    "/teapot",
                    web::get().to(|| async { HttpResponse::BadRequest().body("plain text") }),
                )
                .route(
                    "/boom",
                    web::get().to(|| async {
                        HttpResponse::InternalServerError().body("stack trace here")
                    }),
                )
                .default_service(fe::default_service())
                .wrap(fe::problem_safety_net())
                .wrap(from_fn(request_id_middleware)),
        )
        .await
    };
}

#[actix_rt::test]
async fn unknown_paths_are_404_problems() {
    let app = app!();
    let res = call_service(&app, TestRequest::get().uri("/nowhere").to_request()).await;
    assert!(
        res.headers().contains_key("x-request-id"),
        "error responses carry the request id"
    );
    let (status, body) = crate::problem_of(res).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
}

#[actix_rt::test]
async fn wrong_methods_are_405_problems_in_every_registration_style() {
    let app = app!();
    for path in ["/plain", "/strict", "/guarded"] {
        let res = call_service(&app, TestRequest::delete().uri(path).to_request()).await;
        if path == "/plain" {
            assert_eq!(
                res.headers()
                    .get(header::ALLOW)
                    .map(|v| v.to_str().unwrap_or("")),
                Some("GET"),
                "Allow is kept"
            );
        }
        let (status, body) = crate::problem_of(res).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (405, Some("method_not_allowed")),
            "{path}"
        );
    }
}

#[actix_rt::test]
async fn bad_query_path_and_json_are_problems() {
    let app = app!();
    let res = call_service(
        &app,
        TestRequest::get().uri("/page?limit=many").to_request(),
    )
    .await;
    let (status, body) = crate::problem_of(res).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("malformed_request")),
        "{body}"
    );

    let res = call_service(&app, TestRequest::get().uri("/page").to_request()).await;
    let (status, body) = crate::problem_of(res).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["field"], "limit",
        "a missing parameter is named: {body}"
    );

    let res = call_service(&app, TestRequest::get().uri("/items/abc").to_request()).await;
    let (status, _) = crate::problem_of(res).await;
    assert_eq!(status, 404);

    let res = call_service(
        &app,
        TestRequest::post()
            .uri("/notes")
            .insert_header(("content-type", "application/json"))
            .set_payload("{oops")
            .to_request(),
    )
    .await;
    let (status, body) = crate::problem_of(res).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("malformed_request"))
    );

    let res = call_service(
        &app,
        TestRequest::post()
            .uri("/notes")
            .insert_header(("content-type", "text/plain"))
            .set_payload("hi")
            .to_request(),
    )
    .await;
    let (status, _) = crate::problem_of(res).await;
    assert_eq!(status, 415);
}

#[actix_rt::test]
async fn the_safety_net_turns_plain_error_responses_into_problems() {
    let app = app!();
    let res = call_service(&app, TestRequest::get().uri("/teapot").to_request()).await;
    let (status, body) = crate::problem_of(res).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("malformed_request"))
    );

    let res = call_service(&app, TestRequest::get().uri("/boom").to_request()).await;
    let (status, body) = crate::problem_of(res).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (500, Some("internal_error"))
    );
    assert!(!body.to_string().contains("stack trace"), "{body}");

    let res = call_service(&app, TestRequest::get().uri("/plain").to_request()).await;
    assert_eq!(res.status(), 200, "successful responses pass untouched");
}
