//! The web pages of staff, mediators and admins, read as a browser reads
//! them: signed in through the sign-in form (session cookie), forms posted
//! with their CSRF token, HTML checked for what a person would see.

use actix_web::test::init_service;
use chrono::Duration;
use odr_tests::{on_both_databases, Db, TestApp, World};
use serde_json::json;

use crate::browsing::*;
use crate::steps::*;

on_both_databases!(
    the_inbox_is_sorted_by_deadline_and_marks_what_is_due,
    inbox_filters_narrow_by_state_and_category,
    the_inbox_pages_with_a_more_link,
    lists_are_only_for_their_roles,
    the_customer_sees_their_own_complaints,
    admins_retry_dead_mail_from_the_page,
    admins_assign_a_mediator_and_the_queue_shows_it,
    admins_manage_retailers_staff_and_mediators,
    the_dashboard_shows_numbers_and_charts
);

/// Files a complaint of `category` for the world's customer; its id and
/// reference.
async fn file_as(app: &impl App, w: &World, category: &str, order: &str) -> (String, String) {
    let filed = post(
        app,
        "/api/v1/complaints",
        &w.customer,
        json!({
            "retailer_id": w.retailer_id,
            "order_reference": order,
            "category": category,
            "desired_remedy": "full_refund",
            "claimed_amount": {"amount_minor": 2500, "currency": "EUR"},
            "description": "Something went wrong with this order."
        }),
    )
    .await
    .expect(201);
    (
        id(&filed),
        filed["reference"].as_str().expect("a reference").to_owned(),
    )
}

fn position(html: &str, needle: &str) -> usize {
    html.find(needle)
        .unwrap_or_else(|| panic!("the page shows {needle}"))
}

async fn the_inbox_is_sorted_by_deadline_and_marks_what_is_due(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let (a, ref_a) = file_as(&app, &w, "damaged", "A-1").await;
    t.clock.advance(Duration::hours(1));
    let (_, ref_b) = file_as(&app, &w, "not_delivered", "B-1").await;
    t.clock.advance(Duration::hours(1));
    let (_, ref_c) = file_as(&app, &w, "damaged", "C-1").await;
    // Acknowledged, A's next deadline is the offer's, two weeks away.
    act(&app, &a, "acknowledge", &w.staff, json!({}))
        .await
        .expect(200);
    let staff = sign_in(&app, "staff@teapot.test", PASSWORD).await;
    let (status, html) = visit(&app, "/inbox", &staff).await;
    assert_eq!(status, 200);
    assert!(
        position(&html, &ref_b) < position(&html, &ref_c)
            && position(&html, &ref_c) < position(&html, &ref_a),
        "soonest deadline first: B (filed first, unanswered), C, then the acknowledged A"
    );
    assert!(!html.contains("class=\"badge overdue\""));
    assert!(!html.contains("class=\"badge due-soon\""));
    assert!(
        html.contains("left for you to answer"),
        "time left in words"
    );

    // 47.5 hours on: B's two days have passed, C has half an hour left.
    t.clock.advance(Duration::minutes(47 * 60 + 30));
    let (_, html) = visit(&app, "/inbox", &staff).await;
    assert_eq!(html.matches("class=\"badge overdue\"").count(), 1);
    assert_eq!(html.matches("class=\"badge due-soon\"").count(), 1);
    assert!(html.contains(">Overdue</span>"));
    assert!(html.contains(">Due in &lt; 24 h</span>"));
    assert!(html.contains("overdue by 30 minutes: your answer is awaited"));
    assert!(html.contains("30 minutes left for you to answer"));
    let overdue = position(&html, "class=\"badge overdue\"");
    assert!(overdue < position(&html, &ref_b) && position(&html, &ref_b) < position(&html, &ref_c));
}

async fn inbox_filters_narrow_by_state_and_category(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let (a, ref_a) = file_as(&app, &w, "damaged", "A-1").await;
    let (_, ref_b) = file_as(&app, &w, "not_delivered", "B-1").await;
    let (c, ref_c) = file_as(&app, &w, "damaged", "C-1").await;
    act(&app, &a, "acknowledge", &w.staff, json!({}))
        .await
        .expect(200);
    act(&app, &c, "withdraw", &w.customer, json!({}))
        .await
        .expect(200);
    let staff = sign_in(&app, "staff@teapot.test", PASSWORD).await;
    let (_, all) = visit(&app, "/inbox", &staff).await;
    for r in [&ref_a, &ref_b, &ref_c] {
        assert!(all.contains(r.as_str()), "no filter shows {r}");
    }
    assert!(all.contains("Apply filters"));
    let (_, html) = visit(&app, "/inbox?state=acknowledged&category=", &staff).await;
    assert!(html.contains(&ref_a) && !html.contains(&ref_b) && !html.contains(&ref_c));
    assert!(html.contains("<option value=\"acknowledged\" selected>"));
    let (_, html) = visit(&app, "/inbox?state=&category=not_delivered", &staff).await;
    assert!(!html.contains(&ref_a) && html.contains(&ref_b) && !html.contains(&ref_c));
    let (_, closed) = visit(&app, "/inbox?state=closed", &staff).await;
    assert!(closed.contains(&ref_c) && !closed.contains(&ref_a));
    assert!(
        closed.contains("Withdrawn"),
        "a closed one shows its outcome"
    );
    let (_, none) = visit(&app, "/inbox?state=escalated", &staff).await;
    assert!(none.contains("No complaint matches these filters"));
    // Another shop's staff sees none of these.
    let other = sign_in(&app, "staff@other.test", PASSWORD).await;
    let (_, theirs) = visit(&app, "/inbox", &other).await;
    assert!(!theirs.contains(&ref_a) && !theirs.contains(&ref_b));
}

async fn the_inbox_pages_with_a_more_link(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let mut references = Vec::new();
    for i in 0..27 {
        references.push(file_as(&app, &w, "damaged", &format!("P-{i}")).await.1);
        t.clock.advance(Duration::minutes(1));
    }
    let staff = sign_in(&app, "staff@teapot.test", PASSWORD).await;
    let (_, first) = visit(&app, "/inbox?category=damaged", &staff).await;
    assert_eq!(first.matches("<a class=\"title\"").count(), 25, "25 a page");
    assert!(first.contains(&references[0]) && !first.contains(&references[26]));
    let at = position(&first, "rel=\"next\"");
    let href_at = first[..at].rfind("href=\"").unwrap() + "href=\"".len();
    let more = first[href_at..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&")
        .replace("&#x2f;", "/");
    assert!(
        more.starts_with("/inbox?category=damaged&cursor="),
        "{more}"
    );
    assert!(first.contains("More complaints"));
    let (status, second) = visit(&app, &more, &staff).await;
    assert_eq!(status, 200);
    assert_eq!(second.matches("<a class=\"title\"").count(), 2);
    assert!(second.contains(&references[25]) && second.contains(&references[26]));
    assert!(!second.contains("rel=\"next\""), "the last page");
    assert!(second.contains("Back to the first page"));
    let (status, _) = visit(&app, "/inbox?cursor=not-a-cursor", &staff).await;
    assert_eq!(status, 422, "a cursor this list did not give out");
}

async fn lists_are_only_for_their_roles(db: Db) {
    let t = TestApp::new(db);
    let _w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let answer = page(&app, "/inbox", "").await;
    let status = answer.status;
    assert_eq!(status, 303, "not signed in: to the sign-in page");
    assert_eq!(see_other(&answer), "/sign-in?next=%2Finbox");
    let customer = sign_in(&app, "chris@example.test", PASSWORD).await;
    for path in ["/inbox", "/queue", "/admin", "/dashboard", "/admin/mail"] {
        let (status, html) = visit(&app, path, &customer).await;
        assert_eq!(status, 403, "{path} is not for customers");
        assert!(html.contains("This is not open to you"), "{path}: {html}");
        assert!(html.contains("This page is not for your account."));
    }
    let staff = sign_in(&app, "staff@teapot.test", PASSWORD).await;
    for path in ["/complaints", "/queue", "/admin"] {
        assert_eq!(visit(&app, path, &staff).await.0, 403, "{path}");
    }
    let mediator = sign_in(&app, "mia@odr.test", PASSWORD).await;
    for path in ["/inbox", "/admin", "/dashboard"] {
        assert_eq!(visit(&app, path, &mediator).await.0, 403, "{path}");
    }
    assert_eq!(visit(&app, "/queue", &mediator).await.0, 200);
}

async fn the_customer_sees_their_own_complaints(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let eve = sign_in(&app, "eve@example.test", PASSWORD).await;
    let (status, empty) = visit(&app, "/complaints", &eve).await;
    assert_eq!(status, 200);
    assert!(empty.contains("You have not reported a problem yet"));
    assert!(empty.contains("href=\"/complaints/new\""));
    let (first, ref_first) = file_as(&app, &w, "damaged", "A-1").await;
    t.clock.advance(Duration::hours(1));
    let (_, ref_second) = file_as(&app, &w, "not_delivered", "B-1").await;
    let chris = sign_in(&app, "chris@example.test", PASSWORD).await;
    let (_, html) = visit(&app, "/complaints", &chris).await;
    assert!(
        position(&html, &ref_second) < position(&html, &ref_first),
        "newest first"
    );
    assert!(html.contains(&format!("href=\"/complaints/{first}\"")));
    assert!(html.contains("Teapot Shop"));
    assert!(html.contains("&#x2f;icons&#x2f;categories&#x2f;damaged.svg"));
    assert!(html.contains("left for the shop to answer"));
    let (_, still_empty) = visit(&app, "/complaints", &eve).await;
    assert!(
        !still_empty.contains(&ref_first),
        "only one's own complaints"
    );
}

async fn admins_retry_dead_mail_from_the_page(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    file_as(&app, &w, "damaged", "A-1").await;
    kill_queued_mail(&t);
    let dead = t.store().list_outbox(Some("dead"), 10).expect("dead mail");
    assert_eq!(dead.len(), 2);
    let admin = sign_in(&app, "admin@odr.test", PASSWORD).await;
    let (status, overview) = visit(&app, "/admin", &admin).await;
    assert_eq!(status, 200);
    assert!(overview.contains("550 mailbox unavailable"));
    let (status, html) = visit(&app, "/admin/mail", &admin).await;
    assert_eq!(status, 200);
    assert_eq!(
        html.matches(">Retry<").count(),
        2,
        "a Retry button per dead mail"
    );
    let token = csrf(&html);
    let target = format!("/admin/mail/{}/retry", dead[0].id);
    // Without the page's token the form is refused.
    let forged = form(&app, &target, &admin, &[]).await;
    assert_eq!(forged.status.as_u16(), 403);
    let staff = sign_in(&app, "staff@teapot.test", PASSWORD).await;
    let (_, staff_page) = visit(&app, "/inbox", &staff).await;
    let refused = form(&app, &target, &staff, &[("csrf", &csrf(&staff_page))]).await;
    assert_eq!(refused.status.as_u16(), 403, "only admins retry");
    let done = form(&app, &target, &admin, &[("csrf", &token)]).await;
    assert_eq!(done.status.as_u16(), 303);
    assert_eq!(see_other(&done), "/admin/mail?done=mail_requeued");
    let (_, after) = visit(&app, &see_other(&done), &admin).await;
    assert!(after.contains("The mail is queued again"));
    assert_eq!(after.matches(">Retry<").count(), 1);
    let pending = t.store().list_outbox(Some("pending"), 10).expect("pending");
    assert!(pending
        .iter()
        .any(|o| o.id == dead[0].id && o.attempts == 0));
    let again = form(&app, &target, &admin, &[("csrf", &token)]).await;
    assert_eq!(
        again.status.as_u16(),
        409,
        "a mail no longer dead is not retried"
    );
}

async fn admins_assign_a_mediator_and_the_queue_shows_it(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let (c, reference) = file_as(&app, &w, "damaged", "A-1").await;
    shop_escalates(&app, &c, &w).await;
    let mia = sign_in(&app, "mia@odr.test", PASSWORD).await;
    let (_, queue) = visit(&app, "/queue", &mia).await;
    assert!(queue.contains(&reference) && queue.contains("Not assigned yet"));
    let (_, mine) = visit(&app, "/queue?show=mine", &mia).await;
    assert!(!mine.contains(&reference));
    let admin = sign_in(&app, "admin@odr.test", PASSWORD).await;
    let (_, html) = visit(&app, "/admin", &admin).await;
    assert!(html.contains("Waiting for a mediator"));
    assert!(html.contains(&format!("action=\"/admin/complaints/{c}/mediator\"")));
    assert!(html.contains("Assign mediator"));
    let done = form(
        &app,
        &format!("/admin/complaints/{c}/mediator"),
        &admin,
        &[("csrf", &csrf(&html)), ("mediator_id", &w.mediator.id)],
    )
    .await;
    assert_eq!(done.status.as_u16(), 303, "{:?}", done.body);
    assert!(see_other(&done).starts_with("/admin?done=mediator_assigned"));
    let complaint = get(&app, &format!("/api/v1/complaints/{c}"), &w.admin)
        .await
        .expect(200);
    assert_eq!(complaint["mediator_id"], w.mediator.id.as_str());
    let (_, mine) = visit(&app, "/queue?show=mine", &mia).await;
    assert!(mine.contains(&reference) && mine.contains(">You<"));
    assert!(mine.contains("days left for you to decide"));
    let max = sign_in(&app, "max@odr.test", PASSWORD).await;
    let (_, theirs) = visit(&app, "/queue", &max).await;
    assert!(
        !theirs.contains(&reference),
        "another mediator's case is not in their queue"
    );
    let (_, all) = visit(&app, "/queue", &admin).await;
    assert!(all.contains(&reference) && all.contains("mia"));
    let (_, after) = visit(&app, "/admin", &admin).await;
    assert!(after.contains("Every escalated case has a mediator."));
    // An unknown mediator: the API's own refusal.
    let bad = form(
        &app,
        &format!("/admin/complaints/{c}/mediator"),
        &admin,
        &[("csrf", &csrf(&after)), ("mediator_id", "nobody")],
    )
    .await;
    assert_eq!(bad.status.as_u16(), 422);
}

async fn admins_manage_retailers_staff_and_mediators(db: Db) {
    let t = TestApp::new(db);
    let _w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let admin = sign_in(&app, "admin@odr.test", PASSWORD).await;
    let (_, html) = visit(&app, "/admin", &admin).await;
    assert!(html.contains("Teapot Shop") && html.contains("Other Shop"));
    let token = csrf(&html);
    let bad = form(
        &app,
        "/admin/retailers",
        &admin,
        &[
            ("csrf", &token),
            ("name", "Kettle Corner"),
            ("support_email", "not an address"),
            ("currency", "EUR"),
        ],
    )
    .await;
    assert_eq!(bad.status.as_u16(), 422);
    let bad_html = bad.body.as_str().unwrap_or_default();
    assert!(bad_html.contains("Please check the marked fields."));
    assert!(
        bad_html.contains("value=\"Kettle Corner\""),
        "what was typed stays"
    );
    let created = form(
        &app,
        "/admin/retailers",
        &admin,
        &[
            ("csrf", &token),
            ("name", "Kettle Corner"),
            ("support_email", "help@kettle.test"),
            ("locale", "fr"),
            ("currency", "EUR"),
            ("time_zone", "Europe/Paris"),
        ],
    )
    .await;
    assert_eq!(created.status.as_u16(), 303);
    let target = see_other(&created).to_owned();
    assert!(target.starts_with("/admin/retailers/") && target.ends_with("?done=retailer_created"));
    let retailer_path = target.split('?').next().unwrap().to_owned();
    let (_, page_html) = visit(&app, &target, &admin).await;
    assert!(page_html.contains("<h1>Kettle Corner</h1>"));
    assert!(page_html.contains("Français") && page_html.contains("Europe&#x2f;Paris"));
    assert!(page_html.contains("The retailer was created."));
    let invited = form(
        &app,
        &format!("{retailer_path}/staff"),
        &admin,
        &[
            ("csrf", &token),
            ("display_name", "Kim"),
            ("email", "kim@kettle.test"),
            ("password", ""),
        ],
    )
    .await;
    assert_eq!(invited.status.as_u16(), 303);
    assert!(see_other(&invited).ends_with("?done=staff_invited"));
    let (_, staff_html) = visit(&app, &see_other(&invited), &admin).await;
    assert!(staff_html.contains("kim@kettle.test") && staff_html.contains("Invited"));
    let invitations = t
        .store()
        .list_outbox(Some("pending"), 50)
        .expect("outbox")
        .into_iter()
        .filter(|o| o.to_address == "kim@kettle.test")
        .count();
    assert_eq!(invitations, 1, "an invitation is mailed");
    let taken = form(
        &app,
        &format!("{retailer_path}/staff"),
        &admin,
        &[
            ("csrf", &token),
            ("display_name", "Kim again"),
            ("email", "kim@kettle.test"),
            ("password", ""),
        ],
    )
    .await;
    assert_eq!(taken.status.as_u16(), 409);
    let kim = t
        .store()
        .staff_page(retailer_path.rsplit('/').next().unwrap(), None, 10)
        .expect("staff")
        .items
        .remove(0);
    let removed = form(
        &app,
        &format!("{retailer_path}/staff/{}/remove", kim.id),
        &admin,
        &[("csrf", &token)],
    )
    .await;
    assert_eq!(removed.status.as_u16(), 303);
    let (_, gone) = visit(&app, &see_other(&removed), &admin).await;
    assert!(gone.contains("The staff member was removed") && !gone.contains("kim@kettle.test"));
    let mediator = form(
        &app,
        "/admin/mediators",
        &admin,
        &[
            ("csrf", &token),
            ("display_name", "Noor"),
            ("email", "noor@odr.test"),
            ("password", "a long enough password"),
        ],
    )
    .await;
    assert_eq!(mediator.status.as_u16(), 303);
    let (_, list) = visit(&app, "/admin", &admin).await;
    assert!(list.contains("noor@odr.test"));
}

async fn the_dashboard_shows_numbers_and_charts(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let (a, _) = file_as(&app, &w, "damaged", "A-1").await;
    file_as(&app, &w, "not_delivered", "B-1").await;
    file_as(&app, &w, "damaged", "C-1").await;
    act(&app, &a, "acknowledge", &w.staff, json!({}))
        .await
        .expect(200);
    t.clock.advance(Duration::hours(3));
    let staff = sign_in(&app, "staff@teapot.test", PASSWORD).await;
    let (status, html) = visit(&app, "/dashboard", &staff).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Complaints filed from"));
    assert!(html.contains(": 3</p>"), "three complaints in the period");
    assert!(html.contains("<svg class=\"chart\""));
    assert!(html.contains("role=\"img\""));
    assert!(html.contains("<title id=\"chart-weekly-title\">Filed and closed per week</title>"));
    assert!(
        html.contains("<title>Damaged: 2</title>"),
        "the category bars"
    );
    assert!(html.contains("Agreement rate") && html.contains("Target 80%"));
    assert!(html.contains("Fulfilment rate") && html.contains("Target 98%"));
    assert!(html.contains("Show as table"));
    assert!(html.contains("Show statistics"));
    assert!(!html.contains("Other Shop"), "staff see only their shop");
    // Admins choose the shop and the period.
    let admin = sign_in(&app, "admin@odr.test", PASSWORD).await;
    let path = format!(
        "/dashboard?retailer={}&from=2026-11-01&to=2026-11-30",
        w.retailer_id
    );
    let (status, earlier) = visit(&app, &path, &admin).await;
    assert_eq!(status, 200);
    assert!(earlier.contains(": 0</p>"), "nothing was filed in November");
    assert!(earlier.contains("value=\"2026-11-01\"") && earlier.contains("value=\"2026-11-30\""));
    assert!(earlier.contains("Other Shop"), "admins pick the shop");
    let (status, bad) = visit(&app, "/dashboard?from=yesterday", &staff).await;
    assert_eq!(status, 422);
    assert!(bad.contains("Please check the dates"));
    assert!(
        bad.contains("<svg class=\"chart\""),
        "the default period still shows"
    );
}
