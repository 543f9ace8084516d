//! The strings files: every language complete, and really translated.

use std::collections::BTreeSet;

use odr_domain::locale::Locale;

use super::sample::{facts, MATRIX};
use super::{render, renderer};
use crate::render::strings::{placeholders, Catalogue, Entry, Table};

#[test]
fn every_language_translates_every_mail_rather_than_showing_english() {
    let renderer = renderer();
    for (template, roles) in MATRIX {
        for role in roles {
            let english = render(template, role, "en");
            for locale in &Locale::ALL[1..] {
                let mail = renderer
                    .render(&facts(template, role, locale.code()))
                    .unwrap();
                assert_ne!(
                    mail.subject, english.subject,
                    "{template} to {role} in {locale} has an English subject"
                );
            }
        }
    }
}

/// Facts every complaint mail has; any of its texts may name them.
const ALWAYS_THERE: [&str; 8] = [
    "name",
    "reference",
    "shop",
    "customer",
    "order",
    "category",
    "desired_remedy",
    "mediator",
];

/// What a translated text may name: what English names in the same mail
/// (or the same group of shared texts), plus the facts every mail has. So a
/// translation never relies on a fact its mail may lack.
fn english_scope(english: &Table, key: &str) -> BTreeSet<String> {
    let group: String = key.split('.').take(2).collect::<Vec<_>>().join(".");
    let mut scope: BTreeSet<String> = english
        .iter()
        .filter(|(k, _)| k.starts_with(&format!("{group}.")) || *k == key)
        .flat_map(|(_, entry)| match entry {
            Entry::Text(t) => placeholders(t),
            Entry::List(l) => l.iter().flat_map(|t| placeholders(t)).collect(),
        })
        .collect();
    if key.starts_with("template.") && !key.starts_with("template.invitation.") {
        scope.extend(ALWAYS_THERE.map(String::from));
    }
    scope
}

#[test]
fn every_language_has_the_keys_and_placeholders_of_english() {
    let catalogue = Catalogue::load().unwrap();
    let tables = catalogue.tables();
    let english = &tables[0].1;
    for (locale, table) in &tables[1..] {
        for (key, entry) in english {
            let theirs = table
                .get(key)
                .unwrap_or_else(|| panic!("{locale} lacks `{key}`"));
            let used: BTreeSet<String> = match (entry, theirs) {
                (Entry::Text(_), Entry::Text(t)) => placeholders(t),
                (Entry::List(en), Entry::List(t)) => {
                    if key.starts_with("calendar.") {
                        assert_eq!(en.len(), t.len(), "{locale} `{key}`");
                    }
                    t.iter().flat_map(|s| placeholders(s)).collect()
                }
                _ => panic!("{locale} `{key}` has another shape than English"),
            };
            let scope = english_scope(english, key);
            assert!(
                used.is_subset(&scope),
                "{locale} `{key}` uses {used:?}; English offers only {scope:?} there"
            );
        }
        for key in table.keys() {
            assert!(english.contains_key(key), "{locale} has a stray `{key}`");
        }
    }
}
