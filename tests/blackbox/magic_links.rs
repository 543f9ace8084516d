//! Magic links (sign in by mail, no existence leak, single use) and
//! setting a password.

use actix_web::http::Method;
use actix_web::test::init_service;
use odr_domain::Role;
use odr_tests::{call, on_both_databases, Db, Person, TestApp};
use serde_json::{json, Value};

use crate::steps::*;

on_both_databases!(
    a_magic_link_is_mailed_alike_for_known_and_unknown_emails,
    a_magic_link_works_once_and_expires,
    a_magic_link_for_a_new_email_makes_a_customer,
    invited_staff_sign_in_by_magic_link_and_set_a_password,
    a_password_change_ends_other_sessions,
    magic_links_are_rate_limited_per_email,
    two_redeems_at_once_sign_in_once
);

async fn anon(app: &impl App, path: &str, body: Value) -> odr_tests::Answer {
    call(app, Method::POST, path, None, Some(body)).await
}

/// Asks for a link for `email` and returns its token. The clock moves a
/// second first, so that the newest mail is the last one.
async fn ask_link(app: &impl App, t: &TestApp, email: &str) -> String {
    t.clock.advance(chrono::Duration::seconds(1));
    anon(app, "/api/v1/auth/magic-link", json!({"email": email}))
        .await
        .expect(202);
    mailed_token(t, email)
}

async fn redeem(app: &impl App, token: &str) -> odr_tests::Answer {
    anon(
        app,
        "/api/v1/auth/magic-link/redeem",
        json!({"token": token}),
    )
    .await
}

fn person(answer: Value, id: &str) -> Person {
    Person {
        id: id.to_owned(),
        token: answer["access_token"].as_str().unwrap().to_owned(),
    }
}

async fn a_magic_link_is_mailed_alike_for_known_and_unknown_emails(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let known = t.store().user(&w.customer.id).unwrap().unwrap().email;
    let a = anon(
        &app,
        "/api/v1/auth/magic-link",
        json!({"email": known.to_uppercase()}),
    )
    .await;
    let b = anon(
        &app,
        "/api/v1/auth/magic-link",
        json!({"email": "nobody@example.test", "locale": "de"}),
    )
    .await;
    assert_eq!(a.status, 202);
    assert_eq!(b.status, 202);
    assert_eq!(
        a.body, b.body,
        "the answer does not tell who has an account"
    );
    for (email, locale) in [(known.as_str(), "en"), ("nobody@example.test", "de")] {
        let rows = t.store().outbox_to_address(email).unwrap();
        let links: Vec<_> = rows.iter().filter(|r| r.template == "magic_link").collect();
        assert_eq!(links.len(), 1, "one mail for {email}");
        assert_eq!(links[0].locale, locale);
        let url = links[0].payload["magic_link"]["url"].as_str().unwrap();
        assert!(url.starts_with(&format!("{}/sign-in?token=", t.state.public_url)));
        // The mail renders, with the link in it.
        let facts: odr_store::mail_facts::MailFacts =
            serde_json::from_value(links[0].payload.clone()).unwrap();
        let mail = odr_mail::render::Renderer::new(&t.state.public_url)
            .unwrap()
            .render(&facts)
            .unwrap();
        assert!(mail.text.contains(url), "{}", mail.text);
        assert!(
            mail.text.contains("15"),
            "says when it expires: {}",
            mail.text
        );
    }
    let malformed = anon(
        &app,
        "/api/v1/auth/magic-link",
        json!({"email": "not an email"}),
    )
    .await
    .expect(422);
    assert_eq!(malformed["errors"][0]["field"], "email");
}

async fn a_magic_link_works_once_and_expires(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let email = t.store().user(&w.customer.id).unwrap().unwrap().email;
    anon(&app, "/api/v1/auth/magic-link", json!({"email": email}))
        .await
        .expect(202);
    let token = mailed_token(&t, &email);
    let login = redeem(&app, &token).await.expect(200);
    assert_eq!(login["token_type"], "Bearer");
    let me = get(&app, "/api/v1/me", &person(login, &w.customer.id))
        .await
        .expect(200);
    assert_eq!(me["id"], w.customer.id.as_str());
    let again = redeem(&app, &token).await.expect(401);
    assert_eq!(again["code"], "unauthenticated");
    redeem(&app, "no-such-token").await.expect(401);

    let late = ask_link(&app, &t, &email).await;
    t.clock.advance(chrono::Duration::minutes(16));
    redeem(&app, &late).await.expect(401);
}

async fn a_magic_link_for_a_new_email_makes_a_customer(db: Db) {
    let t = TestApp::new(db);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    anon(
        &app,
        "/api/v1/auth/magic-link",
        json!({"email": "Guest.Buyer@Example.test"}),
    )
    .await
    .expect(202);
    assert!(t
        .store()
        .user_by_email("guest.buyer@example.test")
        .unwrap()
        .is_none());
    let token = mailed_token(&t, "guest.buyer@example.test");
    let login = redeem(&app, &token).await.expect(200);
    let user = t
        .store()
        .user_by_email("guest.buyer@example.test")
        .unwrap()
        .expect("a customer was made");
    assert_eq!(user.role, Role::Customer);
    assert_eq!(user.display_name, "guest.buyer");
    assert!(user.password_hash.is_none());
    let me = get(&app, "/api/v1/me", &person(login, &user.id))
        .await
        .expect(200);
    assert_eq!(me["role"], "customer");
}

async fn put_password(app: &impl App, who: &Person, body: Value) -> odr_tests::Answer {
    call(
        app,
        Method::PUT,
        "/api/v1/me/password",
        Some(who),
        Some(body),
    )
    .await
}

async fn invited_staff_sign_in_by_magic_link_and_set_a_password(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let invited = post(
        &app,
        &format!("/api/v1/retailers/{}/staff", w.retailer_id),
        &w.admin,
        json!({"email": "ivo@teapot.test", "display_name": "Ivo"}),
    )
    .await
    .expect(201);
    let id = invited["id"].as_str().unwrap().to_owned();
    let ivo = person(
        redeem(&app, &ask_link(&app, &t, "ivo@teapot.test").await)
            .await
            .expect(200),
        &id,
    );
    let short = put_password(&app, &ivo, json!({"password": "short"}))
        .await
        .expect(422);
    assert_eq!(short["errors"][0]["field"], "password");
    put_password(&app, &ivo, json!({"password": "a long enough secret"}))
        .await
        .expect(204);
    get(&app, "/api/v1/me", &ivo).await.expect(401);
    let login = anon(
        &app,
        "/api/v1/auth/login",
        json!({"email": "ivo@teapot.test", "password": "a long enough secret"}),
    )
    .await
    .expect(200);
    let by_password = person(login, &id);
    // A password session needs the current password.
    let missing = put_password(
        &app,
        &by_password,
        json!({"password": "another long secret"}),
    )
    .await
    .expect(422);
    assert_eq!(missing["errors"][0]["field"], "current_password");

    // A fresh magic link resets the password without the current one ...
    let fresh = person(
        redeem(&app, &ask_link(&app, &t, "ivo@teapot.test").await)
            .await
            .expect(200),
        &id,
    );
    put_password(&app, &fresh, json!({"password": "a third long secret"}))
        .await
        .expect(204);
    // ... but not once it is 16 minutes old.
    let stale = person(
        redeem(&app, &ask_link(&app, &t, "ivo@teapot.test").await)
            .await
            .expect(200),
        &id,
    );
    t.clock.advance(chrono::Duration::minutes(16));
    let needed = put_password(&app, &stale, json!({"password": "a fourth long secret"}))
        .await
        .expect(422);
    assert_eq!(needed["errors"][0]["field"], "current_password");
    let wrong = put_password(
        &app,
        &stale,
        json!({"password": "a fourth long secret", "current_password": "not the one"}),
    )
    .await
    .expect(422);
    assert_eq!(wrong["errors"][0]["code"], "wrong_password");
    put_password(
        &app,
        &stale,
        json!({"password": "a fourth long secret", "current_password": "a third long secret"}),
    )
    .await
    .expect(204);
}

async fn a_password_change_ends_other_sessions(db: Db) {
    let t = TestApp::new(db);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    anon(
        &app,
        "/api/v1/auth/register",
        json!({"email": "ana@example.test", "password": "a long enough secret", "display_name": "Ana"}),
    )
    .await
    .expect(201);
    let login = |app| async move {
        anon(
            app,
            "/api/v1/auth/login",
            json!({"email": "ana@example.test", "password": "a long enough secret"}),
        )
        .await
        .expect(200)
    };
    let id = t
        .store()
        .user_by_email("ana@example.test")
        .unwrap()
        .unwrap()
        .id;
    let laptop = person(login(&app).await, &id);
    let phone = person(login(&app).await, &id);
    get(&app, "/api/v1/me", &phone).await.expect(200);
    put_password(
        &app,
        &laptop,
        json!({"password": "a brand new secret", "current_password": "a long enough secret"}),
    )
    .await
    .expect(204);
    get(&app, "/api/v1/me", &phone).await.expect(401);
    get(&app, "/api/v1/me", &laptop).await.expect(401);
    anon(
        &app,
        "/api/v1/auth/login",
        json!({"email": "ana@example.test", "password": "a brand new secret"}),
    )
    .await
    .expect(200);
}

async fn magic_links_are_rate_limited_per_email(db: Db) {
    let t = TestApp::new(db);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    for _ in 0..5 {
        anon(
            &app,
            "/api/v1/auth/magic-link",
            json!({"email": "spam@example.test"}),
        )
        .await
        .expect(202);
    }
    let limited = anon(
        &app,
        "/api/v1/auth/magic-link",
        json!({"email": "spam@example.test"}),
    )
    .await;
    assert_eq!(limited.status, 429);
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!(wait > 0 && wait <= 3600, "{wait}");
    assert_eq!(
        t.store()
            .outbox_to_address("spam@example.test")
            .unwrap()
            .len(),
        5,
        "no mail for a refused request"
    );
    // Another email is not affected.
    anon(
        &app,
        "/api/v1/auth/magic-link",
        json!({"email": "other@example.test"}),
    )
    .await
    .expect(202);
}

async fn two_redeems_at_once_sign_in_once(db: Db) {
    let t = TestApp::new(db);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let token = ask_link(&app, &t, "race@example.test").await;
    let (a, b) = futures_util::future::join(redeem(&app, &token), redeem(&app, &token)).await;
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 401], "a link signs in exactly once");
    assert!(t
        .store()
        .user_by_email("race@example.test")
        .unwrap()
        .is_some());
}
