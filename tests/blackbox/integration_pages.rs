//! The shop integration page (`/integration`): a shop's staff (and admins,
//! for any shop) create, see and revoke API keys and order-link secrets
//! (and webhooks) in the browser, through the API's own functions. A new
//! key or secret is shown once, in the form's answer; the lists never show
//! it; another shop's staff get 404, customers and mediators 403.

use std::sync::Arc;

use actix_web::http::{header, Method, StatusCode};
use actix_web::test::init_service;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use odr_http::Clock;
use odr_tests::{call, on_both_databases, Answer, Db, Person, TestApp, World};
use odr_webhooks::address::AddressPolicy;
use odr_webhooks::worker::BatchReport;
use odr_webhooks::{DeliveryWorker, WorkerSettings};
use serde_json::json;

use crate::browsing::*;
use crate::steps::*;

on_both_databases!(
    staff_create_an_api_key_that_is_shown_once_and_works,
    staff_revoke_an_api_key_on_the_page,
    a_refused_name_comes_back_with_what_was_typed,
    staff_create_and_revoke_a_link_secret,
    only_the_shops_people_and_admins_use_the_page,
    admins_manage_any_shop_from_its_page,
    the_page_speaks_the_visitors_language,
    staff_add_a_webhook_see_its_log_and_send_again,
    a_refused_webhook_comes_back_with_what_was_typed,
    a_disabled_webhook_is_enabled_again_before_sending_again,
    the_delivery_log_pages_on_the_page,
    another_shops_staff_cannot_touch_its_webhooks
);

/// The one-time value a create form's answer shows (`prefix...`), in the
/// read-only field "Copy it now".
#[track_caller]
fn shown_secret(html: &str, prefix: &str) -> String {
    let marker = "id=\"created-secret\"";
    let field = html
        .find(marker)
        .map(|i| &html[i..])
        .unwrap_or_else(|| panic!("the answer shows a new {prefix}...: {html}"));
    let start = field.find('>').expect("the field opens") + 1;
    let end = field.find("</textarea>").expect("the field ends");
    let secret = field[start..end].to_owned();
    assert!(secret.starts_with(prefix), "{secret} is no {prefix}...");
    secret
}

/// The page of `retailer_id` as the holder of `cookie` sees it.
async fn integration(app: &impl App, cookie: &str, retailer_id: &str) -> (StatusCode, String) {
    visit(app, &format!("/integration?retailer={retailer_id}"), cookie).await
}

/// Posts a form of the page with the page's CSRF token.
async fn post_form(
    app: &impl App,
    cookie: &str,
    path: &str,
    retailer_id: &str,
    fields: &[(&str, &str)],
) -> Answer {
    let (_, html) = integration(app, cookie, retailer_id).await;
    let token = csrf(&html);
    let mut all = vec![("csrf", token.as_str()), ("retailer", retailer_id)];
    all.extend_from_slice(fields);
    form(app, path, cookie, &all).await
}

fn no_store(answer: &Answer) -> bool {
    answer
        .header(header::CACHE_CONTROL.as_str())
        .is_some_and(|v| v.contains("no-store"))
}

async fn staff_create_an_api_key_that_is_shown_once_and_works(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let staff = sign_in(&app, "staff@teapot.test", PASSWORD).await;

    // The staff's header links to the page; it shows its sections.
    let (status, first) = visit(&app, "/integration", &staff).await;
    assert_eq!(status, 200, "{first}");
    assert!(
        first.contains("href=\"&#x2f;integration\" aria-current=\"page\""),
        "{first}"
    );
    assert!(first.contains("Teapot Shop"));
    for heading in ["API keys", "Order-link secrets"] {
        assert!(first.contains(heading), "the page has {heading}");
    }
    assert!(first.contains("This shop has no API key yet."));
    assert!(first.contains("<label for=\"key-name\">Name</label>"));

    let answer = post_form(
        &app,
        &staff,
        "/integration/api-keys",
        &w.retailer_id,
        &[("name", "Shop backend")],
    )
    .await;
    assert_eq!(
        answer.status, 200,
        "the key in the form's answer, no redirect"
    );
    assert!(no_store(&answer), "the answer is never cached");
    let html = html(&answer).to_owned();
    let key = shown_secret(&html, "odr_sk_");
    assert!(html.contains("Your new API key “Shop backend”"));
    assert!(html.contains("you will not see it again"));
    assert!(html.contains("Copy it now"));

    // It is a working key of this shop.
    let keys = t.store().api_keys_of(&w.retailer_id).unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].name, "Shop backend");
    assert_eq!(keys[0].created_by.as_deref(), Some(w.staff.id.as_str()));
    let holder = Person {
        id: keys[0].user_id.clone(),
        token: key.clone(),
    };
    get(&app, "/api/v1/complaints", &holder).await.expect(200);
    get(
        &app,
        &format!("/api/v1/retailers/{}/stats", w.other_retailer_id),
        &holder,
    )
    .await
    .expect(403);

    // The list shows it, never the key again.
    let (_, listed) = visit(&app, "/integration", &staff).await;
    assert!(listed.contains("Shop backend"));
    assert!(listed.contains(&keys[0].id));
    assert!(!listed.contains(&key), "the key is shown once only");
    assert!(!listed.contains("odr_sk_"));
    assert!(!listed.contains("you will not see it again"));
    // The API's list is the same.
    let api = get(
        &app,
        &format!("/api/v1/retailers/{}/api-keys", w.retailer_id),
        &w.staff,
    )
    .await
    .expect(200);
    assert_eq!(api["items"][0]["name"], "Shop backend");

    // Used once, its last use shows on the page.
    assert!(listed.contains("Last used"));
    assert!(!listed.contains("Not used yet"), "it was just used");
}

async fn staff_revoke_an_api_key_on_the_page(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let staff = sign_in(&app, "staff@teapot.test", PASSWORD).await;
    let answer = post_form(
        &app,
        &staff,
        "/integration/api-keys",
        &w.retailer_id,
        &[("name", "Old backend")],
    )
    .await;
    let key = shown_secret(html(&answer), "odr_sk_");
    let kept = post_form(
        &app,
        &staff,
        "/integration/api-keys",
        &w.retailer_id,
        &[("name", "New backend")],
    )
    .await;
    let kept_key = shown_secret(html(&kept), "odr_sk_");
    let keys = t.store().api_keys_of(&w.retailer_id).unwrap();
    let old = keys.iter().find(|k| k.name == "Old backend").unwrap();
    let holder = Person {
        id: old.user_id.clone(),
        token: key,
    };
    get(&app, "/api/v1/complaints", &holder).await.expect(200);

    let (_, html_before) = visit(&app, "/integration", &staff).await;
    let action = format!("/integration/api-keys/{}/revoke", old.id);
    assert!(html_before.contains(&format!("action=\"{action}\"")));
    assert!(
        html_before.contains("Revoke the API key “Old backend”?"),
        "the browser asks first"
    );
    assert!(
        buttons(&html_before)
            .iter()
            .any(|b| b.contains("Revoke") && b.contains("“Old backend”")),
        "the button names the key"
    );

    // Without the page's CSRF token: refused, nothing revoked.
    let forged = form(
        &app,
        &action,
        &staff,
        &[("retailer", w.retailer_id.as_str())],
    )
    .await;
    assert_eq!(forged.status, 403);
    assert_eq!(t.store().api_keys_of(&w.retailer_id).unwrap().len(), 2);

    let answer = post_form(&app, &staff, &action, &w.retailer_id, &[]).await;
    let to = see_other(&answer);
    assert_eq!(
        to,
        format!(
            "/integration?retailer={}&done=api_key_revoked",
            w.retailer_id
        )
    );
    let (_, after) = visit(&app, &to, &staff).await;
    assert!(after.contains("The API key is revoked"));
    assert!(!after.contains("Old backend"));
    assert!(after.contains("New backend"));
    // It stops working at once; the other key still works.
    get(&app, "/api/v1/complaints", &holder).await.expect(401);
    let kept_holder = Person {
        id: String::new(),
        token: kept_key,
    };
    get(&app, "/api/v1/complaints", &kept_holder)
        .await
        .expect(200);
    // Revoked already: the API's 404, as an error page.
    let again = post_form(&app, &staff, &action, &w.retailer_id, &[]).await;
    assert_eq!(again.status, 404);
}

async fn a_refused_name_comes_back_with_what_was_typed(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let staff = sign_in(&app, "staff@teapot.test", PASSWORD).await;
    let empty = post_form(
        &app,
        &staff,
        "/integration/api-keys",
        &w.retailer_id,
        &[("name", "   ")],
    )
    .await;
    assert_eq!(empty.status, 422);
    let page = html(&empty);
    assert!(page.contains("Please check the marked fields."));
    assert!(page.contains("<strong>Name</strong>: Please fill this in"));
    assert!(page.contains("id=\"key-name\""));
    assert!(page.contains("aria-invalid=\"true\""));
    assert!(!page.contains("odr_sk_"));

    let long = "x".repeat(201);
    let too_long = post_form(
        &app,
        &staff,
        "/integration/link-secrets",
        &w.retailer_id,
        &[("name", long.as_str())],
    )
    .await;
    assert_eq!(too_long.status, 422);
    let page = html(&too_long);
    assert!(
        page.contains(&format!("value=\"{long}\"")),
        "what was typed"
    );
    assert!(page.contains("This is too long"));
    assert!(!page.contains("olsec_"));
    assert!(t.store().api_keys_of(&w.retailer_id).unwrap().is_empty());
    assert!(t
        .store()
        .link_secrets_of(&w.retailer_id)
        .unwrap()
        .is_empty());
}

async fn staff_create_and_revoke_a_link_secret(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let staff = sign_in(&app, "staff@teapot.test", PASSWORD).await;
    let answer = post_form(
        &app,
        &staff,
        "/integration/link-secrets",
        &w.retailer_id,
        &[("name", "Web shop")],
    )
    .await;
    assert_eq!(answer.status, 200);
    assert!(no_store(&answer));
    let page = html(&answer).to_owned();
    let secret = shown_secret(&page, "olsec_");
    assert!(page.contains("Your new link secret “Web shop”"));
    assert!(page.contains("you will not see it again"));
    let secrets = t.store().link_secrets_of(&w.retailer_id).unwrap();
    assert_eq!(secrets.len(), 1);
    let kid = secrets[0].id.clone();
    assert!(page.contains(&kid), "the kid to sign with is shown");
    // Not kept as typed.
    assert_ne!(
        t.store().sealed_link_secret(&kid).unwrap().as_deref(),
        Some(secret.as_str())
    );

    // It signs order links that work.
    let link = |secret: &str| {
        use odr_http::Clock;
        let mut head = Header::new(Algorithm::HS256);
        head.kid = Some(kid.clone());
        let claims = json!({
            "retailer_id": w.retailer_id,
            "order_reference": "SO-1",
            "customer_email": "ana@example.test",
            "exp": t.clock.now().timestamp() + 3600,
        });
        jsonwebtoken::encode(&head, &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
    };
    let redeem = |token: String| {
        call(
            &app,
            Method::POST,
            "/api/v1/auth/order-link/redeem",
            None,
            Some(json!({ "token": token })),
        )
    };
    redeem(link(&secret)).await.expect(200);

    let (_, listed) = visit(&app, "/integration", &staff).await;
    assert!(listed.contains("Web shop"));
    assert!(!listed.contains(&secret));
    assert!(!listed.contains("olsec_"));
    assert!(listed.contains("Revoke the link secret “Web shop”?"));

    let answer = post_form(
        &app,
        &staff,
        &format!("/integration/link-secrets/{kid}/revoke"),
        &w.retailer_id,
        &[],
    )
    .await;
    let to = see_other(&answer);
    assert!(to.ends_with("done=link_secret_revoked"), "{to}");
    let (_, after) = visit(&app, &to, &staff).await;
    assert!(after.contains("The link secret is revoked"));
    assert!(after.contains("This shop has no link secret yet."));
    redeem(link(&secret)).await.expect(401);
}

/// A session of an order link of the world's shop (a customer's, scoped).
async fn order_link_cookie(app: &impl App, t: &TestApp, w: &World) -> String {
    let created = post(
        app,
        &format!("/api/v1/retailers/{}/link-secrets", w.retailer_id),
        &w.staff,
        json!({"name": "shop"}),
    )
    .await
    .expect(201);
    let mut head = Header::new(Algorithm::HS256);
    head.kid = Some(id(&created));
    let claims = {
        use odr_http::Clock;
        json!({
            "retailer_id": w.retailer_id,
            "order_reference": "SO-9",
            "customer_email": "chris@example.test",
            "exp": t.clock.now().timestamp() + 3600,
        })
    };
    let secret = created["secret"].as_str().unwrap();
    let token =
        jsonwebtoken::encode(&head, &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap();
    let login = call(
        app,
        Method::POST,
        "/api/v1/auth/order-link/redeem",
        None,
        Some(json!({ "token": token })),
    )
    .await
    .expect(200);
    format!(
        "odr_session={}",
        login["access_token"].as_str().expect("a session")
    )
}

async fn only_the_shops_people_and_admins_use_the_page(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let staff = sign_in(&app, "staff@teapot.test", PASSWORD).await;
    let other = sign_in(&app, "staff@other.test", PASSWORD).await;

    // Another shop's staff: the shop's page and forms are 404.
    let (status, _) = integration(&app, &other, &w.retailer_id).await;
    assert_eq!(status, 404);
    let (_, own) = visit(&app, "/integration", &other).await;
    let token = csrf(&own);
    let attempt = form(
        &app,
        "/integration/api-keys",
        &other,
        &[
            ("csrf", token.as_str()),
            ("retailer", w.retailer_id.as_str()),
            ("name", "Sneaky"),
        ],
    )
    .await;
    assert_eq!(attempt.status, 404);
    assert!(!html(&attempt).contains("odr_sk_"));
    assert!(t.store().api_keys_of(&w.retailer_id).unwrap().is_empty());
    // Nor can they revoke this shop's key.
    let made = post_form(
        &app,
        &staff,
        "/integration/api-keys",
        &w.retailer_id,
        &[("name", "Backend")],
    )
    .await;
    shown_secret(html(&made), "odr_sk_");
    let key_id = t.store().api_keys_of(&w.retailer_id).unwrap()[0].id.clone();
    let attempt = form(
        &app,
        &format!("/integration/api-keys/{key_id}/revoke"),
        &other,
        &[
            ("csrf", token.as_str()),
            ("retailer", w.retailer_id.as_str()),
        ],
    )
    .await;
    assert_eq!(attempt.status, 404);
    // With their own shop named, the key is not theirs: 404 too.
    let attempt = form(
        &app,
        &format!("/integration/api-keys/{key_id}/revoke"),
        &other,
        &[
            ("csrf", token.as_str()),
            ("retailer", w.other_retailer_id.as_str()),
        ],
    )
    .await;
    assert_eq!(attempt.status, 404);
    assert_eq!(t.store().api_keys_of(&w.retailer_id).unwrap().len(), 1);

    // Customers and mediators: 403, and no link in their header.
    for (who, home) in [(&w.customer, "/complaints"), (&w.mediator, "/queue")] {
        let (status, html) = integration(&app, &cookie(who), &w.retailer_id).await;
        assert_eq!(status, 403, "{html}");
        let (status, home) = visit(&app, home, &cookie(who)).await;
        assert_eq!(status, 200);
        assert!(!home.contains("Shop integration"));
    }
    // An order link's session is a customer's: 403.
    let order = order_link_cookie(&app, &t, &w).await;
    let (status, _) = integration(&app, &order, &w.retailer_id).await;
    assert_eq!(status, 403);
    // An API key opens no page: to the sign-in page.
    let key = shown_secret(html(&made), "odr_sk_");
    let answer = page(
        &app,
        &format!("/integration?retailer={}", w.retailer_id),
        &format!("odr_session={key}"),
    )
    .await;
    assert!(see_other(&answer).starts_with("/sign-in?next="));
    // Not signed in: to the sign-in page, coming back afterwards.
    let answer = page(&app, "/integration", "").await;
    assert_eq!(see_other(&answer), "/sign-in?next=%2Fintegration");
}

async fn admins_manage_any_shop_from_its_page(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let admin = sign_in(&app, "admin@odr.test", PASSWORD).await;
    // The retailer's admin page links here.
    let (_, retailer_page) =
        visit(&app, &format!("/admin/retailers/{}", w.retailer_id), &admin).await;
    assert!(retailer_page.contains(&format!("href=\"/integration?retailer={}\"", w.retailer_id)));
    // Without a shop: a choice of shops.
    let (status, choice) = visit(&app, "/integration", &admin).await;
    assert_eq!(status, 200);
    assert!(choice.contains("Choose a shop"));
    assert!(choice.contains(&format!("/integration?retailer={}", w.other_retailer_id)));

    let answer = post_form(
        &app,
        &admin,
        "/integration/api-keys",
        &w.other_retailer_id,
        &[("name", "Other backend")],
    )
    .await;
    assert_eq!(answer.status, 200);
    let key = shown_secret(html(&answer), "odr_sk_");
    assert!(html(&answer).contains("Other Shop"));
    let keys = t.store().api_keys_of(&w.other_retailer_id).unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].created_by.as_deref(), Some(w.admin.id.as_str()));
    assert!(t.store().api_keys_of(&w.retailer_id).unwrap().is_empty());
    let holder = Person {
        id: keys[0].user_id.clone(),
        token: key,
    };
    get(
        &app,
        &format!("/api/v1/retailers/{}/stats", w.other_retailer_id),
        &holder,
    )
    .await
    .expect(200);
    // A form without a shop is for no shop: 404.
    let (_, html_choice) = visit(&app, "/integration", &admin).await;
    let token = csrf(&html_choice);
    let nowhere = form(
        &app,
        "/integration/link-secrets",
        &admin,
        &[("csrf", token.as_str()), ("name", "Lost")],
    )
    .await;
    assert_eq!(nowhere.status, 404);
    // An unknown shop: 404.
    let (status, _) = integration(&app, &admin, "no-such-shop").await;
    assert_eq!(status, 404);
}

async fn the_page_speaks_the_visitors_language(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let staff = sign_in(&app, "staff@teapot.test", PASSWORD).await;
    for (code, title, keys) in [
        ("de", "Shop-Anbindung", "API-Schlüssel"),
        ("fr", "Intégration de la boutique", "Clés d&#x27;API"),
        ("es", "Integración de la tienda", "Claves de API"),
        ("sk", "Prepojenie obchodu", "Kľúče API"),
    ] {
        let cookie = format!("{staff}; odr_locale={code}");
        let (status, html) = visit(&app, "/integration", &cookie).await;
        assert_eq!(status, 200);
        assert!(html.contains(&format!("<html lang=\"{code}\">")));
        assert!(html.contains(title), "{code}: {title}");
        assert!(html.contains(keys), "{code}: {keys}");
        assert!(!html.contains("API keys"), "{code}: no English left");
        let answer = post_form(
            &app,
            &cookie,
            "/integration/api-keys",
            &w.retailer_id,
            &[("name", code)],
        )
        .await;
        assert_eq!(answer.status, 200);
        assert!(!crate::browsing::html(&answer).contains("you will not see it again"));
    }
}

/// Where nothing listens (the discard port on loopback): every delivery
/// attempt fails.
const DEAD_END: &str = "http://127.0.0.1:9/odr/webhook";

/// The test app with `ODR_WEBHOOK_ALLOW_PRIVATE=true` (the receivers of
/// these tests are on loopback).
fn app_allowing_private(db: Db) -> TestApp {
    let mut t = TestApp::new(db);
    let mut http = (*t.state.http).clone();
    http.webhook_allow_private = true;
    t.state.http = Arc::new(http);
    t
}

/// One batch of the delivery worker at the test's time.
async fn deliver(t: &TestApp) -> BatchReport {
    DeliveryWorker::new(
        t.store().clone(),
        t.state.secrets.clone(),
        WorkerSettings {
            addresses: AddressPolicy {
                allow_private: true,
            },
            timeout: std::time::Duration::from_secs(5),
            ..WorkerSettings::default()
        },
    )
    .run_batch(t.clock.now())
    .await
    .unwrap()
}

/// Registers an endpoint on the page: the answer.
async fn add_webhook(
    app: &impl App,
    cookie: &str,
    retailer_id: &str,
    url: &str,
    events: &[&str],
) -> Answer {
    let mut fields = vec![("url", url)];
    fields.extend(events.iter().map(|e| ("events", *e)));
    post_form(app, cookie, "/integration/webhooks", retailer_id, &fields).await
}

async fn staff_add_a_webhook_see_its_log_and_send_again(db: Db) {
    let t = app_allowing_private(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let staff = sign_in(&app, "staff@teapot.test", PASSWORD).await;
    let (_, first) = visit(&app, "/integration", &staff).await;
    assert!(first.contains("This shop has no webhook endpoint yet."));
    assert!(first.contains("<label for=\"hook-url\">Address (URL)</label>"));
    assert!(first.contains("<legend>Events to send</legend>"));
    for event in [
        "complaint.filed",
        "complaint.acknowledged",
        "complaint.offer_proposed",
        "complaint.offer_accepted",
        "complaint.offer_rejected",
        "complaint.escalated",
        "complaint.mediator_assigned",
        "complaint.decided",
        "complaint.fulfilled",
        "complaint.withdrawn",
        "complaint.lapsed",
        "complaint.message_added",
    ] {
        assert!(
            first.contains(&format!("name=\"events\" value=\"{event}\"")),
            "a checkbox for {event}"
        );
    }

    let answer = add_webhook(
        &app,
        &staff,
        &w.retailer_id,
        DEAD_END,
        &["complaint.filed", "complaint.message_added"],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", html(&answer));
    assert!(no_store(&answer));
    let page = html(&answer).to_owned();
    let secret = shown_secret(&page, "whsec_");
    assert!(page.contains(
        "The signing secret of your webhook http:&#x2f;&#x2f;127.0.0.1:9&#x2f;odr&#x2f;webhook"
    ));
    assert!(page.contains("you will not see it again"));
    let hooks = t.store().webhooks_of(&w.retailer_id).unwrap();
    assert_eq!(hooks.len(), 1);
    let hook = hooks[0].clone();
    assert_eq!(hook.url, DEAD_END);
    assert_eq!(hook.events.len(), 2);
    // The API lists the same endpoint, never its secret.
    let listed = get(
        &app,
        &format!("/api/v1/retailers/{}/webhooks", w.retailer_id),
        &w.staff,
    )
    .await
    .expect(200);
    assert_eq!(listed["items"][0]["id"], hook.id.as_str());

    // A complaint is filed: its delivery waits in the log.
    file(&app, &w).await;
    let (_, waiting) = visit(&app, "/integration", &staff).await;
    assert!(!waiting.contains(&secret), "the secret is shown once");
    assert!(!waiting.contains("whsec_"));
    assert!(waiting.contains("Enabled"));
    assert!(waiting.contains(
        "Deliveries to http:&#x2f;&#x2f;127.0.0.1:9&#x2f;odr&#x2f;webhook, newest first"
    ));
    assert!(waiting.contains("<code>complaint.filed</code>"));
    assert!(waiting.contains(">Waiting</span>"));
    let delivery = get(
        &app,
        &format!(
            "/api/v1/retailers/{}/webhooks/{}/deliveries",
            w.retailer_id, hook.id
        ),
        &w.staff,
    )
    .await
    .expect(200)["items"][0]
        .clone();
    let delivery_id = id(&delivery);
    let redeliver = format!(
        "/integration/webhooks/{}/deliveries/{delivery_id}/redeliver",
        hook.id
    );
    assert!(waiting.contains(&format!("action=\"{redeliver}\"")));
    assert!(buttons(&waiting)
        .iter()
        .any(|b| b.starts_with("Send again")));

    // The attempt fails: retrying, with the error, not due again yet.
    let report = deliver(&t).await;
    assert_eq!(report.claimed, 1, "{report:?}");
    let (_, failed) = visit(&app, "/integration", &staff).await;
    assert!(failed.contains(">Retrying</span>"), "{failed}");
    assert!(failed.contains("Next attempt"));
    assert_eq!(deliver(&t).await.claimed, 0, "not due again yet");

    // Send again: due at once, one more attempt of the same delivery.
    let answer = post_form(&app, &staff, &redeliver, &w.retailer_id, &[]).await;
    let to = see_other(&answer);
    assert_eq!(
        to,
        format!(
            "/integration?retailer={}&done=redelivered#hook-{}",
            w.retailer_id, hook.id
        )
    );
    let (_, after) = visit(&app, &to, &staff).await;
    assert!(after.contains("The delivery is queued again"));
    let report = deliver(&t).await;
    assert_eq!(report.claimed, 1, "sent again at once: {report:?}");
    let log = get(
        &app,
        &format!(
            "/api/v1/retailers/{}/webhooks/{}/deliveries",
            w.retailer_id, hook.id
        ),
        &w.staff,
    )
    .await
    .expect(200);
    assert_eq!(log["items"].as_array().unwrap().len(), 1);
    assert_eq!(log["items"][0]["id"], delivery_id.as_str());
    assert_eq!(log["items"][0]["attempts"], 2);

    // An unknown delivery: the API's 404.
    let unknown = post_form(
        &app,
        &staff,
        &format!(
            "/integration/webhooks/{}/deliveries/nope/redeliver",
            hook.id
        ),
        &w.retailer_id,
        &[],
    )
    .await;
    assert_eq!(unknown.status, 404);

    // Delete: gone with its log.
    let (_, before) = visit(&app, "/integration", &staff).await;
    assert!(before.contains("Delete the webhook endpoint http:&#x2f;&#x2f;127.0.0.1:9&#x2f;odr&#x2f;webhook with its delivery log?"));
    let answer = post_form(
        &app,
        &staff,
        &format!("/integration/webhooks/{}/delete", hook.id),
        &w.retailer_id,
        &[],
    )
    .await;
    let to = see_other(&answer);
    assert!(to.contains("done=webhook_deleted"), "{to}");
    let (_, gone) = visit(&app, &to, &staff).await;
    assert!(gone.contains("The webhook endpoint is deleted"));
    assert!(gone.contains("This shop has no webhook endpoint yet."));
    assert!(t.store().webhooks_of(&w.retailer_id).unwrap().is_empty());
}

async fn a_refused_webhook_comes_back_with_what_was_typed(db: Db) {
    // Private addresses are refused here (the default).
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let staff = sign_in(&app, "staff@teapot.test", PASSWORD).await;
    let answer = add_webhook(&app, &staff, &w.retailer_id, "ftp://shop.example/x", &[]).await;
    assert_eq!(answer.status, 422);
    let page = html(&answer);
    assert!(page.contains("Please check the marked fields."));
    assert!(page
        .contains("<strong>Address (URL)</strong>: Please give a complete http or https address"));
    assert!(page.contains("<strong>Events to send</strong>: Please fill this in or choose one."));
    assert!(
        page.contains("value=\"ftp:&#x2f;&#x2f;shop.example&#x2f;x\""),
        "what was typed"
    );
    assert!(page.contains("id=\"hook-url\""));
    assert!(!page.contains("whsec_"));

    let answer = add_webhook(
        &app,
        &staff,
        &w.retailer_id,
        DEAD_END,
        &["complaint.escalated", "complaint.decided"],
    )
    .await;
    assert_eq!(answer.status, 422);
    let page = html(&answer);
    assert!(page.contains("This address is on a private or local network"));
    assert!(
        page.contains("value=\"complaint.escalated\" checked"),
        "the chosen events stay chosen"
    );
    assert!(page.contains("value=\"complaint.decided\" checked"));
    assert!(!page.contains("value=\"complaint.filed\" checked"));

    let answer = add_webhook(
        &app,
        &staff,
        &w.retailer_id,
        "https://shop.example/hook",
        &["complaint.sneezed"],
    )
    .await;
    assert_eq!(answer.status, 422);
    assert!(html(&answer).contains("Please choose the events from the list."));
    assert!(t.store().webhooks_of(&w.retailer_id).unwrap().is_empty());
}

async fn a_disabled_webhook_is_enabled_again_before_sending_again(db: Db) {
    let t = app_allowing_private(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let staff = sign_in(&app, "staff@teapot.test", PASSWORD).await;
    add_webhook(&app, &staff, &w.retailer_id, DEAD_END, &["complaint.filed"])
        .await
        .expect(200);
    let hook = t.store().webhooks_of(&w.retailer_id).unwrap()[0].clone();
    file(&app, &w).await;
    let delivery = t
        .store()
        .webhook_deliveries(&hook.id, None, 10)
        .unwrap()
        .items[0]
        .clone();
    // Paused through the API.
    call(
        &app,
        Method::PATCH,
        &format!("/api/v1/retailers/{}/webhooks/{}", w.retailer_id, hook.id),
        Some(&w.staff),
        Some(json!({"enabled": false})),
    )
    .await
    .expect(200);
    let (_, paused) = visit(&app, "/integration", &staff).await;
    assert!(paused.contains("Disabled since "), "{paused}");
    assert!(paused.contains(": nothing is sent to it."));
    assert!(paused.contains("enable it again before sending anything again"));
    assert!(!buttons(&paused).iter().any(|b| b.starts_with("Send again")));
    assert!(buttons(&paused)
        .iter()
        .any(|b| b.starts_with("Enable again")));
    // Sending again is the API's 409, said in words.
    let redeliver = format!(
        "/integration/webhooks/{}/deliveries/{}/redeliver",
        hook.id, delivery.id
    );
    let refused = post_form(&app, &staff, &redeliver, &w.retailer_id, &[]).await;
    assert_eq!(refused.status, 409);
    assert!(html(&refused).contains("This endpoint is disabled"));

    let answer = post_form(
        &app,
        &staff,
        &format!("/integration/webhooks/{}/enable", hook.id),
        &w.retailer_id,
        &[],
    )
    .await;
    let to = see_other(&answer);
    assert!(to.contains("done=webhook_enabled"), "{to}");
    let (_, enabled) = visit(&app, &to, &staff).await;
    assert!(enabled.contains("The webhook endpoint is enabled again."));
    assert!(t.store().webhooks_of(&w.retailer_id).unwrap()[0].enabled);
    see_other(&post_form(&app, &staff, &redeliver, &w.retailer_id, &[]).await);
}

async fn the_delivery_log_pages_on_the_page(db: Db) {
    let t = app_allowing_private(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let staff = sign_in(&app, "staff@teapot.test", PASSWORD).await;
    add_webhook(&app, &staff, &w.retailer_id, DEAD_END, &["complaint.filed"])
        .await
        .expect(200);
    let hook = t.store().webhooks_of(&w.retailer_id).unwrap()[0].clone();
    for _ in 0..21 {
        file(&app, &w).await;
        t.clock.advance(chrono::Duration::minutes(1));
    }
    let all = t
        .store()
        .webhook_deliveries(&hook.id, None, 50)
        .unwrap()
        .items;
    assert_eq!(all.len(), 21);
    let (_, first) = visit(&app, "/integration", &staff).await;
    assert_eq!(first.matches(">Send again").count(), 20);
    assert!(first.contains(&all[0].id), "newest first");
    assert!(!first.contains(&all[20].id));
    let older = first
        .split("href=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap_or_default())
        .find(|link| link.contains("cursor="))
        .expect("a link to older deliveries");
    assert!(first.contains("Older deliveries"));
    let link = older.replace("&#x2f;", "/").replace("&amp;", "&");
    assert!(link.starts_with("/integration?retailer="), "{link}");
    let (status, second) = visit(&app, &link, &staff).await;
    assert_eq!(status, 200, "{second}");
    assert!(second.contains(&all[20].id));
    assert!(!second.contains(&all[0].id));
    assert!(second.contains("Back to the newest deliveries"));
    // A cursor that no list gave: the API's 422.
    let (status, _) = visit(
        &app,
        &format!(
            "/integration?retailer={}&webhook={}&cursor=bogus",
            w.retailer_id, hook.id
        ),
        &staff,
    )
    .await;
    assert_eq!(status, 422);
}

async fn another_shops_staff_cannot_touch_its_webhooks(db: Db) {
    let t = app_allowing_private(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let staff = sign_in(&app, "staff@teapot.test", PASSWORD).await;
    add_webhook(&app, &staff, &w.retailer_id, DEAD_END, &["complaint.filed"])
        .await
        .expect(200);
    let hook = t.store().webhooks_of(&w.retailer_id).unwrap()[0].clone();
    file(&app, &w).await;
    let delivery = t
        .store()
        .webhook_deliveries(&hook.id, None, 10)
        .unwrap()
        .items[0]
        .clone();
    let other = sign_in(&app, "staff@other.test", PASSWORD).await;
    let (_, own) = visit(&app, "/integration", &other).await;
    assert!(!own.contains(&hook.id), "not on their page");
    let token = csrf(&own);
    for (retailer, path) in [
        (
            &w.retailer_id,
            format!("/integration/webhooks/{}/delete", hook.id),
        ),
        (
            &w.other_retailer_id,
            format!("/integration/webhooks/{}/delete", hook.id),
        ),
        (
            &w.retailer_id,
            format!(
                "/integration/webhooks/{}/deliveries/{}/redeliver",
                hook.id, delivery.id
            ),
        ),
        (&w.retailer_id, "/integration/webhooks".to_owned()),
    ] {
        let answer = form(
            &app,
            &path,
            &other,
            &[
                ("csrf", token.as_str()),
                ("retailer", retailer.as_str()),
                ("url", "https://evil.example/hook"),
                ("events", "complaint.filed"),
            ],
        )
        .await;
        assert_eq!(answer.status, 404, "{path} for {retailer}");
    }
    assert_eq!(t.store().webhooks_of(&w.retailer_id).unwrap().len(), 1);
    // Admins may.
    let admin = sign_in(&app, "admin@odr.test", PASSWORD).await;
    let (_, theirs) = integration(&app, &admin, &w.retailer_id).await;
    assert!(theirs.contains(&hook.id));
}
