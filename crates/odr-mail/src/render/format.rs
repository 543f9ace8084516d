//! Dates, amounts and subject lines as a reader of one language expects
//! them. The month and weekday names come from the strings files, so no
//! i18n crate is needed for five languages.

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;
use minijinja::{escape_formatter, AutoEscape, Output, State, Value};
use odr_domain::money::Money;

use super::strings::{Reader, Vars};
use super::RenderError;

/// The longest subject we write, in characters, reference included.
const SUBJECT_MAX: usize = 150;

/// The recipient's zone, UTC when the stored name is not an IANA zone: the
/// mail names the zone either way, so a time is never ambiguous.
pub(super) fn zone(name: &str) -> Tz {
    name.trim().parse().unwrap_or(Tz::UTC)
}

/// "Friday, 4 December 2026, 10:00 (Europe/Bratislava)" in the reader's words.
pub(super) fn when(strings: &Reader<'_>, at: DateTime<Utc>, tz: Tz) -> Result<String, RenderError> {
    let local = at.with_timezone(&tz);
    let months = strings.list("calendar.months")?;
    let weekdays = strings.list("calendar.weekdays")?;
    let pick = |names: &[String], i: usize, key: &str| {
        names.get(i).cloned().ok_or_else(|| RenderError::Strings {
            locale: strings.locale.code(),
            detail: format!("`{key}` needs an entry number {}", i + 1),
        })
    };
    let day = if local.day() == 1 {
        strings.text("calendar.first_day")?.to_owned()
    } else {
        local.day().to_string()
    };
    let time_vars = Vars::from([
        ("hour", format!("{:02}", local.hour())),
        ("minute", format!("{:02}", local.minute())),
    ]);
    let vars = Vars::from([
        (
            "weekday",
            pick(
                weekdays,
                local.weekday().num_days_from_monday() as usize,
                "calendar.weekdays",
            )?,
        ),
        ("day", day),
        (
            "month",
            pick(months, local.month0() as usize, "calendar.months")?,
        ),
        ("year", local.year().to_string()),
        ("time", strings.fill("calendar.time", &time_vars)?),
        ("zone", tz.name().to_owned()),
    ]);
    strings.fill("calendar.datetime", &vars)
}

/// "EUR 1,234.50" or "1.234,50 EUR": the currency's own number of decimals
/// (JPY none, KWD three), the reader's separators and order.
pub(super) fn money(strings: &Reader<'_>, m: &Money) -> Result<String, RenderError> {
    let exponent = u32::from(m.currency.exponent());
    let scale = 10u64.checked_pow(exponent).unwrap_or(1);
    let minor = m.amount_minor.unsigned_abs();
    let whole = grouped(minor / scale, strings.text("money.group")?);
    let mut amount = String::new();
    if m.amount_minor < 0 {
        amount.push('-');
    }
    amount.push_str(&whole);
    if exponent > 0 {
        amount.push_str(strings.text("money.decimal")?);
        amount.push_str(&format!(
            "{:0width$}",
            minor % scale,
            width = exponent as usize
        ));
    }
    let vars = Vars::from([
        ("amount", amount),
        ("currency", m.currency.code().to_owned()),
    ]);
    strings.fill("money.pattern", &vars)
}

fn grouped(n: u64, separator: &str) -> String {
    let digits = n.to_string();
    // Digits are ASCII, so every chunk of bytes is a valid string.
    let mut groups: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .map(|chunk| std::str::from_utf8(chunk).unwrap_or_default())
        .collect();
    groups.reverse();
    groups.join(separator)
}

/// One clean line: control characters (CR, LF, tabs, line separators) and
/// direction overrides become spaces, runs of spaces collapse, ends trimmed.
pub(super) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = match c {
            '\u{2028}' | '\u{2029}' => ' ',
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => ' ',
            c if c.is_control() => ' ',
            c => c,
        };
        if c.is_whitespace() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// `[reference] rest`, one line and at most [`SUBJECT_MAX`] characters; the
/// reference is never the part that is cut.
pub(super) fn subject(reference: Option<&str>, rest: &str) -> String {
    let prefix = reference
        .map(one_line)
        .filter(|r| !r.is_empty())
        .map(|r| format!("[{r}] "))
        .unwrap_or_default();
    let room = SUBJECT_MAX.saturating_sub(prefix.chars().count()).max(20);
    let rest = one_line(rest);
    let rest = if rest.chars().count() > room {
        let cut: String = rest.chars().take(room - 1).collect();
        format!("{}…", cut.trim_end())
    } else {
        rest
    };
    format!("{prefix}{rest}")
}

/// Like minijinja's HTML escaping, but leaves `/` alone so that links stay
/// readable in the source of the mail; `/` needs no escaping in HTML text or
/// quoted attributes.
pub(super) fn escape_html_keeping_urls(
    out: &mut Output<'_>,
    state: &State<'_, '_>,
    value: &Value,
) -> Result<(), minijinja::Error> {
    match (state.auto_escape(), value.as_str()) {
        (AutoEscape::Html, Some(text)) if !value.is_safe() => {
            let mut escaped = String::with_capacity(text.len() + 16);
            for c in text.chars() {
                match c {
                    '&' => escaped.push_str("&amp;"),
                    '<' => escaped.push_str("&lt;"),
                    '>' => escaped.push_str("&gt;"),
                    '"' => escaped.push_str("&quot;"),
                    '\'' => escaped.push_str("&#x27;"),
                    c => escaped.push(c),
                }
            }
            out.write_str(&escaped).map_err(minijinja::Error::from)
        }
        _ => escape_formatter(out, state, value),
    }
}
