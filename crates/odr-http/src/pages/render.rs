//! The page templates (minijinja, auto-escaped HTML) and their words.
//!
//! Templates live in `pages/templates/` and are embedded at build time: add
//! a new one to [`TEMPLATES`]. Words live in `pages/locales/<area>/<code>.toml`
//! (flat keys, listed in [`WORDS`]); English is complete and every other language falls back to
//! it key by key (a test lists what a language lacks). Templates read words
//! as `{{ tr.key }}`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::HttpResponse;
use minijinja::{context, AutoEscape, Environment, UndefinedBehavior, Value};
use odr_domain::locale::Locale;

use super::failure::PageError;
use super::session::Visitor;

/// Every template, by name. Order does not matter.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../pages/templates/base.html")),
    (
        "macros.html",
        include_str!("../../pages/templates/macros.html"),
    ),
    (
        "error.html",
        include_str!("../../pages/templates/error.html"),
    ),
    ("home.html", include_str!("../../pages/templates/home.html")),
    (
        "sign_in.html",
        include_str!("../../pages/templates/sign_in.html"),
    ),
    (
        "register.html",
        include_str!("../../pages/templates/register.html"),
    ),
    (
        "link_sent.html",
        include_str!("../../pages/templates/link_sent.html"),
    ),
    (
        "complaint_new.html",
        include_str!("../../pages/templates/complaint_new.html"),
    ),
    (
        "complaint.html",
        include_str!("../../pages/templates/complaint.html"),
    ),
    (
        "complaint_forms.html",
        include_str!("../../pages/templates/complaint_forms.html"),
    ),
    (
        "staff_macros.html",
        include_str!("../../pages/templates/staff_macros.html"),
    ),
    (
        "my_complaints.html",
        include_str!("../../pages/templates/my_complaints.html"),
    ),
    (
        "inbox.html",
        include_str!("../../pages/templates/inbox.html"),
    ),
    (
        "queue.html",
        include_str!("../../pages/templates/queue.html"),
    ),
    (
        "admin.html",
        include_str!("../../pages/templates/admin.html"),
    ),
    (
        "admin_retailer.html",
        include_str!("../../pages/templates/admin_retailer.html"),
    ),
    (
        "admin_mail.html",
        include_str!("../../pages/templates/admin_mail.html"),
    ),
    (
        "dashboard.html",
        include_str!("../../pages/templates/dashboard.html"),
    ),
    (
        "case_file_print.html",
        include_str!("../../pages/templates/case_file_print.html"),
    ),
    (
        "report_refused.html",
        include_str!("../../pages/templates/report_refused.html"),
    ),
    (
        "report_sent.html",
        include_str!("../../pages/templates/report_sent.html"),
    ),
    (
        "integration.html",
        include_str!("../../pages/templates/integration.html"),
    ),
];

/// The languages, English first (the fallback).
const LANGUAGES: [Locale; 5] = [Locale::En, Locale::De, Locale::Fr, Locale::Es, Locale::Sk];

/// The word files: one per area of the pages and language, as
/// `(area, locale, toml)`. A key lives in exactly one area (a test checks).
const WORDS: &[(&str, Locale, &str)] = &[
    (
        "account",
        Locale::En,
        include_str!("../../pages/locales/account/en.toml"),
    ),
    (
        "account",
        Locale::De,
        include_str!("../../pages/locales/account/de.toml"),
    ),
    (
        "account",
        Locale::Fr,
        include_str!("../../pages/locales/account/fr.toml"),
    ),
    (
        "account",
        Locale::Es,
        include_str!("../../pages/locales/account/es.toml"),
    ),
    (
        "account",
        Locale::Sk,
        include_str!("../../pages/locales/account/sk.toml"),
    ),
    (
        "complaint",
        Locale::En,
        include_str!("../../pages/locales/complaint/en.toml"),
    ),
    (
        "complaint",
        Locale::De,
        include_str!("../../pages/locales/complaint/de.toml"),
    ),
    (
        "complaint",
        Locale::Fr,
        include_str!("../../pages/locales/complaint/fr.toml"),
    ),
    (
        "complaint",
        Locale::Es,
        include_str!("../../pages/locales/complaint/es.toml"),
    ),
    (
        "complaint",
        Locale::Sk,
        include_str!("../../pages/locales/complaint/sk.toml"),
    ),
    (
        "staff",
        Locale::En,
        include_str!("../../pages/locales/staff/en.toml"),
    ),
    (
        "staff",
        Locale::De,
        include_str!("../../pages/locales/staff/de.toml"),
    ),
    (
        "staff",
        Locale::Fr,
        include_str!("../../pages/locales/staff/fr.toml"),
    ),
    (
        "staff",
        Locale::Es,
        include_str!("../../pages/locales/staff/es.toml"),
    ),
    (
        "staff",
        Locale::Sk,
        include_str!("../../pages/locales/staff/sk.toml"),
    ),
    (
        "report",
        Locale::En,
        include_str!("../../pages/locales/report/en.toml"),
    ),
    (
        "report",
        Locale::De,
        include_str!("../../pages/locales/report/de.toml"),
    ),
    (
        "report",
        Locale::Fr,
        include_str!("../../pages/locales/report/fr.toml"),
    ),
    (
        "report",
        Locale::Es,
        include_str!("../../pages/locales/report/es.toml"),
    ),
    (
        "report",
        Locale::Sk,
        include_str!("../../pages/locales/report/sk.toml"),
    ),
    (
        "export",
        Locale::En,
        include_str!("../../pages/locales/export/en.toml"),
    ),
    (
        "export",
        Locale::De,
        include_str!("../../pages/locales/export/de.toml"),
    ),
    (
        "export",
        Locale::Fr,
        include_str!("../../pages/locales/export/fr.toml"),
    ),
    (
        "export",
        Locale::Es,
        include_str!("../../pages/locales/export/es.toml"),
    ),
    (
        "export",
        Locale::Sk,
        include_str!("../../pages/locales/export/sk.toml"),
    ),
    (
        "integration",
        Locale::En,
        include_str!("../../pages/locales/integration/en.toml"),
    ),
    (
        "integration",
        Locale::De,
        include_str!("../../pages/locales/integration/de.toml"),
    ),
    (
        "integration",
        Locale::Fr,
        include_str!("../../pages/locales/integration/fr.toml"),
    ),
    (
        "integration",
        Locale::Es,
        include_str!("../../pages/locales/integration/es.toml"),
    ),
    (
        "integration",
        Locale::Sk,
        include_str!("../../pages/locales/integration/sk.toml"),
    ),
];

fn parse_words(source: &str) -> BTreeMap<String, String> {
    toml::from_str(source).unwrap_or_else(|e| {
        tracing::error!(error = %e, "page words do not parse");
        BTreeMap::new()
    })
}

/// Every word of one language, over all areas (without fallback).
fn own_words(locale: Locale) -> BTreeMap<String, String> {
    WORDS
        .iter()
        .filter(|(_, l, _)| *l == locale)
        .flat_map(|(_, _, source)| parse_words(source))
        .collect()
}

/// The words of one language, English filling what it lacks.
#[derive(Debug, Clone)]
pub struct Strings {
    words: BTreeMap<String, String>,
    /// The same words as a template value (`tr`), built once: every page
    /// render hands it out instead of serialising the map again.
    value: Value,
}

impl Strings {
    pub fn of(locale: Locale) -> &'static Strings {
        &PAGES.strings[locale_index(locale)]
    }

    /// The word for `key`; the key itself when even English lacks it (a
    /// test keeps that from happening).
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.words.get(key).map_or(key, String::as_str)
    }

    /// The word with `{name}` placeholders filled.
    pub fn fill(&self, key: &str, args: &[(&str, &str)]) -> String {
        args.iter()
            .fold(self.get(key).to_owned(), |text, (name, value)| {
                text.replace(&format!("{{{name}}}"), value)
            })
    }

    fn value(&self) -> Value {
        self.value.clone()
    }
}

fn locale_index(locale: Locale) -> usize {
    LANGUAGES
        .iter()
        .position(|l| *l == locale)
        .unwrap_or_default()
}

struct Pages {
    env: Environment<'static>,
    strings: Vec<Strings>,
}

static PAGES: LazyLock<Pages> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    for (name, source) in TEMPLATES {
        if let Err(e) = env.add_template(name, source) {
            // Caught by the test that renders every template.
            tracing::error!(template = name, error = %e, "page template does not parse");
        }
    }
    let english = own_words(Locale::En);
    let strings = LANGUAGES
        .iter()
        .map(|l| {
            let mut words = english.clone();
            words.extend(own_words(*l));
            let value = Value::from_serialize(&words);
            Strings { words, value }
        })
        .collect();
    Pages { env, strings }
});

/// Renders `template` inside the page frame: `ctx` plus what every page
/// knows (`tr` words, `locale`, `locales`, `me`, `csrf`, `path`, `nav`).
pub fn render(visitor: &Visitor, template: &str, ctx: Value) -> Result<HttpResponse, PageError> {
    let html = render_to_string(visitor, template, ctx)?;
    Ok(html_response(html))
}

pub(crate) fn render_to_string(
    visitor: &Visitor,
    template: &str,
    ctx: Value,
) -> Result<String, PageError> {
    let tmpl = PAGES
        .env
        .get_template(template)
        .map_err(|e| PageError::broken(format!("template {template}: {e}")))?;
    let common = context! {
        tr => Strings::of(visitor.locale).value(),
        locale => visitor.locale.code(),
        locales => LANGUAGES.iter().map(|l| context! {
            code => l.code(),
            name => Strings::of(*l).get("language_name"),
        }).collect::<Vec<_>>(),
        me => visitor.caller.as_ref().map(|c| context! {
            id => c.user.id.clone(),
            display_name => c.user.display_name.clone(),
            email => c.user.email.clone(),
            role => c.user.role.code(),
            retailer_id => c.user.retailer_id.clone(),
        }),
        csrf => visitor.csrf.clone(),
        path => visitor.path.clone(),
        nav => visitor.nav(),
    };
    tmpl.render(context! { ..ctx, ..common })
        .map_err(|e| PageError::broken(format!("template {template}: {e:#}")))
}

pub(crate) fn html_response(html: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::VARY, "Cookie, Accept-Language"))
        .body(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        for (name, source) in TEMPLATES {
            let mut env = Environment::new();
            let parsed = env.add_template(name, source);
            assert!(parsed.is_ok(), "{name} does not parse: {:?}", parsed.err());
            assert!(
                PAGES.env.get_template(name).is_ok(),
                "{name} does not parse: {:?}",
                PAGES.env.get_template(name).err()
            );
        }
    }

    #[test]
    fn every_language_has_every_word() {
        let english = own_words(Locale::En);
        for locale in LANGUAGES {
            let own = own_words(locale);
            let missing: Vec<&String> = english.keys().filter(|k| !own.contains_key(*k)).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", locale.code());
            let extra: Vec<&String> = own.keys().filter(|k| !english.contains_key(*k)).collect();
            assert!(
                extra.is_empty(),
                "{} has words English lacks: {extra:?}",
                locale.code()
            );
        }
    }

    #[test]
    fn every_word_file_parses_and_no_key_lives_in_two_areas() {
        for (area, locale, source) in WORDS {
            let parsed: Result<BTreeMap<String, String>, _> = toml::from_str(source);
            assert!(
                parsed.is_ok(),
                "{area}/{}.toml: {:?}",
                locale.code(),
                parsed.err()
            );
        }
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for (area, _, source) in WORDS.iter().filter(|(_, l, _)| *l == Locale::En) {
            for key in parse_words(source).into_keys() {
                if let Some(other) = seen.insert(key.clone(), area) {
                    assert_eq!(other, *area, "{key} is in both {other} and {area}");
                }
            }
        }
    }

    #[test]
    fn placeholders_are_filled() {
        let en = Strings::of(Locale::En);
        assert!(!en.get("language_name").is_empty());
        assert_eq!(Strings::of(Locale::De).get("language_name"), "Deutsch");
    }
}
