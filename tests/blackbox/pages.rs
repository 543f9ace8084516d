//! The complaint pages, as a browser uses them: a session cookie, forms
//! with their CSRF token, 303 after a step. They go through the same
//! domain rules as the API: buttons only for allowed actions, the same
//! refusals, nothing written by a GET or a forged POST.

use actix_web::http::{header, StatusCode};
use actix_web::test::{init_service, TestRequest};
use odr_tests::{on_both_databases, send, Answer, Db, TestApp};
use serde_json::json;

use crate::browsing::*;
use crate::steps::*;

on_both_databases!(
    a_customer_signs_in_files_by_icons_and_sees_the_timeline,
    a_refused_photo_files_nothing,
    the_offer_card_and_its_buttons_follow_the_role,
    forged_and_stale_forms_change_nothing,
    a_mediator_claims_decides_and_the_customer_rates,
    evidence_downloads_and_phrases_in_each_readers_language,
    an_admin_assigns_a_mediator_and_bad_values_are_explained_at_the_form
);

const BOUNDARY: &str = "odr-page-boundary-5f2c9a";

/// A step's form as a page shows it: its token and version, then `fields`.
async fn step(
    app: &impl App,
    path: &str,
    who: &str,
    shown: &str,
    fields: &[(&str, &str)],
) -> Answer {
    let (csrf, version) = (hidden(shown, "csrf"), hidden(shown, "version"));
    let mut all = vec![("csrf", csrf.as_str()), ("version", version.as_str())];
    all.extend_from_slice(fields);
    form(app, path, who, &all).await
}

/// A multipart form: text fields in order, then files as (field, name, bytes).
async fn multipart(
    app: &impl App,
    path: &str,
    who: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str, Vec<u8>)],
) -> Answer {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    for (name, file_name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    send(
        app,
        TestRequest::post()
            .uri(path)
            .insert_header((header::COOKIE, who.to_owned()))
            .insert_header((
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ))
            .set_payload(body),
    )
    .await
}

async fn a_customer_signs_in_files_by_icons_and_sees_the_timeline(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;

    let session = sign_in(&app, "chris@example.test", PASSWORD).await;

    let new = page(
        &app,
        &format!("/complaints/new?retailer={}", w.retailer_id),
        &session,
    )
    .await;
    assert_eq!(new.status, StatusCode::OK);
    let new = html(&new).to_owned();
    assert!(
        new.contains("File complaint"),
        "the filing form has its button"
    );
    assert!(
        new.contains(&format!("value=\"{}\" selected", w.retailer_id)),
        "the shop is preselected"
    );
    assert!(
        new.contains("id=\"category-damaged\""),
        "categories are icon tiles"
    );
    assert!(
        new.contains("data-needs-amount"),
        "remedies with an amount say so"
    );

    let filed = multipart(
        &app,
        "/complaints/new",
        &session,
        &[
            ("csrf", &hidden(&new, "csrf")),
            ("retailer_id", &w.retailer_id),
            ("category", "damaged"),
            ("desired_remedy", "full_refund"),
            ("amount", "19,99"),
            ("currency", "EUR"),
            ("order_reference", "A-2002"),
            ("description", "The kettle arrived with a cracked lid."),
        ],
        &[("photos", "lid.png", tiny_png())],
    )
    .await;
    let location = see_other(&filed);
    assert!(location.ends_with("?done=filed"), "{location}");
    let id = location
        .trim_start_matches("/complaints/")
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();

    let kinds: Vec<String> = t
        .store()
        .events(&id)
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(kinds, ["file", "attachment"], "filed, then the photo added");
    let view = get(&app, &format!("/api/v1/complaints/{id}"), &w.customer)
        .await
        .expect(200);
    assert_eq!(
        view["claimed_amount"],
        json!({"amount_minor": 1999, "currency": "EUR"})
    );

    let shown = page(&app, &location, &session).await;
    assert_eq!(shown.status, StatusCode::OK);
    let shown = html(&shown);
    assert!(
        shown.contains("Your complaint is filed"),
        "the notice of ?done=filed"
    );
    assert!(
        shown.contains("left for the shop to answer"),
        "who must act and the time left"
    );
    assert!(shown.contains("Complaint filed"), "the timeline in words");
    assert!(
        shown.contains("Evidence added: lid.png"),
        "the photo in the timeline"
    );
    assert!(shown.contains("EUR 19.99"), "the claimed amount");
    assert!(shown.contains("(UTC)"), "times name their zone");
}

async fn a_refused_photo_files_nothing(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let me = cookie(&w.customer);
    let new = page(&app, "/complaints/new", &me).await;
    let csrf = hidden(html(&new), "csrf");
    let refused = multipart(
        &app,
        "/complaints/new",
        &me,
        &[
            ("csrf", &csrf),
            ("retailer_id", &w.retailer_id),
            ("category", "damaged"),
            ("desired_remedy", "replacement"),
            ("order_reference", "A-3003"),
            ("description", "Broken."),
        ],
        &[("photos", "notes.txt", b"just some text".to_vec())],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&refused).contains("notes.txt is not a JPEG, PNG, WebP or PDF file"));
    assert!(
        html(&refused).contains("value=\"A-3003\""),
        "what was typed stays"
    );
    let mine = get(&app, "/api/v1/complaints", &w.customer)
        .await
        .expect(200);
    assert_eq!(
        mine["items"].as_array().map(Vec::len),
        Some(0),
        "nothing was filed"
    );

    // A bad amount and a missing description: 422 with both, nothing filed.
    let refused = multipart(
        &app,
        "/complaints/new",
        &me,
        &[
            ("csrf", &csrf),
            ("retailer_id", &w.retailer_id),
            ("category", "damaged"),
            ("desired_remedy", "full_refund"),
            ("amount", "lots"),
            ("order_reference", "A-3003"),
            ("description", ""),
        ],
        &[],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&refused).contains("Please type the amount as a number"));
    let mine = get(&app, "/api/v1/complaints", &w.customer)
        .await
        .expect(200);
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(0));
}

async fn the_offer_card_and_its_buttons_follow_the_role(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let id = id(&file(&app, &w).await);
    let path = format!("/complaints/{id}");
    let (customer, staff) = (cookie(&w.customer), cookie(&w.staff));

    let shop_page = page(&app, &path, &staff).await;
    let shop_buttons = buttons(html(&shop_page));
    assert!(
        shop_buttons.iter().any(|b| b == "Make offer"),
        "{shop_buttons:?}"
    );
    assert!(shop_buttons.iter().any(|b| b == "Acknowledge"));
    assert!(!shop_buttons.iter().any(|b| b == "Accept offer"));
    let customer_page = page(&app, &path, &customer).await;
    let customer_buttons = buttons(html(&customer_page));
    assert!(!customer_buttons
        .iter()
        .any(|b| b == "Make offer" || b == "Accept offer"));
    assert!(customer_buttons.iter().any(|b| b == "Withdraw complaint"));

    let offered = step(
        &app,
        &format!("{path}/offers"),
        &staff,
        html(&shop_page),
        &[
            ("remedy", "partial_refund"),
            ("amount", "12.50"),
            ("message", "We can refund half."),
        ],
    )
    .await;
    assert!(see_other(&offered).ends_with("?done=offered"));

    let customer_page = page(&app, &path, &customer).await;
    let shown = html(&customer_page);
    assert!(shown.contains("offer-card"), "the offer as a card");
    assert!(shown.contains("EUR 12.50"));
    let customer_buttons = buttons(shown);
    assert!(customer_buttons.iter().any(|b| b == "Accept offer"));
    assert!(customer_buttons.iter().any(|b| b == "Reject offer"));
    let shop_page = page(&app, &path, &staff).await;
    assert!(!buttons(html(&shop_page))
        .iter()
        .any(|b| b == "Accept offer" || b == "Reject offer"));

    let accepted = form(
        &app,
        &format!("{path}/accept"),
        &customer,
        &[
            ("csrf", &hidden(shown, "csrf")),
            ("offer_id", &hidden(shown, "offer_id")),
        ],
    )
    .await;
    assert!(see_other(&accepted).ends_with("?done=accepted"));
    let shop_page = page(&app, &path, &staff).await;
    assert!(buttons(html(&shop_page))
        .iter()
        .any(|b| b == "Mark as fulfilled"));
    assert!(
        html(&shop_page).contains("Offer accepted"),
        "the timeline says so"
    );
}

async fn forged_and_stale_forms_change_nothing(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let id = id(&file(&app, &w).await);
    let path = format!("/complaints/{id}");
    let staff = cookie(&w.staff);
    let shop_page = page(&app, &path, &staff).await;
    let (csrf, version) = (
        hidden(html(&shop_page), "csrf"),
        hidden(html(&shop_page), "version"),
    );

    let forged = form(
        &app,
        &format!("{path}/acknowledge"),
        &staff,
        &[("version", &version)],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "no token: refused");
    let cross_site = send(
        &app,
        TestRequest::post()
            .uri(&format!("{path}/acknowledge"))
            .insert_header((header::COOKIE, staff.clone()))
            .insert_header((header::ORIGIN, "https://evil.example"))
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload(format!("csrf={csrf}&version={version}")),
    )
    .await;
    assert_eq!(
        cross_site.status,
        StatusCode::FORBIDDEN,
        "another site: refused"
    );
    let forged_upload = multipart(
        &app,
        &format!("{path}/evidence"),
        &staff,
        &[],
        &[("file", "x.png", tiny_png())],
    )
    .await;
    assert_eq!(
        forged_upload.status,
        StatusCode::FORBIDDEN,
        "a file before the token: refused"
    );
    assert_eq!(
        t.store().events(&id).unwrap().len(),
        1,
        "nothing was written"
    );

    // The customer withdraws meanwhile: the shop's page is stale.
    let customer_page = page(&app, &path, &cookie(&w.customer)).await;
    let withdrawn = step(
        &app,
        &format!("{path}/withdraw"),
        &cookie(&w.customer),
        html(&customer_page),
        &[],
    )
    .await;
    see_other(&withdrawn);
    let stale = form(
        &app,
        &format!("{path}/acknowledge"),
        &staff,
        &[("csrf", &csrf), ("version", &version)],
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(
        html(&stale).contains("Someone else acted on this complaint"),
        "{}",
        html(&stale)
    );
    assert!(
        html(&stale).starts_with("<!doctype html>"),
        "a page, never JSON"
    );
    assert_eq!(
        t.store().events(&id).unwrap().len(),
        2,
        "only the withdrawal"
    );
}

async fn a_mediator_claims_decides_and_the_customer_rates(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let id = id(&file(&app, &w).await);
    act(
        &app,
        &id,
        "escalate",
        &w.customer,
        json!({"reason": "no_offer"}),
    )
    .await
    .expect(200);
    let path = format!("/complaints/{id}");
    let mediator = cookie(&w.mediator);

    let summary = page(&app, &path, &mediator).await;
    assert_eq!(summary.status, StatusCode::OK);
    assert_eq!(
        buttons(html(&summary))
            .iter()
            .filter(|b| *b == "Take this case")
            .count(),
        1
    );
    assert!(
        !html(&summary).contains("Timeline"),
        "the case file waits for the claim"
    );
    let claimed = step(
        &app,
        &format!("{path}/mediator"),
        &mediator,
        html(&summary),
        &[("mediator_id", &w.mediator.id)],
    )
    .await;
    assert!(see_other(&claimed).ends_with("?done=claimed"));

    let case_file = page(&app, &path, &mediator).await;
    let shown = html(&case_file);
    assert!(
        shown.contains("Case file") && shown.contains("The teapot arrived with a cracked lid.")
    );
    assert!(buttons(shown).iter().any(|b| b == "Send decision"));
    let decided = step(
        &app,
        &format!("{path}/decision"),
        &mediator,
        shown,
        &[
            ("in_favour_of", "customer"),
            ("remedy", "partial_refund"),
            ("amount", "25"),
            ("reasoning", "The photos show the crack on arrival."),
        ],
    )
    .await;
    assert!(see_other(&decided).ends_with("?done=decided"));

    let customer = cookie(&w.customer);
    let rate = page(&app, &format!("{path}?feedback=4"), &customer).await;
    let shown = html(&rate);
    assert!(
        shown.contains("id=\"score-4\" value=\"4\" required checked"),
        "the mail's score is preselected"
    );
    assert!(buttons(shown).iter().any(|b| b == "Send feedback"));
    assert!(
        t.store().feedback(&id).unwrap().is_none(),
        "a GET never writes"
    );
    let rated = form(
        &app,
        &format!("{path}/feedback"),
        &customer,
        &[
            ("csrf", &hidden(shown, "csrf")),
            ("score", "4"),
            ("comment", "Fair."),
        ],
    )
    .await;
    assert!(see_other(&rated).ends_with("?done=feedback"));
    assert_eq!(t.store().feedback(&id).unwrap().map(|f| f.score), Some(4));
    let again = form(
        &app,
        &format!("{path}/feedback"),
        &customer,
        &[("csrf", &hidden(shown, "csrf")), ("score", "5")],
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(html(&again).contains("already been given"));
}

async fn evidence_downloads_and_phrases_in_each_readers_language(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let id = id(&file(&app, &w).await);
    let path = format!("/complaints/{id}");
    let customer = cookie(&w.customer);
    let shown = page(&app, &path, &customer).await;
    let csrf = hidden(html(&shown), "csrf");

    let sent = multipart(
        &app,
        &format!("{path}/messages"),
        &customer,
        &[
            ("csrf", &csrf),
            ("phrase_codes", "photos_attached"),
            ("phrase_codes", "thank_you"),
            ("body", "See the lid."),
        ],
        &[("file", "lid.png", tiny_png())],
    )
    .await;
    assert!(see_other(&sent).ends_with("?done=message"));
    let attachments = t.store().attachments_of(&id).unwrap();
    assert_eq!(attachments.len(), 1, "the file became evidence");
    let messages = t.store().messages(&id).unwrap();
    assert_eq!(messages[0].attachment_ids, vec![attachments[0].id.clone()]);

    // The shop reads in German, the customer in English.
    let german = format!("{}; odr_locale=de", cookie(&w.staff));
    let shop_page = page(&app, &path, &german).await;
    assert!(
        html(&shop_page).contains("Vielen Dank."),
        "phrases in the reader's language"
    );
    let customer_page = page(&app, &path, &customer).await;
    assert!(html(&customer_page).contains("Thank you."));

    let href = format!("{path}/evidence/{}", attachments[0].id);
    let download = send(
        &app,
        TestRequest::get()
            .uri(&href)
            .insert_header((header::COOKIE, cookie(&w.staff))),
    )
    .await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.header("content-type"), Some("image/png"));
    assert_eq!(download.header("x-content-type-options"), Some("nosniff"));
    assert!(download
        .header("content-disposition")
        .is_some_and(|d| d.starts_with("attachment")));
    let stranger = send(
        &app,
        TestRequest::get()
            .uri(&href)
            .insert_header((header::COOKIE, cookie(&w.other_customer))),
    )
    .await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
}

async fn an_admin_assigns_a_mediator_and_bad_values_are_explained_at_the_form(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let id = id(&file(&app, &w).await);
    let path = format!("/complaints/{id}");

    let staff = cookie(&w.staff);
    let shop_page = page(&app, &path, &staff).await;
    let bad_offer = step(
        &app,
        &format!("{path}/offers"),
        &staff,
        html(&shop_page),
        &[
            ("remedy", "partial_refund"),
            ("amount", "a lot"),
            ("message", "Half back."),
        ],
    )
    .await;
    assert_eq!(bad_offer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let shown = html(&bad_offer);
    assert!(
        shown.contains("id=\"problem-offer\""),
        "the reason sits at the form"
    );
    assert!(shown.contains("Please type the amount as a number"));
    assert!(shown.contains("value=\"a lot\""), "what was typed stays");
    assert_eq!(
        t.store().events(&id).unwrap().len(),
        1,
        "nothing was written"
    );

    act(
        &app,
        &id,
        "escalate",
        &w.customer,
        json!({"reason": "no_offer"}),
    )
    .await
    .expect(200);
    let admin = cookie(&w.admin);
    let admin_page = page(&app, &path, &admin).await;
    let shown = html(&admin_page);
    assert!(buttons(shown).iter().any(|b| b == "Assign mediator"));
    assert!(shown.contains(&format!("<option value=\"{}\"", w.mediator.id)));
    let assigned = step(
        &app,
        &format!("{path}/mediator"),
        &admin,
        shown,
        &[("mediator_id", &w.other_mediator.id)],
    )
    .await;
    assert!(see_other(&assigned).ends_with("?done=assigned"));
    let view = get(&app, &format!("/api/v1/complaints/{id}"), &w.admin)
        .await
        .expect(200);
    assert_eq!(view["mediator_id"], json!(w.other_mediator.id));
    // The mediator who was not assigned no longer sees the complaint.
    let other = page(&app, &path, &cookie(&w.mediator)).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
}
