//! The account pages, as a browser uses them: sign-in by password and by a
//! link sent by mail, register, sign-out, and the language switch that is
//! remembered. Forms are checked for where they came from.

use actix_web::http::{header, StatusCode};
use actix_web::test::init_service;
use odr_tests::{on_both_databases, send, Answer, Db, Person, TestApp};

use crate::browsing::*;
use crate::steps::*;

on_both_databases!(
    a_wrong_password_shows_the_form_again_and_the_right_one_signs_in,
    registering_by_form_signs_in_a_customer_in_the_pages_language,
    the_chosen_language_is_remembered_in_cookie_and_account,
    a_mail_link_is_asked_alike_for_anyone_and_spent_only_by_its_button,
    signing_out_takes_the_form_token_and_ends_the_session,
    forms_from_another_site_are_refused,
    an_unknown_page_is_a_page_for_browsers_and_a_problem_for_the_api
);

/// The session cookie a sign-in answer sets, as the browser sends it back.
#[track_caller]
fn session_of(answer: &Answer) -> String {
    let set = set_cookie(answer, "odr_session").expect("a session cookie");
    set.split(';').next().unwrap_or_default().to_owned()
}

/// `GET /api/v1/me` for the holder of a session cookie.
async fn me(app: &impl App, session: &str) -> serde_json::Value {
    let who = Person {
        id: String::new(),
        token: session.trim_start_matches("odr_session=").to_owned(),
    };
    get(app, "/api/v1/me", &who).await.expect(200)
}

/// The world's customer signed in by the form: the session cookie, and the
/// CSRF token their pages' forms carry.
async fn customer_session(app: &impl App) -> (String, String) {
    let session = sign_in(app, "chris@example.test", PASSWORD).await;
    let mine = page(app, "/complaints", &session).await;
    assert!(html(&mine).contains("My complaints"), "English at first");
    (session, csrf(html(&mine)))
}

async fn a_wrong_password_shows_the_form_again_and_the_right_one_signs_in(db: Db) {
    let t = TestApp::new(db);
    let _w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;

    let wrong = form(
        &app,
        "/sign-in",
        "",
        &[
            ("email", "chris@example.test"),
            ("password", "not the password"),
        ],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let shown = html(&wrong);
    assert!(
        shown.contains("That email and password do not match an account."),
        "the reason, in English: {shown}"
    );
    assert!(
        shown.contains("value=\"chris@example.test\""),
        "the email typed stays"
    );
    assert!(set_cookie(&wrong, "odr_session").is_none(), "no session");

    let right = form(
        &app,
        "/sign-in",
        "",
        &[("email", "chris@example.test"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(see_other(&right), "/", "on to the start page");
    let set = set_cookie(&right, "odr_session").expect("a session cookie");
    assert!(set.contains("HttpOnly"), "scripts cannot read it: {set}");
    assert!(set.contains("SameSite=Lax"), "{set}");
    assert!(set.contains("Path=/"), "{set}");
    let session = session_of(&right);
    let home = page(&app, "/", &session).await;
    assert_eq!(see_other(&home), "/complaints", "a customer's start page");
    assert_eq!(page(&app, "/complaints", &session).await.status, 200);

    let staff = sign_in(&app, "staff@teapot.test", PASSWORD).await;
    assert_eq!(see_other(&page(&app, "/", &staff).await), "/inbox");
    // A local `next` is followed; another site's is not.
    let back = form(
        &app,
        "/sign-in",
        "",
        &[
            ("email", "chris@example.test"),
            ("password", PASSWORD),
            ("next", "//evil.example/"),
        ],
    )
    .await;
    assert_eq!(see_other(&back), "/");
}

async fn registering_by_form_signs_in_a_customer_in_the_pages_language(db: Db) {
    let t = TestApp::new(db);
    let _w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;

    let fields = [
        ("display_name", "Dana"),
        ("email", "dana@example.test"),
        ("password", "a long enough password"),
    ];
    let german = form_request("/register", "", &fields)
        .insert_header((header::ACCEPT_LANGUAGE, "de-DE,de;q=0.9,en;q=0.5"));
    let created = send(&app, german).await;
    assert_eq!(see_other(&created), "/");
    let session = session_of(&created);
    let dana = me(&app, &session).await;
    assert_eq!(dana["role"], "customer");
    assert_eq!(dana["email"], "dana@example.test");
    assert_eq!(dana["display_name"], "Dana");
    assert_eq!(dana["locale"], "de", "the language the page was read in");
    let mine = page(&app, "/complaints", &session).await;
    assert!(
        html(&mine).contains("Meine Beschwerden"),
        "signed in at once"
    );

    let taken = form(
        &app,
        "/register",
        "",
        &[
            ("display_name", "Someone else"),
            ("email", "Chris@Example.test"),
            ("password", "another long password"),
        ],
    )
    .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert!(
        html(&taken).contains("This email already has an account."),
        "{}",
        html(&taken)
    );
    assert!(
        html(&taken).contains("value=\"Someone else\""),
        "what was typed stays"
    );
    assert!(set_cookie(&taken, "odr_session").is_none());
    let chris = t
        .store()
        .user_by_email("chris@example.test")
        .unwrap()
        .expect("the account");
    assert_eq!(chris.display_name, "chris", "the account is untouched");

    let short = form(
        &app,
        "/register",
        "",
        &[
            ("display_name", "Finn"),
            ("email", "finn@example.test"),
            ("password", "short"),
        ],
    )
    .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    let shown = html(&short);
    assert!(shown.contains("Please check the marked fields."), "{shown}");
    assert!(
        shown.contains("<strong>password</strong>: Choose a password of at least 10 characters."),
        "the field is named: {shown}"
    );
    assert!(
        t.store()
            .user_by_email("finn@example.test")
            .unwrap()
            .is_none(),
        "nothing was written"
    );
}

async fn the_chosen_language_is_remembered_in_cookie_and_account(db: Db) {
    let t = TestApp::new(db);
    let _w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let (session, token) = customer_session(&app).await;

    let switched = form(
        &app,
        "/locale",
        &session,
        &[("csrf", &token), ("locale", "de"), ("next", "/complaints")],
    )
    .await;
    assert_eq!(see_other(&switched), "/complaints");
    let set = set_cookie(&switched, "odr_locale").expect("a language cookie");
    assert!(set.starts_with("odr_locale=de;"), "{set}");
    assert!(set.contains("Max-Age=31536000"), "kept a year: {set}");
    assert_eq!(
        me(&app, &session).await["locale"],
        "de",
        "saved to the account"
    );
    // The account remembers it even where the cookie is gone.
    let german = page(&app, "/complaints", &session).await;
    assert!(html(&german).contains("<html lang=\"de\">"));
    assert!(html(&german).contains("Meine Beschwerden"));

    // Not signed in: the browser's language, unless one was chosen.
    let french = send(
        &app,
        actix_web::test::TestRequest::get()
            .uri("/sign-in")
            .insert_header((header::ACCEPT_LANGUAGE, "fr-FR,fr;q=0.9")),
    )
    .await;
    assert!(html(&french).contains("<html lang=\"fr\">"));
    assert!(html(&french).contains("Se connecter"));
    let chosen = form(
        &app,
        "/locale",
        "",
        &[("locale", "es"), ("next", "/sign-in")],
    )
    .await;
    assert_eq!(see_other(&chosen), "/sign-in");
    let cookie = set_cookie(&chosen, "odr_locale").expect("a language cookie");
    let spanish = send(
        &app,
        actix_web::test::TestRequest::get()
            .uri("/sign-in")
            .insert_header((header::ACCEPT_LANGUAGE, "fr"))
            .insert_header((header::COOKIE, cookie.split(';').next().unwrap())),
    )
    .await;
    assert!(
        html(&spanish).contains("<html lang=\"es\">"),
        "the choice wins"
    );

    let unknown = form(
        &app,
        "/locale",
        &session,
        &[("csrf", &token), ("locale", "xx")],
    )
    .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(set_cookie(&unknown, "odr_locale").is_none());
    assert_eq!(me(&app, &session).await["locale"], "de", "unchanged");
}

async fn a_mail_link_is_asked_alike_for_anyone_and_spent_only_by_its_button(db: Db) {
    let t = TestApp::new(db);
    let _w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;

    let known = form(
        &app,
        "/sign-in/link",
        "",
        &[("email", "chris@example.test")],
    )
    .await;
    let unknown = form(&app, "/sign-in/link", "", &[("email", "new@example.test")]).await;
    assert_eq!(known.status, StatusCode::OK);
    assert_eq!(unknown.status, StatusCode::OK);
    assert!(html(&known).contains("Check your mail"));
    assert_eq!(
        html(&known).replace("chris@example.test", "EMAIL"),
        html(&unknown).replace("new@example.test", "EMAIL"),
        "the page does not tell who has an account"
    );
    // As the API does: a link for every well-formed address (a new email
    // becomes a customer when the link is used).
    for email in ["chris@example.test", "new@example.test"] {
        let links = t
            .store()
            .outbox_to_address(email)
            .unwrap()
            .into_iter()
            .filter(|o| o.template == "magic_link")
            .count();
        assert_eq!(links, 1, "one link mailed to {email}");
    }

    let token = mailed_token(&t, "chris@example.test");
    let link = format!("/sign-in?token={token}");
    for _ in 0..2 {
        let opened = page(&app, &link, "").await;
        assert_eq!(opened.status, StatusCode::OK);
        assert!(buttons(html(&opened)).iter().any(|b| b == "Continue"));
        assert_eq!(hidden(html(&opened), "token"), token);
    }
    let used = form(&app, "/sign-in/redeem", "", &[("token", &token)]).await;
    assert_eq!(
        see_other(&used),
        "/",
        "opening the link twice spent nothing"
    );
    let session = session_of(&used);
    assert_eq!(me(&app, &session).await["email"], "chris@example.test");

    let again = form(&app, "/sign-in/redeem", "", &[("token", &token)]).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert!(
        html(&again).contains("This sign-in link is not valid any more"),
        "{}",
        html(&again)
    );
    assert!(set_cookie(&again, "odr_session").is_none());
}

async fn signing_out_takes_the_form_token_and_ends_the_session(db: Db) {
    let t = TestApp::new(db);
    let _w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let (session, token) = customer_session(&app).await;

    let forged = form(&app, "/sign-out", &session, &[]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(html(&forged).contains("This form has expired or came from another site."));
    assert_eq!(
        page(&app, "/complaints", &session).await.status,
        StatusCode::OK,
        "the session still works"
    );

    let out = form(&app, "/sign-out", &session, &[("csrf", &token)]).await;
    assert_eq!(see_other(&out), "/");
    let cleared = set_cookie(&out, "odr_session").expect("the cookie is cleared");
    assert!(cleared.starts_with("odr_session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let after = page(&app, "/complaints", &session).await;
    assert_eq!(
        see_other(&after),
        "/sign-in?next=%2Fcomplaints",
        "the old session no longer opens the page"
    );
}

async fn forms_from_another_site_are_refused(db: Db) {
    let t = TestApp::new(db);
    let _w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let (session, token) = customer_session(&app).await;
    let fields = [
        ("csrf", token.as_str()),
        ("locale", "fr"),
        ("next", "/complaints"),
    ];

    let cross_site = send(
        &app,
        form_request("/locale", &session, &fields).insert_header(("sec-fetch-site", "cross-site")),
    )
    .await;
    assert_eq!(
        cross_site.status,
        StatusCode::FORBIDDEN,
        "even with the token"
    );
    assert!(set_cookie(&cross_site, "odr_locale").is_none());
    assert_eq!(me(&app, &session).await["locale"], "en", "nothing changed");

    // Our own pages send `Origin: null` (no referrer) with same-origin.
    let ours = send(
        &app,
        form_request("/locale", &session, &fields).insert_header((header::ORIGIN, "null")),
    )
    .await;
    assert_eq!(see_other(&ours), "/complaints");
    assert_eq!(me(&app, &session).await["locale"], "fr");
}

async fn an_unknown_page_is_a_page_for_browsers_and_a_problem_for_the_api(db: Db) {
    let t = TestApp::new(db);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let browser = send(
        &app,
        actix_web::test::TestRequest::get()
            .uri("/no-such-page")
            .insert_header((header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8"))
            .insert_header((header::ACCEPT_LANGUAGE, "de")),
    )
    .await;
    assert_eq!(browser.status, StatusCode::NOT_FOUND);
    assert!(
        html(&browser).contains("Diese Seite gibt es nicht"),
        "{}",
        html(&browser)
    );
    for (path, accept) in [
        ("/no-such-page", "application/json"),
        ("/api/v1/no-such-route", "text/html"),
    ] {
        let tool = send(
            &app,
            actix_web::test::TestRequest::get()
                .uri(path)
                .insert_header((header::ACCEPT, accept)),
        )
        .await;
        assert_eq!(tool.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            tool.header("content-type"),
            Some("application/problem+json"),
            "{path}"
        );
        assert_eq!(tool.body["code"], "not_found", "{path}");
    }
}
