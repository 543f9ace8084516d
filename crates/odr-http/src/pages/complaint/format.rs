//! Amounts and instants as a reader of one language expects them, and
//! amounts as a person types them ("19.99", "19,99", "1 234,50").

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use odr_domain::money::{Currency, Money, MAX_AMOUNT_MINOR};

use super::super::render::Strings;

/// The zone a visitor reads times in: their own (an IANA name), else UTC.
pub fn zone_of(name: Option<&str>) -> Tz {
    name.and_then(|n| n.trim().parse().ok()).unwrap_or(Tz::UTC)
}

/// "1 Dec 2026, 10:00 (Europe/Bratislava)" in the reader's words.
pub fn when(words: &Strings, at: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    let months: Vec<&str> = words.get("month_names").split_whitespace().collect();
    let month = months
        .get(local.month0() as usize)
        .map_or_else(|| local.month().to_string(), |m| (*m).to_owned());
    words.fill(
        "datetime_pattern",
        &[
            ("day", &local.day().to_string()),
            ("month", &month),
            ("year", &local.year().to_string()),
            (
                "time",
                &format!("{:02}:{:02}", local.hour(), local.minute()),
            ),
            ("zone", tz.name()),
        ],
    )
}

/// "EUR 1,234.50" or "1.234,50 EUR": the currency's own decimals, the
/// reader's separators and order.
pub fn money(words: &Strings, m: &Money) -> String {
    let exponent = u32::from(m.currency.exponent());
    let scale = 10u64.checked_pow(exponent).unwrap_or(1);
    let minor = m.amount_minor.unsigned_abs();
    let digits = (minor / scale).to_string();
    let mut groups: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    groups.reverse();
    let mut amount = groups.join(words.get("group_separator"));
    if exponent > 0 {
        amount.push_str(words.get("decimal_separator"));
        amount.push_str(&format!(
            "{:0width$}",
            minor % scale,
            width = exponent as usize
        ));
    }
    words.fill(
        "money_pattern",
        &[("amount", &amount), ("currency", m.currency.code())],
    )
}

/// Why a typed amount is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountProblem {
    /// Not a number with at most the currency's decimals.
    NotANumber,
    /// Zero or less.
    NotPositive,
    /// Above what the engine takes.
    TooLarge,
}

impl AmountProblem {
    /// The word key of the explanation.
    pub fn key(self) -> &'static str {
        match self {
            AmountProblem::NotANumber => "amount_not_a_number",
            AmountProblem::NotPositive => "amount_not_positive",
            AmountProblem::TooLarge => "amount_too_large",
        }
    }
}

/// A typed amount in minor units of `currency`. Spaces and apostrophes
/// group digits; the last `.` or `,` is the decimal point when at most the
/// currency's number of decimals follow it, otherwise every `.` and `,`
/// groups digits ("1.000" is a thousand euros, "19,9" is 19.90).
pub fn parse_amount(typed: &str, currency: Currency) -> Result<i64, AmountProblem> {
    let cleaned: String = typed
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\''))
        .collect();
    if cleaned.is_empty() || cleaned.starts_with('-') {
        return Err(if cleaned.starts_with('-') {
            AmountProblem::NotPositive
        } else {
            AmountProblem::NotANumber
        });
    }
    let exponent = usize::from(currency.exponent());
    let (whole, fraction) = match cleaned.rfind(['.', ',']) {
        Some(i) if cleaned.len() - i - 1 <= exponent => (&cleaned[..i], &cleaned[i + 1..]),
        _ => (cleaned.as_str(), ""),
    };
    let whole: String = whole.chars().filter(|c| !matches!(c, '.' | ',')).collect();
    if whole.is_empty() && fraction.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
    {
        return Err(AmountProblem::NotANumber);
    }
    if whole.len() > 15 {
        return Err(AmountProblem::TooLarge);
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| AmountProblem::NotANumber)?
    };
    let scale = 10i64.pow(u32::try_from(exponent).unwrap_or(0));
    let mut minor_fraction: i64 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().map_err(|_| AmountProblem::NotANumber)?
    };
    for _ in fraction.len()..exponent {
        minor_fraction *= 10;
    }
    let minor = whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(minor_fraction))
        .ok_or(AmountProblem::TooLarge)?;
    if minor <= 0 {
        Err(AmountProblem::NotPositive)
    } else if minor > MAX_AMOUNT_MINOR {
        Err(AmountProblem::TooLarge)
    } else {
        Ok(minor)
    }
}

/// The end of `date` (23:59:59) in `tz`, as an instant: an offer that
/// "expires on 12 December" is open all of that day where its reader lives.
pub fn end_of_day(date: NaiveDate, tz: Tz) -> Option<DateTime<Utc>> {
    let time = NaiveTime::from_hms_opt(23, 59, 59)?;
    tz.from_local_datetime(&date.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use odr_domain::locale::Locale;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap_or_default()
    }

    #[test]
    fn typed_amounts_become_minor_units() {
        assert_eq!(parse_amount("19.99", eur()), Ok(1999));
        assert_eq!(parse_amount("19,99", eur()), Ok(1999));
        assert_eq!(parse_amount("19,9", eur()), Ok(1990));
        assert_eq!(parse_amount(" 20 ", eur()), Ok(2000));
        assert_eq!(parse_amount("1.000", eur()), Ok(100_000));
        assert_eq!(parse_amount("1 234,50", eur()), Ok(123_450));
        assert_eq!(parse_amount("1,234.50", eur()), Ok(123_450));
        assert_eq!(parse_amount(".5", eur()), Ok(50));
        let yen = Currency::parse("JPY").unwrap_or_default();
        assert_eq!(parse_amount("1500", yen), Ok(1500));
        assert_eq!(parse_amount("1.500", yen), Ok(1500));
    }

    #[test]
    fn amounts_that_are_not_amounts_are_named() {
        assert_eq!(parse_amount("", eur()), Err(AmountProblem::NotANumber));
        assert_eq!(parse_amount("abc", eur()), Err(AmountProblem::NotANumber));
        assert_eq!(parse_amount("1e5", eur()), Err(AmountProblem::NotANumber));
        assert_eq!(parse_amount("0", eur()), Err(AmountProblem::NotPositive));
        assert_eq!(parse_amount("-5", eur()), Err(AmountProblem::NotPositive));
        assert_eq!(
            parse_amount("99999999999999", eur()),
            Err(AmountProblem::TooLarge)
        );
    }

    #[test]
    fn money_reads_as_each_language_writes_it() {
        let m = Money {
            amount_minor: 123_450,
            currency: eur(),
        };
        assert_eq!(money(Strings::of(Locale::En), &m), "EUR 1,234.50");
        assert_eq!(money(Strings::of(Locale::De), &m), "1.234,50 EUR");
    }

    #[test]
    fn times_name_their_zone() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 5, 0).single();
        let at = at.unwrap_or_default();
        assert_eq!(
            when(Strings::of(Locale::En), at, Tz::UTC),
            "1 Dec 2026, 09:05 (UTC)"
        );
        let bratislava: Tz = "Europe/Bratislava".parse().unwrap_or(Tz::UTC);
        assert_eq!(
            when(Strings::of(Locale::De), at, bratislava),
            "1. Dez. 2026, 10:05 (Europe/Bratislava)"
        );
    }
}
