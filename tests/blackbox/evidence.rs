//! Evidence: files attached to a complaint by its parties or its mediator,
//! typed by their content, kept with a checksum, served only to those who
//! may read the case file, and logged as `attachment` events.

use std::sync::Arc;

use actix_web::http::{header, Method, StatusCode};
use actix_web::test::{init_service, TestRequest};
use odr_tests::{on_both_databases, Db, Person, TestApp};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::steps::*;

on_both_databases!(
    a_customer_uploads_a_photo_and_the_shop_downloads_the_same_bytes,
    files_are_typed_by_content_and_limited_in_size,
    only_those_who_may_read_the_case_file_see_evidence,
    file_names_are_sanitized_and_encoded_for_download,
    messages_point_at_attachments_of_their_complaint
);

const BOUNDARY: &str = "odr-test-boundary-7MA4YWxkTrZu0gW";

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A multipart body by hand: `file` with this disposition tail, and an
/// optional caption.
fn form(filename_params: &str, file: &[u8], caption: Option<&str>) -> Vec<u8> {
    let mut body = Vec::new();
    if let Some(c) = caption {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\n{c}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; {filename_params}\r\n\
             Content-Type: image/jpeg\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Status, headers and the raw body bytes.
struct Raw {
    status: StatusCode,
    headers: header::HeaderMap,
    bytes: Vec<u8>,
}

impl Raw {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }

    #[track_caller]
    fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "expected {status}, got {} with {}",
            self.status,
            String::from_utf8_lossy(&self.bytes)
        );
        self.json()
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

async fn send(app: &impl App, req: TestRequest) -> Raw {
    let res = match actix_web::test::try_call_service(app, req.to_request()).await {
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => {
            let res = e.error_response();
            let status = res.status();
            let headers = res.headers().clone();
            let bytes = actix_web::body::to_bytes(res.into_body())
                .await
                .unwrap_or_default();
            return Raw {
                status,
                headers,
                bytes: bytes.to_vec(),
            };
        }
    };
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = actix_web::test::read_body(res).await.to_vec();
    Raw {
        status,
        headers,
        bytes,
    }
}

async fn upload(app: &impl App, c: &str, who: &Person, body: Vec<u8>) -> Raw {
    let req = TestRequest::default()
        .method(Method::POST)
        .uri(&format!("/api/v1/complaints/{c}/attachments"))
        .insert_header((header::AUTHORIZATION, format!("Bearer {}", who.token)))
        .insert_header((
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        ))
        .set_payload(body);
    send(app, req).await
}

/// Uploads `bytes` as `name`, without a caption.
async fn attach(app: &impl App, c: &str, who: &Person, name: &str, bytes: &[u8]) -> Raw {
    upload(
        app,
        c,
        who,
        form(&format!("filename=\"{name}\""), bytes, None),
    )
    .await
}

async fn download(app: &impl App, url: &str, who: &Person) -> Raw {
    let req = TestRequest::default()
        .method(Method::GET)
        .uri(url)
        .insert_header((header::AUTHORIZATION, format!("Bearer {}", who.token)));
    send(app, req).await
}

async fn event_types(app: &impl App, c: &str, who: &Person) -> Vec<String> {
    get(app, &format!("/api/v1/complaints/{c}/events"), who)
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

/// Every file under the attachment folder (temporary ones included).
fn stored_files(t: &TestApp) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&t.state.http.attachment_dir, &mut out);
    out
}

async fn a_customer_uploads_a_photo_and_the_shop_downloads_the_same_bytes(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    let png = tiny_png();
    let up = upload(
        &app,
        &c,
        &w.customer,
        form("filename=\"lid.png\"", &png, Some("The cracked lid")),
    )
    .await;
    let location = up.header("location").to_owned();
    let a = up.expect(201);
    assert_eq!(a["file_name"], "lid.png");
    assert_eq!(
        a["content_type"], "image/png",
        "typed by content, not by the client"
    );
    assert_eq!(a["size"], png.len());
    assert_eq!(a["sha256"], hex_sha256(&png));
    assert_eq!(a["uploaded_by"], w.customer.id.as_str());
    assert_eq!(a["caption"], "The cracked lid");
    assert!(a["created_at"].is_string());
    let url = a["download_url"].as_str().unwrap().to_owned();
    assert_eq!(location, url);
    assert_eq!(
        url,
        format!(
            "/api/v1/complaints/{c}/attachments/{}",
            a["id"].as_str().unwrap()
        )
    );

    // The log has the attachment, with the complaint's state unchanged.
    let events = get(&app, &format!("/api/v1/complaints/{c}/events"), &w.staff)
        .await
        .expect(200);
    let logged = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "attachment")
        .expect("an attachment event in the log");
    assert_eq!(logged["from_state"], "filed");
    assert_eq!(logged["to_state"], "filed");
    assert_eq!(logged["payload"]["attachment_id"], a["id"]);
    assert_eq!(logged["payload"]["file_name"], "lid.png");
    assert_eq!(logged["payload"]["sha256"], a["sha256"]);

    // The shop lists it and downloads identical bytes.
    let list = get(
        &app,
        &format!("/api/v1/complaints/{c}/attachments"),
        &w.staff,
    )
    .await
    .expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], a["id"]);
    assert_eq!(list["next_cursor"], Value::Null);
    let got = download(&app, &url, &w.staff).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.bytes, png, "the download has the uploaded bytes");
    assert_eq!(got.header("content-type"), "image/png");
    assert_eq!(got.header("x-content-type-options"), "nosniff");
    assert_eq!(got.header("cache-control"), "private, no-store");
    assert_eq!(got.header("content-length"), png.len().to_string());
    let disposition = got.header("content-disposition");
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("filename=\"lid.png\""),
        "{disposition}"
    );
    // Another complaint's path does not reach it.
    let other = id(&file(&app, &w).await);
    let aid = a["id"].as_str().unwrap();
    download(
        &app,
        &format!("/api/v1/complaints/{other}/attachments/{aid}"),
        &w.staff,
    )
    .await
    .expect(404);

    // A closed complaint takes no more evidence.
    act(&app, &c, "withdraw", &w.customer, json!({}))
        .await
        .expect(200);
    let closed = attach(&app, &c, &w.customer, "b.png", &png)
        .await
        .expect(409);
    assert_eq!(closed["code"], "invalid_transition");
}

async fn files_are_typed_by_content_and_limited_in_size(db: Db) {
    let mut t = TestApp::new(db);
    let mut http = odr_http::HttpSettings::defaults_in(t.files.path());
    http.attachment_max_bytes = 64;
    t.state.http = Arc::new(http);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);

    // Text renamed to .jpg and sent as image/jpeg is still text.
    let text = attach(
        &app,
        &c,
        &w.customer,
        "photo.jpg",
        b"just some text, honestly",
    )
    .await
    .expect(415);
    assert_eq!(text["code"], "unsupported_media_type");
    let detail = text["detail"].as_str().unwrap();
    assert!(
        detail.contains("JPEG") && detail.contains("PDF"),
        "{detail}"
    );

    // Over the limit: 413, and nothing stored.
    let mut big = tiny_png();
    big.resize(500, 0);
    let too_big = attach(&app, &c, &w.customer, "big.png", &big)
        .await
        .expect(413);
    assert_eq!(too_big["code"], "payload_too_large");

    // A form without a file names the field.
    let no_file = upload(
        &app,
        &c,
        &w.customer,
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\nhi\r\n--{BOUNDARY}--\r\n"
        )
        .into_bytes(),
    )
    .await
    .expect(422);
    assert_eq!(no_file["errors"][0]["field"], "file");

    // A JSON body is not an upload.
    let req = TestRequest::default()
        .method(Method::POST)
        .uri(&format!("/api/v1/complaints/{c}/attachments"))
        .insert_header((
            header::AUTHORIZATION,
            format!("Bearer {}", w.customer.token),
        ))
        .set_json(json!({"file": "x"}));
    send(&app, req).await.expect(415);

    let list = get(
        &app,
        &format!("/api/v1/complaints/{c}/attachments"),
        &w.customer,
    )
    .await
    .expect(200);
    assert_eq!(list["items"], json!([]), "no row for a refused upload");
    assert!(
        !event_types(&app, &c, &w.customer)
            .await
            .contains(&"attachment".to_owned()),
        "no event for a refused upload"
    );
    assert_eq!(
        stored_files(&t),
        Vec::<std::path::PathBuf>::new(),
        "no file left behind"
    );

    // Within the limit it is fine.
    attach(&app, &c, &w.customer, "ok.png", &tiny_png())
        .await
        .expect(201);
    assert_eq!(stored_files(&t).len(), 1);
}

async fn only_those_who_may_read_the_case_file_see_evidence(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    let png = tiny_png();
    let a = attach(&app, &c, &w.staff, "label.png", &png)
        .await
        .expect(201);
    let url = a["download_url"].as_str().unwrap().to_owned();
    let list = format!("/api/v1/complaints/{c}/attachments");

    // Outsiders learn nothing, not even that the complaint exists.
    for outsider in [&w.other_customer, &w.other_staff, &w.mediator] {
        attach(&app, &c, outsider, "x.png", &png).await.expect(404);
        get(&app, &list, outsider).await.expect(404);
        download(&app, &url, outsider).await.expect(404);
    }

    // Escalated and unassigned: queue mediators see the case, not its file.
    shop_escalates(&app, &c, &w).await;
    let queue = attach(&app, &c, &w.mediator, "x.png", &png)
        .await
        .expect(403);
    assert_eq!(queue["code"], "forbidden");
    get(&app, &list, &w.mediator).await.expect(403);
    download(&app, &url, &w.mediator).await.expect(403);

    // Once assigned, the mediator reads and adds evidence.
    act(
        &app,
        &c,
        "mediator",
        &w.admin,
        json!({"mediator_id": w.mediator.id}),
    )
    .await
    .expect(200);
    let got = download(&app, &url, &w.mediator).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.bytes, png);
    let m = attach(&app, &c, &w.mediator, "note.pdf", b"%PDF-1.7\n%%EOF\n")
        .await
        .expect(201);
    assert_eq!(m["content_type"], "application/pdf");
    let all = get(&app, &list, &w.customer).await.expect(200);
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    // Admins may read, but evidence comes from the parties and the mediator.
    get(&app, &list, &w.admin).await.expect(200);
    attach(&app, &c, &w.admin, "x.png", &png).await.expect(403);
}

async fn file_names_are_sanitized_and_encoded_for_download(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    let a = upload(
        &app,
        &c,
        &w.customer,
        form(
            "filename=\"x.png\"; filename*=UTF-8''..%2F..%2Fetc%2F%22%C4%8Caj%22%20foto.png",
            &tiny_png(),
            None,
        ),
    )
    .await
    .expect(201);
    assert_eq!(
        a["file_name"], "\"Čaj\" foto.png",
        "no path, kept for display"
    );
    let got = download(&app, a["download_url"].as_str().unwrap(), &w.customer).await;
    assert_eq!(got.status, StatusCode::OK);
    let disposition = got.header("content-disposition");
    assert_eq!(
        disposition,
        "attachment; filename=\"__aj_ foto.png\"; filename*=UTF-8''%22%C4%8Caj%22%20foto.png"
    );
    // Nothing of the client's name reaches the disk.
    let files = stored_files(&t);
    assert_eq!(files.len(), 1);
    assert!(files[0].ends_with(format!("{c}/{}", a["id"].as_str().unwrap())));
}

async fn messages_point_at_attachments_of_their_complaint(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let c = id(&file(&app, &w).await);
    let a = attach(&app, &c, &w.customer, "lid.png", &tiny_png())
        .await
        .expect(201);
    let aid = a["id"].as_str().unwrap();
    let m = act(
        &app,
        &c,
        "messages",
        &w.customer,
        json!({"phrase_codes": ["photos_attached"], "attachment_ids": [aid]}),
    )
    .await
    .expect(201);
    assert_eq!(m["attachment_ids"], json!([aid]));
    let thread = get(&app, &format!("/api/v1/complaints/{c}/messages"), &w.staff)
        .await
        .expect(200);
    assert_eq!(thread["items"][0]["attachment_ids"], json!([aid]));
    let events = get(&app, &format!("/api/v1/complaints/{c}/events"), &w.staff)
        .await
        .expect(200);
    let message = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "message")
        .expect("the message in the log");
    assert_eq!(message["payload"]["attachment_ids"], json!([aid]));

    // An id that is not this complaint's attachment is named.
    let other = id(&file(&app, &w).await);
    let bad = act(
        &app,
        &other,
        "messages",
        &w.customer,
        json!({"phrase_codes": ["photos_attached"], "attachment_ids": [aid]}),
    )
    .await
    .expect(422);
    assert_eq!(bad["errors"][0]["field"], "attachment_ids[0]");
    let bad = act(
        &app,
        &c,
        "messages",
        &w.customer,
        json!({"body": "See these", "attachment_ids": [aid, "no-such-file"]}),
    )
    .await
    .expect(422);
    assert_eq!(bad["errors"].as_array().unwrap().len(), 1);
    assert_eq!(bad["errors"][0]["field"], "attachment_ids[1]");
}
