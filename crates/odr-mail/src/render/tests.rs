mod locales;
mod sample;

use odr_domain::locale::Locale;
use odr_domain::money::Money;

use super::compose;
use super::format;
use super::strings::Catalogue;
use super::{RenderError, RenderedMail, Renderer};
use sample::{complaint_of, facts, money, MATRIX, PUBLIC_URL, REFERENCE, ZONE};

fn renderer() -> Renderer {
    Renderer::new(PUBLIC_URL).expect("the renderer builds from its embedded files")
}

fn html_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

fn render(template: &str, role: &str, locale: &str) -> RenderedMail {
    renderer()
        .render(&facts(template, role, locale))
        .unwrap_or_else(|e| panic!("{template} to {role} in {locale} fails: {e}"))
}

#[test]
fn every_mail_renders_for_every_recipient_in_every_language() {
    let renderer = renderer();
    let catalogue = Catalogue::load().unwrap();
    let complaint_url = format!("{PUBLIC_URL}/complaints/{}", sample::COMPLAINT_ID);
    let sign_in_url = format!("{PUBLIC_URL}/sign-in");
    for (template, roles) in MATRIX {
        for role in roles {
            for locale in Locale::ALL {
                let facts = facts(template, role, locale.code());
                let what = format!("{template} to {role} in {locale}");
                let mail = renderer
                    .render(&facts)
                    .unwrap_or_else(|e| panic!("{what} fails: {e}"));
                assert!(
                    !mail.subject.contains(['\r', '\n']),
                    "{what}: subject breaks the header"
                );
                assert!(
                    mail.html.contains(&format!("<html lang=\"{locale}\"")),
                    "{what}: HTML does not say its language"
                );
                assert!(mail.text.contains(&sign_in_url), "{what}: no sign-in link");
                assert!(mail.html.contains(&sign_in_url), "{what}: no sign-in link");
                if [
                    "invitation",
                    "magic_link",
                    "guest_filing",
                    "webhook_disabled",
                ]
                .contains(&template)
                {
                    continue;
                }
                assert!(
                    mail.subject.starts_with(&format!("[{REFERENCE}] ")),
                    "{what}: subject lacks the reference: {}",
                    mail.subject
                );
                assert!(mail.text.contains(&complaint_url), "{what}: no link");
                assert!(mail.html.contains(&complaint_url), "{what}: no link");
                let view = compose::view(&catalogue.reader(locale), PUBLIC_URL, &facts).unwrap();
                let status = view.status.expect("a complaint mail tells its status");
                assert!(mail.text.contains(&status.state), "{what}: no state");
                assert!(
                    mail.html.contains(&html_escaped(&status.state)),
                    "{what}: no state in HTML"
                );
                let deadline = status.deadline.expect("who acts (or that nobody does)");
                assert!(mail.text.contains(&deadline), "{what}: no deadline");
                assert!(mail.html.contains(&html_escaped(&deadline)), "{what}");
                let open = facts
                    .complaint
                    .as_ref()
                    .is_some_and(|c| c.state != "closed");
                if open {
                    assert!(
                        deadline.contains(&format!("({ZONE})")),
                        "{what}: deadline without its zone: {deadline}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_german_recipient_reads_german() {
    let mail = render("offer_proposed", "customer", "de");
    assert!(mail.subject.contains("Angebot"), "{}", mail.subject);
    for words in [
        "Guten Tag Jana Nováková,",
        "Teilerstattung über 25,00 EUR",
        "Freitag, 4. Dezember 2026, 10:00 Uhr (Europe/Bratislava)",
        "Antworten auf diese E-Mail werden nicht gelesen",
    ] {
        assert!(
            mail.text.contains(words),
            "missing {words:?} in:\n{}",
            mail.text
        );
    }
    assert!(
        !mail.text.contains("Hello"),
        "English words in a German mail"
    );
}

#[test]
fn an_unknown_language_falls_back_to_english() {
    let mail = render("offer_proposed", "customer", "it");
    assert_eq!(
        mail.subject,
        "[ODR-7Q4K-92XD] Alpen Outdoor has made you an offer"
    );
    assert!(mail.text.contains("Hello Jana Nováková,"));
    assert!(mail.html.contains("<html lang=\"en\""));
}

#[test]
fn a_script_in_a_message_is_escaped_in_html_and_kept_as_text_in_plain_text() {
    let mut facts = facts("message_added", "retailer", "en");
    let body = "<script>alert('x')</script> & more";
    complaint_of(&mut facts).message.as_mut().unwrap().body = Some(body.into());
    let mail = renderer().render(&facts).unwrap();
    assert!(mail
        .html
        .contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more"));
    assert!(!mail.html.contains("<script"), "{}", mail.html);
    assert!(mail.text.contains(&format!("> {body}")));
}

#[test]
fn a_header_injection_in_a_shop_name_stays_on_one_subject_line() {
    let mut facts = facts("offer_proposed", "customer", "en");
    complaint_of(&mut facts).retailer_name = "Evil Shop\r\nBcc: evil@x".into();
    let mail = renderer().render(&facts).unwrap();
    assert!(!mail.subject.contains(['\r', '\n']));
    assert_eq!(
        mail.subject,
        "[ODR-7Q4K-92XD] Evil Shop Bcc: evil@x has made you an offer"
    );
    assert!(
        !mail.text.contains("\nBcc:"),
        "a name must not start a line"
    );
}

#[test]
fn subjects_are_capped_and_keep_the_reference() {
    let mut facts = facts("offer_proposed", "customer", "en");
    complaint_of(&mut facts).retailer_name = "Very Long Shop Name ".repeat(20);
    let mail = renderer().render(&facts).unwrap();
    assert!(mail.subject.chars().count() <= 150, "{}", mail.subject);
    assert!(mail.subject.starts_with("[ODR-7Q4K-92XD] Very Long Shop"));
    assert!(mail.subject.ends_with('…'));
}

#[test]
fn phrases_are_shown_in_the_readers_language() {
    // A Slovak customer picked the phrases; the German shop reads them in German.
    let mut facts = facts("message_added", "retailer", "de");
    complaint_of(&mut facts).customer_name = "Ján Kováč".into();
    let mail = renderer().render(&facts).unwrap();
    for text in [&mail.text, &mail.html] {
        assert!(text.contains("Die Fotos sind beigefügt."), "{text}");
        assert!(text.contains("Vielen Dank."));
        assert!(!text.contains("Fotografie sú v prílohe."));
        assert!(
            text.contains("Here is the box it came in."),
            "free text as written"
        );
    }
    assert!(mail.text.contains("Ján Kováč"), "the author is named");
}

#[test]
fn times_are_local_to_the_recipient_with_the_zone_named() {
    let mail = render("complaint_filed", "retailer", "en");
    let sentence = "You have until Friday, 4 December 2026, 10:00 (Europe/Bratislava) to answer.";
    assert!(mail.text.contains(sentence), "{}", mail.text);
    let mut facts = facts("complaint_filed", "retailer", "en");
    facts.time_zone = "Mars/Olympus_Mons".into();
    let mail = renderer().render(&facts).unwrap();
    assert!(mail.text.contains("Friday, 4 December 2026, 09:00 (UTC)"));
}

#[test]
fn dates_read_naturally_in_every_language() {
    let expected = [
        (
            "de",
            "bis Freitag, 4. Dezember 2026, 10:00 Uhr (Europe/Bratislava)",
        ),
        (
            "fr",
            "jusqu’au vendredi 4 décembre 2026 à 10 h 00 (Europe/Bratislava)",
        ),
        (
            "es",
            "hasta el viernes 4 de diciembre de 2026, a las 10:00 (Europe/Bratislava)",
        ),
        (
            "sk",
            "do piatka 4. decembra 2026, 10:00 (Europe/Bratislava)",
        ),
    ];
    for (locale, words) in expected {
        let mail = render("complaint_filed", "retailer", locale);
        assert!(mail.text.contains(words), "{locale}:\n{}", mail.text);
    }
}

fn amount(locale: Locale, m: Money) -> String {
    let catalogue = Catalogue::load().unwrap();
    format::money(&catalogue.reader(locale), &m).unwrap()
}

#[test]
fn amounts_follow_the_currency_exponent_and_the_readers_habits() {
    assert_eq!(amount(Locale::En, money(2500, "EUR")), "EUR 25.00");
    assert_eq!(amount(Locale::De, money(2500, "EUR")), "25,00 EUR");
    assert_eq!(amount(Locale::Fr, money(2505, "EUR")), "25,05 EUR");
    assert_eq!(amount(Locale::Es, money(2500, "EUR")), "25,00 EUR");
    assert_eq!(amount(Locale::Sk, money(2500, "EUR")), "25,00 EUR");
    assert_eq!(amount(Locale::En, money(1500, "JPY")), "JPY 1,500");
    assert_eq!(amount(Locale::De, money(1500, "JPY")), "1.500 JPY");
    assert_eq!(amount(Locale::En, money(1234, "KWD")), "KWD 1.234");
    assert_eq!(amount(Locale::De, money(5, "KWD")), "0,005 KWD");
    assert_eq!(
        amount(Locale::En, money(123_456_789, "EUR")),
        "EUR 1,234,567.89"
    );
    assert_eq!(
        amount(Locale::Sk, money(123_456_789, "EUR")),
        "1\u{a0}234\u{a0}567,89 EUR"
    );
}

#[test]
fn a_closed_complaint_says_nobody_must_act_and_how_it_ended() {
    let mail = render("lapsed", "customer", "en");
    assert!(mail
        .text
        .contains("Status: closed: the offer expired without an answer"));
    assert!(mail.text.contains("Nobody needs to act any more"));
    let mail = render("decided", "retailer", "en");
    assert!(mail.text.contains("closed, decided by the mediator"));
    assert!(mail.text.contains("in favour of the customer"));
    assert!(mail.text.contains("Partial refund of EUR 40.00"));
    assert!(mail.text.contains("> The photos show the damage clearly."));
}

#[test]
fn a_closing_mail_asks_the_customer_one_question_with_five_links() {
    let renderer = renderer();
    let catalogue = Catalogue::load().unwrap();
    let page = format!("{PUBLIC_URL}/complaints/{}", sample::COMPLAINT_ID);
    for template in ["fulfilled", "decided", "withdrawn", "lapsed"] {
        for locale in Locale::ALL {
            let what = format!("{template} in {locale}");
            let facts = facts(template, "customer", locale.code());
            let mail = renderer.render(&facts).unwrap();
            let reader = catalogue.reader(locale);
            let question = reader.text("feedback.question").unwrap();
            let comment = reader.text("feedback.comment").unwrap();
            assert!(mail.text.contains(question), "{what}: no question");
            assert!(mail.html.contains(&html_escaped(question)), "{what}");
            assert!(mail.text.contains(comment), "{what}: no comment line");
            assert!(mail.html.contains(&html_escaped(comment)), "{what}");
            for n in 1..=5 {
                let link = format!("{page}?feedback={n}#feedback");
                assert!(mail.text.contains(&link), "{what}: no link {n}");
                assert!(
                    mail.html.contains(&format!("href=\"{link}\"")),
                    "{what}: no HTML link {n}"
                );
            }
            assert!(!mail.text.contains("?feedback=6"), "{what}");
        }
        // The shop and the mediator are not asked.
        for role in ["retailer", "mediator"] {
            let mail = render(template, role, "en");
            assert!(!mail.text.contains("feedback="), "{template} to {role}");
            assert!(!mail.html.contains("feedback="), "{template} to {role}");
        }
    }
    // Nor is the customer of a complaint still open.
    let open = render("acknowledged", "customer", "en");
    assert!(!open.text.contains("feedback="));
    let english = render("fulfilled", "customer", "en");
    assert!(english
        .text
        .contains("how satisfied are you with how your complaint was handled?"));
    assert!(english
        .text
        .contains("1 = not at all satisfied, 5 = very satisfied"));
}

#[test]
fn the_mail_details_what_happened() {
    let offer = render("offer_proposed", "customer", "en");
    assert!(offer
        .text
        .contains("Partial refund of EUR 25.00 (offer 1 of 3)"));
    assert!(offer.text.contains("> We would like to make it right."));
    let rejected = render("offer_rejected", "retailer", "en");
    for words in [
        "Amount too low",
        "Would prefer: Replacement",
        "much more than that",
    ] {
        assert!(
            rejected.text.contains(words),
            "{words:?} in:\n{}",
            rejected.text
        );
    }
    let escalated = render("escalated", "admin", "en");
    assert!(escalated.text.contains("waiting for a neutral mediator"));
    assert!(escalated.text.contains("Offers rejected"));
    let assigned = render("mediator_assigned", "customer", "en");
    assert!(assigned.text.contains("Dr. Eva Horváth"));
    let withdrawn = render("withdrawn", "retailer", "en");
    assert!(withdrawn
        .text
        .contains("Written by the customer (Jana Nováková):"));
    assert!(withdrawn
        .text
        .contains("> The shop called me and we sorted it out."));
    let reminder = render("deadline_reminder", "customer", "en");
    assert!(reminder
        .text
        .contains("Deadline: Friday, 4 December 2026, 10:00"));
}

#[test]
fn the_last_allowed_offer_is_called_final_and_cannot_be_turned_down() {
    let mut facts = facts("offer_proposed", "customer", "en");
    complaint_of(&mut facts).offer.as_mut().unwrap().round = 3;
    let mail = renderer().render(&facts).unwrap();
    assert!(mail
        .text
        .contains("This is the last offer the shop can make"));
    assert!(!mail.text.contains("turn it down"), "{}", mail.text);
}

#[test]
fn an_invitation_links_to_the_sign_in_page() {
    let mail = render("invitation", "retailer_staff", "en");
    assert_eq!(
        mail.subject,
        "You are invited to answer complaints for Alpen Outdoor"
    );
    assert!(mail.html.contains("href=\"http://127.0.0.1:8080/sign-in\""));
    assert!(!mail.text.contains("/complaints/"));
}

#[test]
fn wrong_facts_are_errors_not_half_mails() {
    let renderer = renderer();
    let mut unknown = facts("acknowledged", "customer", "en");
    unknown.template = "acknowledged_twice".into();
    assert!(matches!(
        renderer.render(&unknown),
        Err(RenderError::UnknownTemplate(_))
    ));
    let mut role = facts("acknowledged", "customer", "en");
    role.recipient_role = "bystander".into();
    assert!(matches!(
        renderer.render(&role),
        Err(RenderError::UnknownRecipientRole(_))
    ));
    let mut code = facts("acknowledged", "customer", "en");
    complaint_of(&mut code).category = "lost_in_space".into();
    assert!(matches!(
        renderer.render(&code),
        Err(RenderError::UnknownCode(_))
    ));
    let mut bare = facts("acknowledged", "customer", "en");
    bare.complaint = None;
    assert!(matches!(
        renderer.render(&bare),
        Err(RenderError::MissingFacts { .. })
    ));
}

#[test]
fn the_public_url_must_be_an_absolute_http_url() {
    assert!(Renderer::new("https://odr.example/").is_ok());
    for bad in [
        "",
        "odr.example",
        "ftp://odr.example",
        "http://",
        "http://a b",
    ] {
        assert!(Renderer::new(bad).is_err(), "{bad:?} accepted");
    }
    let mail = Renderer::new("https://odr.example/")
        .unwrap()
        .render(&facts("acknowledged", "customer", "en"))
        .unwrap();
    assert!(mail.text.contains("https://odr.example/complaints/"));
}

#[test]
fn braces_in_a_name_are_shown_not_filled_in() {
    let mut facts = facts("offer_proposed", "customer", "en");
    complaint_of(&mut facts).retailer_name = "{customer} & {{co}}".into();
    let mail = renderer().render(&facts).unwrap();
    assert!(mail
        .subject
        .contains("{customer} & {{co}} has made you an offer"));
    assert!(mail.html.contains("{customer} &amp; {{co}}"));
}

#[test]
fn one_renderer_serves_every_worker_thread() {
    fn shared<T: Send + Sync>() {}
    shared::<Renderer>();
}

#[test]
fn one_line_removes_every_kind_of_line_break() {
    assert_eq!(
        format::one_line(" a\r\nb\tc\u{2028}d\u{202e}e  "),
        "a b c d e"
    );
    assert_eq!(format::subject(Some("R-1"), "x\ny"), "[R-1] x y");
}

#[test]
#[ignore = "prints the mails named in SAMPLES (template:role:locale,...) for proofreading"]
fn print_samples() {
    let renderer = renderer();
    let which = std::env::var("SAMPLES").unwrap_or_default();
    for item in which.split(',').filter(|s| !s.is_empty()) {
        let parts: Vec<&str> = item.split(':').collect();
        let mail = renderer
            .render(&facts(parts[0], parts[1], parts[2]))
            .unwrap();
        println!("=== {item}\nSubject: {}\n\n{}", mail.subject, mail.text);
    }
}
