//! Accounts, retailers, staff, mediators, the vocabulary and the health
//! routes, as clients use them.

use actix_web::http::Method;
use actix_web::test::init_service;
use odr_tests::{call, on_both_databases, Db, Person, TestApp};
use serde_json::json;

use crate::steps::*;

on_both_databases!(
    register_login_logout_and_profile,
    retailers_settings_and_staff,
    mediators_are_created_by_admins,
    taxonomy_and_icons_in_the_readers_language,
    health_and_readiness
);

async fn anon(
    app: &impl App,
    method: Method,
    path: &str,
    body: serde_json::Value,
) -> odr_tests::Answer {
    call(app, method, path, None, Some(body)).await
}

async fn register_login_logout_and_profile(db: Db) {
    let t = TestApp::new(db);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let me = anon(&app, Method::POST, "/api/v1/auth/register", json!({
        "email": "  Jana.Novakova@Example.SK ", "password": "a long enough secret", "display_name": "Jana", "locale": "sk"
    })).await.expect(201);
    assert_eq!(
        me["email"], "jana.novakova@example.sk",
        "emails are normalised"
    );
    assert_eq!(me["role"], "customer");
    assert_eq!(me["locale"], "sk");
    assert!(me.get("password_hash").is_none());
    let taken = anon(&app, Method::POST, "/api/v1/auth/register", json!({
        "email": "jana.novakova@example.sk", "password": "another long secret", "display_name": "J"
    })).await.expect(409);
    assert_eq!(taken["code"], "email_taken");
    let short = anon(
        &app,
        Method::POST,
        "/api/v1/auth/register",
        json!({
            "email": "x@example.sk", "password": "short", "display_name": "X"
        }),
    )
    .await
    .expect(422);
    assert_eq!(short["errors"][0]["field"], "password");

    let wrong = anon(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        json!({
            "email": "jana.novakova@example.sk", "password": "not the secret!"
        }),
    )
    .await
    .expect(401);
    assert_eq!(wrong["code"], "unauthenticated");
    let login = anon(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        json!({
            "email": "JANA.novakova@example.sk", "password": "a long enough secret"
        }),
    )
    .await
    .expect(200);
    assert_eq!(login["token_type"], "Bearer");
    assert_eq!(login["expires_in"], 400 * 24 * 3600);
    let jana = Person {
        id: me["id"].as_str().unwrap().into(),
        token: login["access_token"].as_str().unwrap().into(),
    };

    let patched = call(
        &app,
        Method::PATCH,
        "/api/v1/me",
        Some(&jana),
        Some(json!({
            "display_name": "Jana N.", "time_zone": "Europe/Bratislava"
        })),
    )
    .await
    .expect(200);
    assert_eq!(patched["display_name"], "Jana N.");
    assert_eq!(patched["time_zone"], "Europe/Bratislava");
    let bad_zone = call(
        &app,
        Method::PATCH,
        "/api/v1/me",
        Some(&jana),
        Some(json!({"time_zone": "Mars/Olympus"})),
    )
    .await
    .expect(422);
    assert_eq!(bad_zone["errors"][0]["field"], "time_zone");

    call(&app, Method::POST, "/api/v1/auth/logout", Some(&jana), None)
        .await
        .expect(204);
    get(&app, "/api/v1/me", &jana).await.expect(401);
}

async fn retailers_settings_and_staff(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let created = post(&app, "/api/v1/retailers", &w.admin, json!({
        "name": "Kaffee Haus", "support_email": "Hilfe@Kaffee.test", "locale": "de", "currency": "EUR", "time_zone": "Europe/Berlin"
    })).await.expect(201);
    assert_eq!(created["support_email"], "hilfe@kaffee.test");
    let kaffee = get(
        &app,
        &format!("/api/v1/retailers/{}", id(&created)),
        &w.admin,
    )
    .await
    .expect(200);
    assert_eq!(kaffee["time_zone"], "Europe/Berlin");
    let public = call(
        &app,
        Method::GET,
        &format!("/api/v1/retailers/{}", id(&created)),
        None,
        None,
    )
    .await
    .expect(200);
    assert!(public.get("support_email").is_none());
    post(
        &app,
        "/api/v1/retailers",
        &w.staff,
        json!({"name": "X", "support_email": "x@x.test"}),
    )
    .await
    .expect(403);
    let directory = call(&app, Method::GET, "/api/v1/retailers", None, None)
        .await
        .expect(200);
    let names: Vec<&str> = directory["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Kaffee Haus"));
    assert!(
        directory["items"][0].get("support_email").is_none(),
        "the directory never shows support addresses"
    );
    let page = call(&app, Method::GET, "/api/v1/retailers?limit=1", None, None)
        .await
        .expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let next = page["next_cursor"]
        .as_str()
        .expect("more than one retailer");
    let page2 = call(
        &app,
        Method::GET,
        &format!("/api/v1/retailers?limit=1&cursor={next}"),
        None,
        None,
    )
    .await
    .expect(200);
    assert_ne!(page2["items"][0]["id"], page["items"][0]["id"]);

    let path = format!("/api/v1/retailers/{}", w.retailer_id);
    let patched = call(&app, Method::PATCH, &path, Some(&w.staff), Some(json!({
        "business_days": true, "holidays": ["2026-12-24", "2026-12-25"], "time_zone": "Europe/Vienna"
    }))).await.expect(200);
    assert_eq!(patched["business_days"], true);
    assert_eq!(patched["holidays"], json!(["2026-12-24", "2026-12-25"]));
    call(
        &app,
        Method::PATCH,
        &path,
        Some(&w.other_staff),
        Some(json!({"name": "Mine now"})),
    )
    .await
    .expect(403);
    let bad = call(
        &app,
        Method::PATCH,
        &path,
        Some(&w.staff),
        Some(json!({"holidays": ["24.12."]})),
    )
    .await
    .expect(422);
    assert_eq!(bad["errors"][0]["field"], "holidays[0]");

    let staff_path = format!("{path}/staff");
    let colleague = post(
        &app,
        &staff_path,
        &w.staff,
        json!({
            "email": "new@teapot.test", "display_name": "Nina", "password": "a long enough secret"
        }),
    )
    .await
    .expect(201);
    assert_eq!(colleague["retailer_id"], w.retailer_id.as_str());
    let invited = post(
        &app,
        &staff_path,
        &w.admin,
        json!({"email": "invite@teapot.test", "display_name": "Ivo"}),
    )
    .await
    .expect(201);
    let invitation = t.store().outbox_for_user(&id(&invited)).unwrap();
    assert_eq!(
        invitation.len(),
        1,
        "staff without a password are invited by mail"
    );
    assert_eq!(invitation[0].template, "invitation");
    post(
        &app,
        &staff_path,
        &w.other_staff,
        json!({"email": "spy@x.test", "display_name": "Spy"}),
    )
    .await
    .expect(403);
    let list = get(&app, &staff_path, &w.staff).await.expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 3);

    // Nina signs in, is removed, and her session ends at once.
    let login = call(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"email": "new@teapot.test", "password": "a long enough secret"})),
    )
    .await
    .expect(200);
    let nina = Person {
        id: id(&colleague),
        token: login["access_token"].as_str().unwrap().into(),
    };
    get(&app, "/api/v1/me", &nina).await.expect(200);
    call(
        &app,
        Method::DELETE,
        &format!("{staff_path}/{}", nina.id),
        Some(&w.staff),
        None,
    )
    .await
    .expect(204);
    get(&app, "/api/v1/me", &nina).await.expect(401);
    call(
        &app,
        Method::DELETE,
        &format!("{staff_path}/{}", w.other_staff.id),
        Some(&w.staff),
        None,
    )
    .await
    .expect(404);
}

async fn mediators_are_created_by_admins(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let m = post(&app, "/api/v1/mediators", &w.admin, json!({
        "email": "neutral@odr.test", "password": "a long enough secret", "display_name": "Nora Neutral"
    })).await.expect(201);
    post(
        &app,
        "/api/v1/mediators",
        &w.staff,
        json!({
            "email": "fake@odr.test", "password": "a long enough secret", "display_name": "Fake"
        }),
    )
    .await
    .expect(403);
    let listed = get(&app, "/api/v1/mediators", &w.admin).await.expect(200);
    assert!(listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == m["id"]));
}

async fn taxonomy_and_icons_in_the_readers_language(db: Db) {
    let t = TestApp::new(db);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let req = actix_web::test::TestRequest::get()
        .uri("/api/v1/taxonomy")
        .insert_header(("Accept-Language", "it;q=1, sk;q=0.8, de;q=0.5"))
        .to_request();
    let doc: serde_json::Value = actix_web::test::call_and_read_body_json(&app, req).await;
    assert_eq!(doc["categories"].as_array().unwrap().len(), 12);
    assert_eq!(doc["remedies"].as_array().unwrap().len(), 8);
    assert_eq!(doc["rejection_reasons"].as_array().unwrap().len(), 5);
    assert_eq!(doc["escalation_reasons"].as_array().unwrap().len(), 6);
    assert_eq!(doc["phrases"].as_array().unwrap().len(), 8);
    let not_delivered = &doc["categories"][0];
    assert_eq!(not_delivered["code"], "not_delivered");
    assert_eq!(
        not_delivered["label"], "Nedoručené",
        "Slovak is the best supported choice"
    );
    let icon = not_delivered["icon"].as_str().unwrap();
    assert_eq!(icon, "http://odr.test/icons/categories/not_delivered.svg");
    let svg = call(
        &app,
        Method::GET,
        icon.trim_start_matches("http://odr.test"),
        None,
        None,
    )
    .await;
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    assert_eq!(svg.status, 200);
    call(&app, Method::GET, "/icons/categories/nope.svg", None, None)
        .await
        .expect(404);
    assert_eq!(
        doc["remedies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["needs_amount"] == true)
            .count(),
        3
    );
}

async fn health_and_readiness(db: Db) {
    let t = TestApp::new(db);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    assert_eq!(
        call(&app, Method::GET, "/healthz", None, None)
            .await
            .expect(200)["status"],
        "ok"
    );
    call(&app, Method::GET, "/readyz", None, None)
        .await
        .expect(200);
    let unknown = call(&app, Method::GET, "/api/v1/nothing-here", None, None).await;
    assert!(unknown.header("x-request-id").is_some());
    assert_eq!(unknown.expect(404)["code"], "not_found");
    let wrong_method = call(&app, Method::PUT, "/api/v1/complaints", None, None)
        .await
        .expect(405);
    assert_eq!(wrong_method["code"], "method_not_allowed");
}
