//! Handing a case on: the JSON export of one complaint (every event in
//! order, offers, messages with their phrases in words, evidence with
//! checksums that match the bytes), who may export it, the printable case
//! file in the reader's language, and a shop's complaints of a period as
//! CSV (only that shop and period, quoting, formulas defused).

use actix_web::http::{header, Method, StatusCode};
use actix_web::test::{init_service, TestRequest};
use chrono::{DateTime, Utc};
use odr_tests::{call, on_both_databases, send, Answer, Db, Person, TestApp, World};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::browsing::{cookie, html, page};
use crate::steps::*;

on_both_databases!(
    the_export_holds_the_whole_case_in_log_order,
    only_the_parties_the_assigned_mediator_and_admins_export_a_case,
    the_printable_case_file_speaks_the_readers_language,
    the_csv_lists_one_row_per_complaint_of_the_shop_and_period,
    the_csv_is_for_the_shops_staff_and_admins_only
);

/// Uploads `bytes` as evidence named `name`.
async fn attach(app: &impl App, c: &str, who: &Person, name: &str, bytes: &[u8]) -> Value {
    let boundary = "odr-export-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = TestRequest::default()
        .method(Method::POST)
        .uri(&format!("/api/v1/complaints/{c}/attachments"))
        .insert_header((header::AUTHORIZATION, format!("Bearer {}", who.token)))
        .insert_header((
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        ))
        .set_payload(body);
    send(app, req).await.expect(201)
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A whole dispute: acknowledged, an offer rejected, a message with
/// phrases, a photo, escalated, decided by the assigned mediator, rated.
async fn decided_case(app: &impl App, w: &World) -> String {
    let c = id(&file(app, w).await);
    act(app, &c, "acknowledge", &w.staff, json!({}))
        .await
        .expect(200);
    act(
        app,
        &c,
        "offers",
        &w.staff,
        json!({"remedy": "partial_refund", "amount": {"amount_minor": 1000, "currency": "EUR"}}),
    )
    .await
    .expect(200);
    act(
        app,
        &c,
        "reject",
        &w.customer,
        json!({"reason": "amount_too_low", "message": "Half is not enough."}),
    )
    .await
    .expect(200);
    act(
        app,
        &c,
        "messages",
        &w.customer,
        json!({"body": "See the photo.", "phrase_codes": ["photos_attached"]}),
    )
    .await
    .expect(201);
    attach(app, &c, &w.customer, "lid.png", &tiny_png()).await;
    shop_escalates(app, &c, w).await;
    act(
        app,
        &c,
        "mediator",
        &w.admin,
        json!({"mediator_id": w.mediator.id}),
    )
    .await
    .expect(200);
    act(
        app,
        &c,
        "decision",
        &w.mediator,
        json!({"in_favour_of": "customer", "remedy": "full_refund",
               "amount": {"amount_minor": 2500, "currency": "EUR"},
               "reasoning": "The photo shows the lid cracked in transit."}),
    )
    .await
    .expect(200);
    act(app, &c, "feedback", &w.customer, json!({"score": 4}))
        .await
        .expect(201);
    c
}

async fn export(app: &impl App, c: &str, who: &Person) -> Answer {
    get(app, &format!("/api/v1/complaints/{c}/export"), who).await
}

async fn the_export_holds_the_whole_case_in_log_order(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = decided_case(&app, &w).await;

    let answer = export(&app, &c, &w.customer).await;
    let disposition = answer
        .header("content-disposition")
        .unwrap_or_default()
        .to_owned();
    let doc = answer.expect(200);
    let reference = doc["complaint"]["reference"].as_str().unwrap();
    assert!(
        disposition.starts_with("attachment") && disposition.contains(&format!("{reference}.json")),
        "a download named after the reference: {disposition}"
    );
    assert_eq!(doc["engine"]["name"], "odr");
    assert!(doc["engine"]["version"].is_string());
    assert!(doc["exported_at"].is_string());
    assert_eq!(doc["retailer"]["name"], "Teapot Shop");
    assert_eq!(doc["complaint"]["id"], c.as_str());
    assert_eq!(doc["complaint"]["outcome"], "decided");

    // Every event, in order, exactly as the log lists it.
    let events = doc["events"].as_array().unwrap();
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>());
    let log = get(&app, &format!("/api/v1/complaints/{c}/events"), &w.customer)
        .await
        .expect(200);
    assert_eq!(&doc["events"], &log["items"]);
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types.first(), Some(&"file"));
    assert_eq!(types.last(), Some(&"feedback"));

    let offers = doc["offers"].as_array().unwrap();
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0]["status"], "rejected");
    assert_eq!(offers[0]["rejection"]["reason"], "amount_too_low");

    let messages = doc["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["body"], "See the photo.");
    assert_eq!(messages[0]["phrase_codes"], json!(["photos_attached"]));
    assert_eq!(messages[0]["phrases"][0]["code"], "photos_attached");
    assert!(
        messages[0]["phrases"][0]["label"]
            .as_str()
            .is_some_and(|l| !l.is_empty() && l != "photos_attached"),
        "phrases come with their words: {}",
        messages[0]
    );

    let attachments = doc["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0]["file_name"], "lid.png");
    assert_eq!(attachments[0]["content_type"], "image/png");
    assert_eq!(attachments[0]["size"], tiny_png().len());
    assert_eq!(attachments[0]["sha256"], hex_sha256(&tiny_png()));
    assert_eq!(attachments[0]["uploaded_by"], w.customer.id.as_str());

    assert_eq!(doc["feedback"]["score"], 4);
}

async fn only_the_parties_the_assigned_mediator_and_admins_export_a_case(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    export(&app, &c, &w.customer).await.expect(200);
    export(&app, &c, &w.staff).await.expect(200);
    export(&app, &c, &w.admin).await.expect(200);
    for stranger in [&w.other_customer, &w.other_staff, &w.mediator] {
        let answer = export(&app, &c, stranger).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
    }
    let missing = export(&app, "no-such-complaint", &w.admin).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let anonymous = call(
        &app,
        Method::GET,
        &format!("/api/v1/complaints/{c}/export"),
        None,
        None,
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    // Escalated: a mediator sees it in the queue but reads the case only
    // once it is theirs.
    shop_escalates(&app, &c, &w).await;
    export(&app, &c, &w.mediator).await.expect(403);
    act(
        &app,
        &c,
        "mediator",
        &w.admin,
        json!({"mediator_id": w.mediator.id}),
    )
    .await
    .expect(200);
    export(&app, &c, &w.mediator).await.expect(200);
    export(&app, &c, &w.other_mediator).await.expect(404);
}

async fn the_printable_case_file_speaks_the_readers_language(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = decided_case(&app, &w).await;
    let path = format!("/complaints/{c}/case-file");
    let sha = hex_sha256(&tiny_png());

    call(
        &app,
        Method::PATCH,
        "/api/v1/me",
        Some(&w.staff),
        Some(json!({"locale": "de"})),
    )
    .await
    .expect(200);
    let german = page(&app, &path, &cookie(&w.staff)).await;
    assert_eq!(german.status, StatusCode::OK);
    let text = html(&german);
    assert!(
        text.contains("<html lang=\"de\""),
        "in the reader's language"
    );
    assert!(text.contains("Fallakte"), "German words: {text}");
    assert!(text.contains("Drucken oder als PDF speichern"));
    assert!(
        text.contains("data-print"),
        "the print button uses the script"
    );
    assert!(text.contains(&sha), "the evidence checksum is printed");
    assert!(text.contains("The photo shows the lid cracked in transit."));
    assert!(text.contains("Half is not enough."));
    assert!(text.contains("See the photo."));
    assert!(!text.contains("<script>"), "no inline script under the CSP");

    let english = page(&app, &path, &cookie(&w.customer)).await;
    let text = html(&english);
    assert!(text.contains("Print or save as PDF"));
    assert!(text.contains(&sha));

    // The complaint page links to both; the JSON comes with the session.
    let complaint = page(&app, &format!("/complaints/{c}"), &cookie(&w.customer)).await;
    assert!(html(&complaint).contains(&format!("href=\"/complaints/{c}/case-file\"")));
    assert!(html(&complaint).contains(&format!("href=\"/complaints/{c}/export.json\"")));
    let json = page(
        &app,
        &format!("/complaints/{c}/export.json"),
        &cookie(&w.customer),
    )
    .await;
    assert_eq!(json.status, StatusCode::OK);
    assert_eq!(json.body["complaint"]["id"], c.as_str());
    assert_eq!(json.body["attachments"][0]["sha256"], sha.as_str());
    assert!(json
        .header("content-disposition")
        .is_some_and(|d| d.starts_with("attachment")));

    let stranger = page(&app, &path, &cookie(&w.other_customer)).await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
}

/// A CSV document split into rows of cells (RFC 4180: quoted cells may
/// hold commas, doubled quotes and line breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut cell) = (Vec::new(), String::new());
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') | (false, '"') => quoted = !quoted,
            (true, other) => cell.push(other),
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, other) => cell.push(other),
        }
    }
    rows
}

async fn csv(app: &impl App, retailer: &str, query: &str, who: &Person) -> Answer {
    get(
        app,
        &format!("/api/v1/retailers/{retailer}/complaints.csv{query}"),
        who,
    )
    .await
}

async fn file_at(
    app: &impl App,
    t: &TestApp,
    who: &Person,
    retailer: &str,
    when: &str,
    order: &str,
    description: &str,
) -> String {
    let at: DateTime<Utc> = when.parse().unwrap();
    t.clock.set(at);
    id(&post(
        app,
        "/api/v1/complaints",
        who,
        json!({
            "retailer_id": retailer, "order_reference": order, "category": "damaged",
            "desired_remedy": "partial_refund",
            "claimed_amount": {"amount_minor": 2500, "currency": "EUR"},
            "description": description,
        }),
    )
    .await
    .expect(201))
}

async fn the_csv_lists_one_row_per_complaint_of_the_shop_and_period(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let tricky = "He said \"no\", then\nhung up.";
    let before = file_at(
        &app,
        &t,
        &w.customer,
        &w.retailer_id,
        "2026-12-01T23:59:59Z",
        "B-1",
        "Too early.",
    )
    .await;
    let first = file_at(
        &app,
        &t,
        &w.customer,
        &w.retailer_id,
        "2026-12-02T08:00:00Z",
        "=1+2",
        tricky,
    )
    .await;
    let second = file_at(
        &app,
        &t,
        &w.other_customer,
        &w.retailer_id,
        "2026-12-04T10:00:00Z",
        "A-2",
        "@SUM(A1)",
    )
    .await;
    let other_shop = file_at(
        &app,
        &t,
        &w.customer,
        &w.other_retailer_id,
        "2026-12-03T10:00:00Z",
        "O-1",
        "Other shop.",
    )
    .await;
    let after = file_at(
        &app,
        &t,
        &w.customer,
        &w.retailer_id,
        "2026-12-05T00:00:00Z",
        "C-1",
        "Too late.",
    )
    .await;
    act(&app, &first, "acknowledge", &w.staff, json!({}))
        .await
        .expect(200);
    shop_escalates(&app, &second, &w).await;

    let answer = csv(
        &app,
        &w.retailer_id,
        "?from=2026-12-02&to=2026-12-04",
        &w.staff,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    assert!(answer
        .header("content-disposition")
        .is_some_and(|d| d.starts_with("attachment") && d.contains(".csv")));
    let text = answer.body.as_str().unwrap().to_owned();
    assert!(
        text.contains("\"He said \"\"no\"\", then\nhung up.\""),
        "quoted: {text}"
    );
    assert!(text.contains(",'=1+2,"), "a formula is defused: {text}");
    let rows = parse_csv(&text);
    let head = &rows[0];
    let col = |name: &str| {
        head.iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name} in {head:?}"))
    };
    assert_eq!(head[0], "id");
    let ids: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        ids,
        vec![first.as_str(), second.as_str()],
        "only the shop's complaints of the period, oldest first"
    );
    for r in &rows {
        assert_eq!(r.len(), head.len(), "every row has every column: {r:?}");
    }
    let (one, two) = (&rows[1], &rows[2]);
    assert_eq!(one[col("order_reference")], "'=1+2");
    assert_eq!(one[col("description")], tricky, "the text comes back whole");
    assert_eq!(two[col("description")], "'@SUM(A1)");
    assert_eq!(one[col("filed_at")], "2026-12-02T08:00:00Z");
    assert_eq!(one[col("state")], "acknowledged");
    assert_eq!(one[col("claimed_amount")], "25.00");
    assert_eq!(one[col("currency")], "EUR");
    assert_eq!(one[col("customer_email")], "chris@example.test");
    assert!(
        !one[col("first_response_at")].is_empty(),
        "the acknowledgement is the first response"
    );
    assert_eq!(one[col("escalated")], "false");
    assert_eq!(two[col("state")], "escalated");
    assert_eq!(two[col("escalated")], "true");
    assert_eq!(two[col("customer_email")], "eve@example.test");
    assert!(
        !ids.contains(&before.as_str())
            && !ids.contains(&after.as_str())
            && !ids.contains(&other_shop.as_str())
    );

    // The rows come a keyset page at a time; pages of one row give the same.
    let (from, to) = (
        "2026-12-02T00:00:00Z".parse().unwrap(),
        "2026-12-05T00:00:00Z".parse().unwrap(),
    );
    let (mut paged, mut after) = (Vec::new(), None);
    loop {
        let (rows, next) = t
            .store()
            .period_complaints(&w.retailer_id, from, to, after.as_ref(), 1)
            .unwrap();
        paged.extend(rows.into_iter().map(|r| r.complaint.facts().id.clone()));
        match next {
            Some(cursor) => after = Some(cursor),
            None => break,
        }
    }
    assert_eq!(paged, vec![first.clone(), second.clone()]);

    // Admins too; an empty period is a header alone.
    let admin = csv(
        &app,
        &w.retailer_id,
        "?from=2026-12-02&to=2026-12-04",
        &w.admin,
    )
    .await;
    assert_eq!(parse_csv(admin.body.as_str().unwrap()).len(), 3);
    let empty = csv(
        &app,
        &w.retailer_id,
        "?from=2025-01-01&to=2025-01-31",
        &w.admin,
    )
    .await;
    assert_eq!(parse_csv(empty.body.as_str().unwrap()).len(), 1);
}

async fn the_csv_is_for_the_shops_staff_and_admins_only(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    file(&app, &w).await;
    for who in [&w.customer, &w.other_staff, &w.mediator] {
        csv(&app, &w.retailer_id, "", who).await.expect(403);
    }
    csv(&app, "no-such-retailer", "", &w.admin)
        .await
        .expect(404);
    let bad = csv(&app, &w.retailer_id, "?from=yesterday", &w.staff)
        .await
        .expect(422);
    assert_eq!(bad["errors"][0]["field"], "from");
    csv(
        &app,
        &w.retailer_id,
        "?from=2026-12-02&to=2026-12-01",
        &w.staff,
    )
    .await
    .expect(422);
    csv(&app, &w.retailer_id, "?colour=red", &w.staff)
        .await
        .expect(400);
    // The default period ends now, excluded: a minute after the filing.
    t.clock.advance(chrono::Duration::minutes(1));
    let rows = parse_csv(
        csv(&app, &w.retailer_id, "", &w.staff)
            .await
            .expect(200)
            .as_str()
            .unwrap(),
    );
    assert_eq!(
        rows.len(),
        2,
        "the default period (the last 90 days) holds today's complaint"
    );
}
