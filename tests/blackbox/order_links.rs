//! Order links: a shop signs a deep link to one order (HS256 with one of
//! its link secrets, the secret's id as `kid`); every bad token is refused,
//! on the API and on the report page; a good one signs the customer in for
//! that order only.

use actix_web::http::{header, Method};
use actix_web::test::{init_service, TestRequest};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use odr_tests::{call, on_both_databases, send, Answer, Db, Person, TestApp, World};
use serde_json::{json, Value};

use crate::browsing::*;
use crate::steps::*;

on_both_databases!(
    every_bad_order_link_is_refused_on_the_api_and_the_page,
    a_good_order_link_signs_in_and_the_page_is_prefilled,
    an_order_session_files_and_acts_for_its_order_only,
    an_order_link_for_a_staff_email_is_refused
);

/// A link secret of `retailer_id`, made by its staff: `(kid, secret)`.
async fn link_secret(app: &impl App, retailer_id: &str, staff: &Person) -> (String, String) {
    let created = post(
        app,
        &format!("/api/v1/retailers/{retailer_id}/link-secrets"),
        staff,
        json!({"name": "shop"}),
    )
    .await
    .expect(201);
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("olsec_"), "{created}");
    (created["id"].as_str().unwrap().to_owned(), secret)
}

/// A token as a shop signs it.
fn sign(kid: Option<&str>, secret: &str, claims: &Value) -> String {
    let mut head = Header::new(Algorithm::HS256);
    head.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&head, claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

/// A token with a header of our own choosing, HMAC-signed anyway (or with
/// no signature for `alg: none`).
fn forged(head: &Value, claims: &Value, secret: &str) -> String {
    use sha2::Digest as _;
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
    };
    let signing_input = format!("{}.{}", b64(head), b64(claims));
    if head["alg"] == "none" {
        return format!("{signing_input}.");
    }
    // Not a real HMAC, which no check should get far enough to compare.
    let sig = sha2::Sha256::digest(format!("{secret}{signing_input}").as_bytes());
    format!(
        "{signing_input}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig)
    )
}

fn now(t: &TestApp) -> i64 {
    use odr_http::Clock;
    t.clock.now().timestamp()
}

/// The claims of an order link for `email`'s order `reference`.
fn claims(t: &TestApp, retailer_id: &str, reference: &str, email: &str) -> Value {
    json!({
        "retailer_id": retailer_id,
        "order_reference": reference,
        "customer_email": email,
        "customer_name": "Chris Buyer",
        "locale": "de",
        "exp": now(t) + 7 * 24 * 3600,
        "items": [
            {"sku": "TP-1", "name": "Blue Teapot", "quantity": 1},
            {"sku": "CU-2", "name": "Tea Cup", "quantity": 4}
        ]
    })
}

async fn redeem(app: &impl App, token: &str) -> Answer {
    call(
        app,
        Method::POST,
        "/api/v1/auth/order-link/redeem",
        None,
        Some(json!({"token": token})),
    )
    .await
}

async fn report_page(app: &impl App, token: &str) -> Answer {
    page(app, &format!("/report?token={token}"), "").await
}

async fn every_bad_order_link_is_refused_on_the_api_and_the_page(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let (kid, secret) = link_secret(&app, &w.retailer_id, &w.staff).await;
    let (other_kid, other_secret) = link_secret(&app, &w.other_retailer_id, &w.other_staff).await;
    let (revoked_kid, revoked_secret) = link_secret(&app, &w.retailer_id, &w.staff).await;
    call(
        &app,
        Method::DELETE,
        &format!(
            "/api/v1/retailers/{}/link-secrets/{revoked_kid}",
            w.retailer_id
        ),
        Some(&w.staff),
        None,
    )
    .await
    .expect(204);
    let good = claims(&t, &w.retailer_id, "B-2002", "new.buyer@example.test");
    let with = |key: &str, value: Value| {
        let mut c = good.clone();
        c[key] = value;
        c
    };
    let head = |alg: &str| json!({"alg": alg, "typ": "JWT", "kid": kid});
    let bad: Vec<(&str, String)> = vec![
        (
            "forged (wrong key)",
            sign(Some(&kid), "olsec_not-the-secret", &good),
        ),
        (
            "expired",
            sign(Some(&kid), &secret, &with("exp", json!(now(&t) - 120))),
        ),
        (
            "more than 30 days ahead",
            sign(
                Some(&kid),
                &secret,
                &with("exp", json!(now(&t) + 31 * 24 * 3600)),
            ),
        ),
        (
            "another retailer's claims under shop A's kid",
            sign(
                Some(&kid),
                &secret,
                &with("retailer_id", json!(w.other_retailer_id)),
            ),
        ),
        (
            "shop B's secret for shop A's order",
            sign(Some(&other_kid), &other_secret, &good),
        ),
        (
            "revoked secret",
            sign(Some(&revoked_kid), &revoked_secret, &good),
        ),
        ("unknown kid", sign(Some("no-such-secret"), &secret, &good)),
        ("no kid", sign(None, &secret, &good)),
        ("alg none", forged(&head("none"), &good, &secret)),
        ("alg RS256", forged(&head("RS256"), &good, &secret)),
        (
            "no exp",
            sign(Some(&kid), &secret, &{
                let mut c = good.clone();
                c.as_object_mut().unwrap().remove("exp");
                c
            }),
        ),
        ("not a token", "not-a-token".to_owned()),
    ];
    for (what, token) in &bad {
        // Refused links count against the address: let the window pass.
        t.clock.advance(chrono::Duration::minutes(2));
        let api = redeem(&app, token).await;
        assert_eq!(api.status, 401, "{what}: {}", api.body);
        assert_eq!(api.body["code"], "unauthenticated", "{what}");
        let shown = report_page(&app, token).await;
        assert_eq!(shown.status, 401, "{what}: the page refuses too");
        assert_eq!(shown.header("referrer-policy"), Some("no-referrer"));
        assert!(
            set_cookie(&shown, "odr_session").is_none(),
            "{what}: no session"
        );
        let html = html(&shown);
        assert!(
            html.contains("href=\"/report\""),
            "{what}: offers filing without an account"
        );
    }
    // The page says why in plain words: expired asks for a new link.
    let expired = report_page(&app, &bad[1].1).await;
    assert!(html(&expired).contains("has expired"), "{}", html(&expired));
    let forged_page = report_page(&app, &bad[0].1).await;
    assert!(html(&forged_page).contains("is not valid"));
    // In the visitor's language.
    let german = send(
        &app,
        TestRequest::get()
            .uri(&format!("/report?token={}", bad[1].1))
            .insert_header((header::ACCEPT_LANGUAGE, "de")),
    )
    .await;
    assert_eq!(german.status, 401);
    assert!(html(&german).contains("abgelaufen"), "{}", html(&german));
    // Nothing was created for the email of the refused links.
    assert!(t
        .store()
        .user_by_email("new.buyer@example.test")
        .unwrap()
        .is_none());
}

async fn a_good_order_link_signs_in_and_the_page_is_prefilled(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let (kid, secret) = link_secret(&app, &w.retailer_id, &w.staff).await;
    let token = sign(
        Some(&kid),
        &secret,
        &claims(&t, &w.retailer_id, "B-2002", "New.Buyer@Example.test"),
    );
    let login = redeem(&app, &token).await.expect(200);
    assert_eq!(login["token_type"], "Bearer");
    assert!(login["access_token"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    assert_eq!(
        login["order"],
        json!({
            "retailer_id": w.retailer_id,
            "order_reference": "B-2002",
            "customer_email": "new.buyer@example.test",
            "locale": "de",
            "items": [
                {"sku": "TP-1", "name": "Blue Teapot", "quantity": 1},
                {"sku": "CU-2", "name": "Tea Cup", "quantity": 4}
            ]
        })
    );
    let user = t
        .store()
        .user_by_email("new.buyer@example.test")
        .unwrap()
        .expect("a customer for the new email");
    assert!(user.password_hash.is_none(), "made without password");
    assert_eq!(user.display_name, "Chris Buyer");
    let secrets = t.store().link_secrets_of(&w.retailer_id).unwrap();
    assert!(
        secrets[0].last_used_at.is_some(),
        "the secret's last use is noted"
    );

    // The page: the token is spent on the way in and leaves the address bar.
    let landed = report_page(&app, &token).await;
    assert_eq!(see_other(&landed), "/report/order");
    assert_eq!(landed.header("referrer-policy"), Some("no-referrer"));
    let session = set_cookie(&landed, "odr_session")
        .expect("the sign-in's session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let locale = set_cookie(&landed, "odr_locale").expect("the claim's language");
    assert!(locale.starts_with("odr_locale=de"), "{locale}");
    let cookies = format!("{session}; odr_locale=de");
    let form = page(&app, "/report/order", &cookies).await;
    assert_eq!(form.status, 200, "{}", html(&form));
    assert_eq!(form.header("referrer-policy"), Some("no-referrer"));
    let html = html(&form);
    assert!(
        html.contains("value=\"B-2002\""),
        "order number fixed: {html}"
    );
    assert!(
        html.contains("readonly"),
        "the order number cannot be changed"
    );
    assert!(
        html.contains("Blue Teapot") && html.contains("Tea Cup"),
        "items shown"
    );
    assert!(html.contains("Teapot Shop"), "the shop is named");
    assert!(html.contains(&format!("name=\"retailer_id\" value=\"{}\"", w.retailer_id)));
    assert!(
        html.contains("<html lang=\"de\""),
        "in the claim's language"
    );
    assert!(!html.contains("name=\"email\""), "no email to type");
}

async fn an_order_session_files_and_acts_for_its_order_only(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    // Chris has a full account and an earlier complaint (order A-1001).
    let earlier = id(&file(&app, &w).await);
    let (kid, secret) = link_secret(&app, &w.retailer_id, &w.staff).await;
    let email = t.store().user(&w.customer.id).unwrap().unwrap().email;
    let token = sign(
        Some(&kid),
        &secret,
        &claims(&t, &w.retailer_id, "B-2002", &email),
    );
    let login = redeem(&app, &token).await.expect(200);
    let scoped = Person {
        id: w.customer.id.clone(),
        token: login["access_token"].as_str().unwrap().to_owned(),
    };
    let filing = |retailer_id: &str, reference: &str| {
        json!({
            "retailer_id": retailer_id,
            "order_reference": reference,
            "category": "damaged",
            "desired_remedy": "replacement",
            "description": "The lid of the teapot is cracked.",
            "items": [{"sku": "TP-1", "name": "Blue Teapot", "quantity": 1}]
        })
    };
    let filed = post(
        &app,
        "/api/v1/complaints",
        &scoped,
        filing(&w.retailer_id, "B-2002"),
    )
    .await
    .expect(201);
    let c = id(&filed);
    assert_eq!(filed["customer_id"], w.customer.id.as_str());
    let other_order = post(
        &app,
        "/api/v1/complaints",
        &scoped,
        filing(&w.retailer_id, "A-1001"),
    )
    .await;
    assert_eq!(other_order.status, 403, "{}", other_order.body);
    let other_shop = post(
        &app,
        "/api/v1/complaints",
        &scoped,
        filing(&w.other_retailer_id, "B-2002"),
    )
    .await;
    assert_eq!(other_shop.status, 403, "{}", other_shop.body);

    // It sees the complaints of its order only, not the account's others.
    let listed = get(&app, "/api/v1/complaints", &scoped).await.expect(200);
    let ids: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![c.as_str()]);
    get(&app, &format!("/api/v1/complaints/{earlier}"), &scoped)
        .await
        .expect(404);
    get(
        &app,
        &format!("/api/v1/complaints/{earlier}/messages"),
        &scoped,
    )
    .await
    .expect(404);
    // The full session still sees both.
    let full = get(&app, "/api/v1/complaints", &w.customer)
        .await
        .expect(200);
    assert_eq!(full["items"].as_array().unwrap().len(), 2);

    // It acts on its complaint like a customer: a message, an offer accepted.
    act(
        &app,
        &c,
        "messages",
        &scoped,
        json!({"body": "Photos follow."}),
    )
    .await
    .expect(201);
    act(&app, &c, "acknowledge", &w.staff, json!({}))
        .await
        .expect(200);
    act(
        &app,
        &c,
        "offers",
        &w.staff,
        json!({"remedy": "replacement"}),
    )
    .await
    .expect(200);
    // On the complaint page, with the order link's session cookie.
    let cookie = format!("odr_session={}", scoped.token);
    let (status, shown) = visit(&app, &format!("/complaints/{c}"), &cookie).await;
    assert_eq!(status, 200);
    let accepted = form(
        &app,
        &format!("/complaints/{c}/accept"),
        &cookie,
        &[
            ("csrf", &hidden(&shown, "csrf")),
            ("offer_id", &hidden(&shown, "offer_id")),
        ],
    )
    .await;
    assert!(see_other(&accepted).ends_with("?done=accepted"));
    let now_accepted = get(&app, &format!("/api/v1/complaints/{c}"), &scoped)
        .await
        .expect(200);
    assert_eq!(now_accepted["state"], "accepted");

    // Its pages show its complaint, not the earlier one.
    let (status, _) = visit(&app, &format!("/complaints/{c}"), &cookie).await;
    assert_eq!(status, 200);
    let (status, _) = visit(&app, &format!("/complaints/{earlier}"), &cookie).await;
    assert_eq!(status, 404);
    let (status, listed) = visit(&app, "/complaints", &cookie).await;
    assert_eq!(status, 200);
    assert!(
        listed.contains(&c) && !listed.contains(&earlier),
        "{listed}"
    );
    // The order form lists what was filed for the order first.
    let (status, form) = visit(&app, "/report/order", &cookie).await;
    assert_eq!(status, 200);
    assert!(form.contains(&format!("/complaints/{c}")), "{form}");
    assert_eq!(
        see_other(&page(&app, "/complaints/new", &cookie).await),
        "/report/order"
    );

    // The account itself needs a full session.
    let password = call(
        &app,
        Method::PUT,
        "/api/v1/me/password",
        Some(&scoped),
        Some(json!({"password": "a brand new passphrase"})),
    )
    .await;
    assert_eq!(password.status, 403, "{}", password.body);
    let profile = call(
        &app,
        Method::PATCH,
        "/api/v1/me",
        Some(&scoped),
        Some(json!({"display_name": "Mallory"})),
    )
    .await;
    assert_eq!(profile.status, 403, "{}", profile.body);
    let keys = get(
        &app,
        &format!("/api/v1/retailers/{}/link-secrets", w.retailer_id),
        &scoped,
    )
    .await;
    assert!(keys.status == 403 || keys.status == 404, "{}", keys.body);
}

async fn an_order_link_for_a_staff_email_is_refused(db: Db) {
    let t = TestApp::new(db);
    let w: World = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let (kid, secret) = link_secret(&app, &w.retailer_id, &w.staff).await;
    for email in ["staff@teapot.test", "mia@odr.test", "admin@odr.test"] {
        let token = sign(
            Some(&kid),
            &secret,
            &claims(&t, &w.retailer_id, "B-2002", email),
        );
        let api = redeem(&app, &token).await;
        assert_eq!(api.status, 403, "{email}: {}", api.body);
        let shown = report_page(&app, &token).await;
        assert_eq!(shown.status, 403, "{email}");
        assert!(set_cookie(&shown, "odr_session").is_none());
    }
}
