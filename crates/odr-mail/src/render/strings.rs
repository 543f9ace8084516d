//! The words of every mail, one TOML file per language, read into dotted
//! keys (`template.offer_proposed.customer.subject`). A key missing in a
//! language falls back to English, so a half-finished translation still
//! sends a readable mail; the tests insist that none is missing.

use std::collections::{BTreeMap, HashMap};

use odr_domain::locale::Locale;

use super::RenderError;

const SOURCES: [(Locale, &str); 5] = [
    (Locale::En, include_str!("../../locales/en.toml")),
    (Locale::De, include_str!("../../locales/de.toml")),
    (Locale::Fr, include_str!("../../locales/fr.toml")),
    (Locale::Es, include_str!("../../locales/es.toml")),
    (Locale::Sk, include_str!("../../locales/sk.toml")),
];

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Entry {
    Text(String),
    List(Vec<String>),
}

pub(super) type Table = HashMap<String, Entry>;

/// Values for the `{name}` placeholders of one mail.
pub(super) type Vars = BTreeMap<&'static str, String>;

/// Every language's strings, parsed once.
pub(super) struct Catalogue {
    tables: Vec<(Locale, Table)>,
}

impl Catalogue {
    pub(super) fn load() -> Result<Catalogue, RenderError> {
        let tables = SOURCES
            .iter()
            .map(|&(locale, source)| Ok((locale, parse(locale, source)?)))
            .collect::<Result<Vec<_>, RenderError>>()?;
        Ok(Catalogue { tables })
    }

    fn table(&self, locale: Locale) -> &Table {
        // Every locale is loaded in `load`; English is the first entry.
        self.tables
            .iter()
            .find(|(l, _)| *l == locale)
            .or_else(|| self.tables.first())
            .map(|(_, t)| t)
            .unwrap_or_else(|| unreachable!("the catalogue holds every locale"))
    }

    pub(super) fn reader(&self, locale: Locale) -> Reader<'_> {
        Reader {
            locale,
            own: self.table(locale),
            english: self.table(Locale::En),
        }
    }

    #[cfg(test)]
    pub(super) fn tables(&self) -> &[(Locale, Table)] {
        &self.tables
    }
}

fn parse(locale: Locale, source: &str) -> Result<Table, RenderError> {
    let broken = |detail: String| RenderError::Strings {
        locale: locale.code(),
        detail,
    };
    let root: toml::Table = toml::from_str(source).map_err(|e| broken(e.to_string()))?;
    let mut table = Table::new();
    flatten("", &toml::Value::Table(root), &mut table).map_err(broken)?;
    Ok(table)
}

fn flatten(prefix: &str, value: &toml::Value, into: &mut Table) -> Result<(), String> {
    match value {
        toml::Value::String(s) => {
            into.insert(prefix.to_owned(), Entry::Text(s.clone()));
        }
        toml::Value::Array(items) => {
            let texts = items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| format!("`{prefix}` must be a list of texts"))?;
            into.insert(prefix.to_owned(), Entry::List(texts));
        }
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, into)?;
            }
        }
        _ => return Err(format!("`{prefix}` must be a text, a list or a table")),
    }
    Ok(())
}

/// The strings one recipient reads: their language, then English.
#[derive(Clone, Copy)]
pub(super) struct Reader<'a> {
    pub(super) locale: Locale,
    own: &'a Table,
    english: &'a Table,
}

impl<'a> Reader<'a> {
    fn entry(&self, key: &str) -> Option<&'a Entry> {
        self.own.get(key).or_else(|| self.english.get(key))
    }

    fn missing(&self, key: &str) -> RenderError {
        RenderError::Strings {
            locale: self.locale.code(),
            detail: format!("`{key}` is missing"),
        }
    }

    pub(super) fn text(&self, key: &str) -> Result<&'a str, RenderError> {
        match self.entry(key) {
            Some(Entry::Text(s)) => Ok(s),
            _ => Err(self.missing(key)),
        }
    }

    pub(super) fn list(&self, key: &str) -> Result<&'a [String], RenderError> {
        match self.entry(key) {
            Some(Entry::List(l)) => Ok(l),
            _ => Err(self.missing(key)),
        }
    }

    /// The first of `keys` this language (or else English) has.
    pub(super) fn first_key(&self, keys: &[String]) -> Result<String, RenderError> {
        keys.iter()
            .find(|k| self.own.contains_key(k.as_str()))
            .or_else(|| keys.iter().find(|k| self.english.contains_key(k.as_str())))
            .cloned()
            .ok_or_else(|| self.missing(keys.first().map_or("", String::as_str)))
    }

    /// The text at `key` with its placeholders filled.
    pub(super) fn fill(&self, key: &str, vars: &Vars) -> Result<String, RenderError> {
        self.fill_text(key, self.text(key)?, vars)
    }

    /// Fills `{name}` placeholders in one pass, so a value that itself
    /// contains braces (a shop called "{customer}") is never read again.
    pub(super) fn fill_text(
        &self,
        key: &str,
        text: &str,
        vars: &Vars,
    ) -> Result<String, RenderError> {
        let mut out = String::with_capacity(text.len() + 32);
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| self.no_placeholder(key, after))?;
            let name = &after[..close];
            let value = vars
                .get(name)
                .ok_or_else(|| self.no_placeholder(key, name))?;
            out.push_str(value);
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn no_placeholder(&self, key: &str, name: &str) -> RenderError {
        RenderError::Placeholder {
            locale: self.locale.code(),
            key: key.to_owned(),
            name: name.to_owned(),
        }
    }
}

/// The placeholder names used in a text, for the completeness tests.
#[cfg(test)]
pub(super) fn placeholders(text: &str) -> std::collections::BTreeSet<String> {
    text.split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}
