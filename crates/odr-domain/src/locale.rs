//! The languages the engine speaks, and choosing one from `Accept-Language`.
//!
//! Every coded choice in a complaint (category, remedy, reasons, phrases) is
//! shown to each party in its own language; English is the fallback whenever
//! a request names nothing we support.

use std::fmt;
use std::str::FromStr;

use crate::taxonomy::UnknownCode;

/// A supported locale. Serialised as its lowercase code (`"de"`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    De,
    Fr,
    Es,
    Sk,
}

impl Locale {
    /// Every supported locale; ties in negotiation go to the earlier one.
    pub const ALL: [Locale; 5] = [Locale::En, Locale::De, Locale::Fr, Locale::Es, Locale::Sk];

    /// The ISO 639-1 code: `"en"`, `"de"`, `"fr"`, `"es"`, `"sk"`.
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::De => "de",
            Locale::Fr => "fr",
            Locale::Es => "es",
            Locale::Sk => "sk",
        }
    }

    /// Position in [`Locale::ALL`]; label tables are laid out in this order.
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// Reads a language tag such as `de`, `DE`, `de-AT`, `de_AT` or `sk-SK`.
    /// Only the primary language decides; a region or script is accepted and
    /// ignored as long as it looks like a subtag (1–8 letters or digits).
    pub fn parse(tag: &str) -> Option<Locale> {
        let mut subtags = tag.split(['-', '_']);
        let primary = subtags.next()?;
        let well_formed = subtags
            .all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()));
        if !well_formed {
            return None;
        }
        Locale::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    /// Picks the best supported locale from an Accept-Language header value,
    /// honouring q-values (q=0 means "not acceptable"), ties broken by order,
    /// "*" meaning any (English); English when nothing matches or header malformed.
    ///
    /// A malformed entry (bad q-value, empty range) is skipped rather than
    /// spoiling the entries around it: browsers and proxies do send junk, and
    /// the rest of the header still says what the reader understands.
    pub fn negotiate(accept_language: &str) -> Locale {
        let ranges: Vec<(Range, u16)> = accept_language.split(',').filter_map(entry).collect();
        // Computed once, so a long hostile header costs linear time.
        let mut ruled_out = [false; Locale::ALL.len()];
        for &(range, q) in &ranges {
            if let (Range::Only(locale), 0) = (range, q) {
                ruled_out[locale.index()] = true;
            }
        }
        let excluded = |locale: Locale| ruled_out[locale.index()];
        let mut best: Option<(Locale, u16)> = None;
        for &(range, q) in &ranges {
            if q == 0 {
                continue;
            }
            let candidate = match range {
                Range::Only(locale) if !excluded(locale) => Some(locale),
                Range::Only(_) => None,
                // "Anything": English, unless the reader ruled English out.
                Range::Any => Locale::ALL.into_iter().find(|&l| !excluded(l)),
            };
            if let Some(locale) = candidate {
                if best.is_none_or(|(_, best_q)| q > best_q) {
                    best = Some((locale, q));
                }
            }
        }
        best.map_or(Locale::En, |(locale, _)| locale)
    }
}

/// One language range of an Accept-Language header, as far as we care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Range {
    Only(Locale),
    Any,
}

/// Parses one comma-separated entry into a range we support and its q-value in
/// thousandths; `None` for unsupported languages and malformed entries.
fn entry(item: &str) -> Option<(Range, u16)> {
    let mut parts = item.split(';');
    let tag = parts.next()?.trim();
    let range = if tag == "*" {
        Range::Any
    } else {
        Range::Only(Locale::parse(tag)?)
    };
    let mut q = 1000;
    for param in parts {
        let (name, value) = param.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("q") {
            q = qvalue(value.trim())?;
        }
    }
    Some((range, q))
}

/// RFC 9110 qvalue (`0`, `0.5`, `1.000`, at most three decimals) in thousandths.
/// Integers rather than floats, so "0.9" vs "0.90" compare equal exactly.
fn qvalue(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u16 = match whole {
        "0" => 0,
        "1" => 1,
        _ => return None,
    };
    let thousandths = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0'));
    let q = whole * 1000 + thousandths;
    (q <= 1000).then_some(q)
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Locale {
    type Err = UnknownCode;

    /// Exactly one supported language (case-insensitive, region allowed).
    fn from_str(tag: &str) -> Result<Self, Self::Err> {
        Locale::parse(tag).ok_or_else(|| UnknownCode {
            kind: "locale",
            code: tag.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tags_with_region_or_any_case_name_their_language() {
        for (tag, expected) in [
            ("de", Locale::De),
            ("DE", Locale::De),
            ("de-AT", Locale::De),
            ("de_AT", Locale::De),
            ("sk-SK", Locale::Sk),
            ("es-419", Locale::Es),
            ("en-Latn-GB", Locale::En),
        ] {
            assert_eq!(Locale::parse(tag), Some(expected), "tag {tag:?}");
        }
    }

    #[test]
    fn unsupported_or_malformed_tags_are_not_a_locale() {
        for tag in [
            "it",
            "",
            "d",
            "deu",
            " fr",
            "de-",
            "de--AT",
            "de-AT!",
            "*",
            "en-toolongsubtag",
        ] {
            assert_eq!(Locale::parse(tag), None, "tag {tag:?}");
            let err = tag
                .parse::<Locale>()
                .expect_err("unsupported tag must be rejected");
            assert_eq!(err.kind, "locale");
        }
    }

    #[test]
    fn every_locale_round_trips_through_code_display_fromstr_and_serde() {
        for locale in Locale::ALL {
            assert_eq!(Locale::parse(locale.code()), Some(locale));
            assert_eq!(locale.to_string(), locale.code());
            assert_eq!(locale.code().parse::<Locale>(), Ok(locale));
            let json = serde_json::to_string(&locale).expect("locale serialises");
            assert_eq!(json, format!("\"{}\"", locale.code()));
            let back: Locale = serde_json::from_str(&json).expect("locale deserialises");
            assert_eq!(back, locale);
        }
        assert!(serde_json::from_str::<Locale>("\"it\"").is_err());
        assert_eq!(Locale::default(), Locale::En);
    }

    #[test]
    fn negotiate_picks_what_the_reader_prefers_most() {
        for (header, expected) in [
            ("de-DE,de;q=0.9,en;q=0.8", Locale::De),
            ("fr;q=0.1, sk;q=0.9", Locale::Sk),
            ("it, es;q=0.5", Locale::Es),
            ("", Locale::En),
            ("garbage;;q=x", Locale::En),
            ("*", Locale::En),
            ("de;q=0, fr", Locale::Fr),
            ("fr;q=0.5, es;q=0.5", Locale::Fr),
            ("fr;q=0.50, es;q=0.500", Locale::Fr),
            ("en;q=0, *", Locale::De),
            ("de;q=0", Locale::En),
            ("*;q=0.1, sk;q=0.2", Locale::Sk),
            ("es;q=1.5, sk;q=0.3", Locale::Sk),
            ("FR-ca ; Q=0.7 , it", Locale::Fr),
        ] {
            assert_eq!(Locale::negotiate(header), expected, "header {header:?}");
        }
    }

    #[test]
    fn qvalues_follow_the_rfc_grammar() {
        assert_eq!(qvalue("1"), Some(1000));
        assert_eq!(qvalue("1.000"), Some(1000));
        assert_eq!(qvalue("0.25"), Some(250));
        assert_eq!(qvalue("0."), Some(0));
        for bad in [
            "1.001", "2", "0.1234", "-0.5", "", "x", ".5", "0.5e1", "NaN", "inf",
        ] {
            assert_eq!(qvalue(bad), None, "qvalue {bad:?}");
        }
    }

    proptest! {
        #[test]
        fn negotiate_never_panics_on_arbitrary_headers(header in any::<String>()) {
            let _ = Locale::negotiate(&header);
        }

        #[test]
        fn negotiate_never_panics_on_header_shaped_input(
            header in r"([a-zA-Z*_-]{0,6}(;[ qQ]{0,2}=?[0-9.]{0,5})*,? ?){0,6}"
        ) {
            let chosen = Locale::negotiate(&header);
            prop_assert!(Locale::ALL.contains(&chosen));
        }
    }
}
