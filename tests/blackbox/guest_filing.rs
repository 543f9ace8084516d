//! Filing without an account: an email, the order reference and the
//! complaint; nothing is filed until the link mailed to that email is
//! opened, and then exactly once. No answer tells whether the email has an
//! account, and nobody gains an account by claiming an email.

use std::time::Duration;

use actix_web::http::{header, Method};
use actix_web::test::{init_service, TestRequest};
use odr_tests::smtp::SmtpSink;
use odr_tests::{call, on_both_databases, send, Answer, Db, Person, TestApp};
use serde_json::{json, Value};

use crate::browsing::*;
use crate::steps::*;

on_both_databases!(
    a_guest_files_by_real_mail_accepts_an_offer_and_sets_a_password,
    a_guest_link_files_once_and_expires,
    guest_filing_tells_nobody_who_has_an_account,
    register_with_a_taken_email_stays_409,
    the_report_page_files_without_an_account
);

fn complaint(retailer_id: &str, email: &str) -> Value {
    json!({
        "email": email,
        "retailer_id": retailer_id,
        "order_reference": "G-3003",
        "category": "damaged",
        "desired_remedy": "partial_refund",
        "claimed_amount": {"amount_minor": 1200, "currency": "EUR"},
        "description": "The spout of the teapot is chipped.",
        "locale": "en",
        "items": [{"sku": "TP-1", "name": "Blue Teapot", "quantity": 1}]
    })
}

async fn file_as_guest(app: &impl App, body: Value) -> Answer {
    call(
        app,
        Method::POST,
        "/api/v1/complaints/guest",
        None,
        Some(body),
    )
    .await
}

async fn redeem(app: &impl App, token: &str) -> Answer {
    call(
        app,
        Method::POST,
        "/api/v1/auth/magic-link/redeem",
        None,
        Some(json!({"token": token})),
    )
    .await
}

/// The token of the newest guest-filing mail queued for `email`.
fn guest_token(t: &TestApp, email: &str) -> String {
    let rows = t.store().outbox_to_address(email).unwrap();
    let row = rows
        .iter()
        .rev()
        .find(|r| r.template == "guest_filing")
        .unwrap_or_else(|| panic!("no guest filing mail for {email}: {rows:?}"));
    let url = row.payload["magic_link"]["url"].as_str().unwrap();
    url.split_once("/sign-in?token=").unwrap().1.to_owned()
}

/// Every complaint about the test retailer, as its staff see them.
async fn shop_complaints(app: &impl App, staff: &Person) -> Vec<Value> {
    get(app, "/api/v1/complaints", staff).await.expect(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn a_guest_files_by_real_mail_accepts_an_offer_and_sets_a_password(db: Db) {
    let sink = SmtpSink::start();
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let sent = file_as_guest(&app, complaint(&w.retailer_id, "Gina.Guest@Example.test"))
        .await
        .expect(202);
    assert_eq!(
        sent,
        json!({"status": "confirmation_sent", "email": "gina.guest@example.test"})
    );
    assert!(
        shop_complaints(&app, &w.staff).await.is_empty(),
        "nothing is filed before the email is proven"
    );
    assert!(t
        .store()
        .user_by_email("gina.guest@example.test")
        .unwrap()
        .is_none());

    // The link arrives by real SMTP, through the mail worker.
    let report = crate::mail::worker(&t, &sink)
        .run_once()
        .await
        .expect("a delivery pass");
    assert_eq!(report.sent, 1, "{report:?}");
    let mails = sink.wait_for(1, Duration::from_secs(10));
    let mail = &mails[0];
    assert_eq!(mail.envelope_to, vec!["gina.guest@example.test".to_owned()]);
    let subject = mail.subject.as_deref().unwrap_or_default();
    assert!(subject.contains("Teapot Shop"), "names the shop: {subject}");
    let text = mail.text.as_deref().unwrap_or_default();
    assert!(
        text.contains("Open this link to send your complaint to Teapot Shop"),
        "{text}"
    );
    let marker = "http://odr.test/sign-in?token=";
    let start = text.find(marker).expect("the link is in the mail") + marker.len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert_eq!(token, guest_token(&t, "gina.guest@example.test"));

    let login = redeem(&app, &token).await.expect(200);
    let complaint_id = login["complaint_id"]
        .as_str()
        .expect("the filed complaint")
        .to_owned();
    let user = t
        .store()
        .user_by_email("gina.guest@example.test")
        .unwrap()
        .expect("a customer for the proven email");
    assert!(user.password_hash.is_none());
    let guest = Person {
        id: user.id.clone(),
        token: login["access_token"].as_str().unwrap().to_owned(),
    };
    let filed = get(&app, &format!("/api/v1/complaints/{complaint_id}"), &guest)
        .await
        .expect(200);
    assert_eq!(filed["state"], "filed");
    assert_eq!(filed["order_reference"], "G-3003");
    assert_eq!(filed["customer_id"], user.id.as_str());
    assert_eq!(shop_complaints(&app, &w.staff).await.len(), 1);

    // Followed like any complaint: the shop offers, the guest accepts.
    act(&app, &complaint_id, "acknowledge", &w.staff, json!({}))
        .await
        .expect(200);
    act(
        &app,
        &complaint_id,
        "offers",
        &w.staff,
        json!({"remedy": "partial_refund", "amount": {"amount_minor": 1200, "currency": "EUR"}}),
    )
    .await
    .expect(200);
    act(
        &app,
        &complaint_id,
        "messages",
        &guest,
        json!({"body": "Thank you."}),
    )
    .await
    .expect(201);
    let accepted = act(&app, &complaint_id, "accept", &guest, json!({}))
        .await
        .expect(200);
    assert_eq!(accepted["state"], "accepted");

    // Within 15 minutes of the link, a password without the current one.
    t.clock.advance(chrono::Duration::minutes(10));
    call(
        &app,
        Method::PUT,
        "/api/v1/me/password",
        Some(&guest),
        Some(json!({"password": "gina's own passphrase"})),
    )
    .await
    .expect(204);
    call(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"email": "gina.guest@example.test", "password": "gina's own passphrase"})),
    )
    .await
    .expect(200);
}

async fn a_guest_link_files_once_and_expires(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    file_as_guest(&app, complaint(&w.retailer_id, "once@example.test"))
        .await
        .expect(202);
    let token = guest_token(&t, "once@example.test");
    redeem(&app, &token).await.expect(200);
    let again = redeem(&app, &token).await;
    assert_eq!(again.status, 401, "a used link is refused: {}", again.body);
    assert_eq!(
        shop_complaints(&app, &w.staff).await.len(),
        1,
        "filed exactly once"
    );

    file_as_guest(&app, complaint(&w.retailer_id, "late@example.test"))
        .await
        .expect(202);
    let late = guest_token(&t, "late@example.test");
    t.clock.advance(chrono::Duration::minutes(16));
    let expired = redeem(&app, &late).await;
    assert_eq!(expired.status, 401, "an expired link is refused");
    assert_eq!(shop_complaints(&app, &w.staff).await.len(), 1);
    assert!(t
        .store()
        .user_by_email("late@example.test")
        .unwrap()
        .is_none());
    // The sign-in page refuses a used link too, and files nothing.
    let shown = form(&app, "/sign-in/redeem", "", &[("token", token.as_str())]).await;
    assert_eq!(shown.status, 401);
    assert_eq!(shop_complaints(&app, &w.staff).await.len(), 1);
}

async fn guest_filing_tells_nobody_who_has_an_account(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let known = t.store().user(&w.customer.id).unwrap().unwrap().email;
    let a = file_as_guest(&app, complaint(&w.retailer_id, &known)).await;
    let b = file_as_guest(&app, complaint(&w.retailer_id, "nobody@example.test")).await;
    assert_eq!(a.status, 202);
    assert_eq!(b.status, 202);
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&a.body), keys(&b.body));
    assert_eq!(a.body["status"], b.body["status"]);
    assert_eq!(a.body["email"], known.as_str());
    for email in [known.as_str(), "nobody@example.test"] {
        let rows = t.store().outbox_to_address(email).unwrap();
        assert_eq!(
            rows.iter().filter(|r| r.template == "guest_filing").count(),
            1,
            "{email} gets the link alike"
        );
    }
    // The known email's link files for that account, not a new one.
    let login = redeem(&app, &guest_token(&t, &known)).await.expect(200);
    let c = login["complaint_id"].as_str().unwrap();
    let filed = get(&app, &format!("/api/v1/complaints/{c}"), &w.customer)
        .await
        .expect(200);
    assert_eq!(filed["customer_id"], w.customer.id.as_str());

    // Bad fields are named, the email among them, and nothing is mailed.
    let mut bad = complaint(&w.retailer_id, "not an email");
    bad["category"] = json!("no_such_category");
    bad["retailer_id"] = json!("no-such-shop");
    let refused = file_as_guest(&app, bad).await.expect(422);
    let fields: Vec<&str> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in ["email", "category", "retailer_id"] {
        assert!(fields.contains(&f), "{f} named: {fields:?}");
    }
    assert!(t
        .store()
        .outbox_to_address("not an email")
        .unwrap()
        .is_empty());
    // Rate limited like magic links, per email.
    let mut last = 0;
    for _ in 0..10 {
        last = file_as_guest(&app, complaint(&w.retailer_id, "busy@example.test"))
            .await
            .status
            .as_u16();
    }
    assert_eq!(last, 429, "asking again and again is slowed down");
}

async fn register_with_a_taken_email_stays_409(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    // An account without a password, made by a guest's link.
    file_as_guest(&app, complaint(&w.retailer_id, "nopass@example.test"))
        .await
        .expect(202);
    redeem(&app, &guest_token(&t, "nopass@example.test"))
        .await
        .expect(200);
    let known = t.store().user(&w.customer.id).unwrap().unwrap().email;
    for email in ["nopass@example.test", known.as_str()] {
        let taken = call(
            &app,
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(
                json!({"email": email, "password": "claiming this one", "display_name": "Mallory"}),
            ),
        )
        .await
        .expect(409);
        assert_eq!(taken["code"], "email_taken", "{email}");
    }
    let user = t
        .store()
        .user_by_email("nopass@example.test")
        .unwrap()
        .unwrap();
    assert!(user.password_hash.is_none(), "nobody claimed the account");
}

async fn the_report_page_files_without_an_account(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let (status, shown) = visit(&app, "/report", "").await;
    assert_eq!(status, 200);
    assert!(shown.contains("name=\"email\""), "{shown}");
    assert!(shown.contains("action=\"/report\""));
    assert!(shown.contains("Teapot Shop"), "a shop picker");
    assert!(
        !shown.contains("name=\"photos\""),
        "photos come after the link"
    );

    const BOUNDARY: &str = "odr-report-boundary";
    let fields = [
        ("email", "page.guest@example.test"),
        ("retailer_id", w.retailer_id.as_str()),
        ("order_reference", "P-4004"),
        ("category", "damaged"),
        ("desired_remedy", "replacement"),
        ("description", "Broken handle."),
    ];
    let multipart = |fields: &[(&str, &str)]| {
        let mut body = String::new();
        for (name, value) in fields {
            body.push_str(&format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!("--{BOUNDARY}--\r\n"));
        TestRequest::post()
            .uri("/report")
            .insert_header(("sec-fetch-site", "same-origin"))
            .insert_header((
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ))
            .set_payload(body)
    };
    let sent = send(&app, multipart(&fields)).await;
    assert_eq!(sent.status, 200, "{}", html(&sent));
    assert!(
        html(&sent).contains("One step left: open the link we sent to page.guest@example.test"),
        "{}",
        html(&sent)
    );
    let token = guest_token(&t, "page.guest@example.test");
    // The sign-in page uses the link and leads to the new complaint.
    let (status, landing) = visit(&app, &format!("/sign-in?token={token}"), "").await;
    assert_eq!(status, 200);
    assert!(landing.contains(&token));
    let used = form(&app, "/sign-in/redeem", "", &[("token", token.as_str())]).await;
    let target = see_other(&used);
    assert!(target.starts_with("/complaints/"), "{target}");
    let filed = shop_complaints(&app, &w.staff).await;
    assert_eq!(filed.len(), 1);
    assert_eq!(filed[0]["order_reference"], "P-4004");
    assert!(target.contains(filed[0]["id"].as_str().unwrap()));

    // A bad field shows the form again, naming it, and mails nothing.
    let mut bad = fields;
    bad[0] = ("email", "broken.example.test");
    let refused = send(&app, multipart(&bad)).await;
    assert_eq!(refused.status, 422);
    assert!(html(&refused).contains("value=\"broken.example.test\""));
    assert!(t
        .store()
        .outbox_to_address("broken.example.test")
        .unwrap()
        .is_empty());
}
