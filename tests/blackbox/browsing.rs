//! The moves of a browser on the web pages: a session cookie, forms posted
//! as `application/x-www-form-urlencoded` with the page's CSRF token, 303
//! after a step. Shared by every page test.

use actix_web::http::{header, StatusCode};
use actix_web::test::TestRequest;
use odr_tests::{send, Answer, Person};

use crate::steps::App;

/// The password `TestApp::person` gives everyone.
pub const PASSWORD: &str = "correct horse battery";

/// The cookie of `who`'s session, as the sign-in form would have set it.
pub fn cookie(who: &Person) -> String {
    format!("odr_session={}", who.token)
}

/// `application/x-www-form-urlencoded`, as a browser writes a form.
pub fn encode(fields: &[(&str, &str)]) -> String {
    fn part(text: &str) -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_owned(),
                other => format!("%{other:02X}"),
            })
            .collect()
    }
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", part(k), part(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The value of the hidden field `name` the page's first such form
/// carries; empty when there is none.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).map(|i| i + marker.len());
    start
        .and_then(|s| html[s..].find('"').map(|e| html[s..s + e].to_owned()))
        .unwrap_or_default()
}

/// The CSRF token the page's forms carry.
#[track_caller]
pub fn csrf(html: &str) -> String {
    let token = hidden(html, "csrf");
    assert!(!token.is_empty(), "a form with a CSRF token: {html}");
    token
}

/// A page as the holder of `cookie` sees it (`""`: not signed in).
pub async fn page(app: &impl App, path: &str, cookie: &str) -> Answer {
    let mut req = TestRequest::get().uri(path);
    if !cookie.is_empty() {
        req = req.insert_header((header::COOKIE, cookie.to_owned()));
    }
    send(app, req).await
}

/// The status and HTML of a page as the holder of `cookie` sees it.
pub async fn visit(app: &impl App, path: &str, cookie: &str) -> (StatusCode, String) {
    let answer = page(app, path, cookie).await;
    (answer.status, html(&answer).to_owned())
}

/// A form posted by this site's page (`Sec-Fetch-Site: same-origin`) with
/// `fields` in order; `cookie` as for [`page`].
pub async fn form(app: &impl App, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Answer {
    send(app, form_request(path, cookie, fields)).await
}

/// The request [`form`] sends, for a test that adds or changes headers.
pub fn form_request(path: &str, cookie: &str, fields: &[(&str, &str)]) -> TestRequest {
    let mut req = TestRequest::post()
        .uri(path)
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .insert_header(("sec-fetch-site", "same-origin"))
        .set_payload(encode(fields));
    if !cookie.is_empty() {
        req = req.insert_header((header::COOKIE, cookie.to_owned()));
    }
    req
}

/// The value of the cookie `name` an answer sets (`name=value`), if any.
pub fn set_cookie<'a>(answer: &'a Answer, name: &str) -> Option<&'a str> {
    answer
        .headers
        .get_all(header::SET_COOKIE)
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
}

/// The body of a page (HTML); empty when the answer is JSON or empty.
pub fn html(answer: &Answer) -> &str {
    answer.body.as_str().unwrap_or_default()
}

/// Signs in through the sign-in form; the session cookie for later pages.
pub async fn sign_in(app: &impl App, email: &str, password: &str) -> String {
    let answer = form(
        app,
        "/sign-in",
        "",
        &[("email", email), ("password", password)],
    )
    .await;
    see_other(&answer);
    let session = set_cookie(&answer, "odr_session").expect("a session cookie");
    session.split(';').next().unwrap_or_default().to_owned()
}

/// The target of a 303 See Other; any other answer fails the test.
#[track_caller]
pub fn see_other(answer: &Answer) -> String {
    assert_eq!(
        answer.status,
        StatusCode::SEE_OTHER,
        "expected 303, got {}: {}",
        answer.status,
        html(answer)
    );
    answer.header("location").unwrap_or_default().to_owned()
}

/// The buttons a page offers, by their visible text.
pub fn buttons(html: &str) -> Vec<String> {
    html.split("<button")
        .skip(1)
        .filter_map(|b| {
            let text = b.split_once('>')?.1.split_once("</button>")?.0;
            Some(text.trim().to_owned())
        })
        .collect()
}
