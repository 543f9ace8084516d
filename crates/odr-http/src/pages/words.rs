//! Durations in words, in the reader's language: "2 days 4 hours left for
//! the shop to answer", "overdue by 3 hours: the mediator has not decided".
//! Plural forms follow each language's rule (Slovak has three).

use chrono::{DateTime, Utc};
use odr_domain::locale::Locale;
use odr_domain::Role;
use serde::Serialize;

use super::render::Strings;

/// What a page shows of a running deadline.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TimeLeft {
    /// The whole sentence.
    pub text: String,
    /// The deadline has passed.
    pub overdue: bool,
    /// Less than 24 hours are left.
    pub due_soon: bool,
    /// The instant, RFC 3339 (for `<time datetime>`).
    pub at: String,
}

/// The plural form of `n` in `locale`: `one`, `few` or `other`.
fn plural(locale: Locale, n: i64) -> &'static str {
    match locale {
        Locale::Fr if n <= 1 => "one",
        Locale::Sk if n == 1 => "one",
        Locale::Sk if (2..=4).contains(&n) => "few",
        Locale::En | Locale::De | Locale::Es if n == 1 => "one",
        _ => "other",
    }
}

fn unit(words: &Strings, locale: Locale, unit: &str, n: i64) -> String {
    let key = format!("unit_{unit}_{}", plural(locale, n));
    words.fill(&key, &[("n", &n.to_string())])
}

/// A duration in words, to the two largest units ("2 days 4 hours",
/// "3 hours 10 minutes", "12 minutes", "less than a minute").
pub fn duration_in_words(locale: Locale, seconds: i64) -> String {
    let words = Strings::of(locale);
    let minutes = seconds.max(0) / 60;
    let (days, hours, mins) = (minutes / 1440, (minutes / 60) % 24, minutes % 60);
    let parts: Vec<String> = if days > 0 {
        let mut p = vec![unit(words, locale, "day", days)];
        if hours > 0 {
            p.push(unit(words, locale, "hour", hours));
        }
        p
    } else if hours > 0 {
        let mut p = vec![unit(words, locale, "hour", hours)];
        if mins > 0 {
            p.push(unit(words, locale, "minute", mins));
        }
        p
    } else if mins > 0 {
        vec![unit(words, locale, "minute", mins)]
    } else {
        vec![words.get("unit_less_than_a_minute").to_owned()]
    };
    parts.join(" ")
}

/// Who must act by `at`, and how long is left, seen by `viewer`: "2 days 4
/// hours left for you to answer" to the one who must act, "… left for the
/// shop to answer" to everyone else.
pub fn time_left(
    locale: Locale,
    now: DateTime<Utc>,
    at: DateTime<Utc>,
    who_must_act: Option<Role>,
    viewer: Option<Role>,
) -> TimeLeft {
    let words = Strings::of(locale);
    let seconds = (at - now).num_seconds();
    let overdue = seconds < 0;
    let who = match who_must_act {
        Some(Role::Mediator) if viewer == Some(Role::Mediator) => "you_decide",
        Some(role) if Some(role) == viewer => "you",
        Some(Role::Customer) => "customer",
        Some(Role::RetailerStaff) => "retailer_staff",
        Some(Role::Mediator) | Some(Role::Admin) => "mediator",
        Some(Role::System) | None => "anyone",
    };
    let key = format!("{}_{who}", if overdue { "overdue" } else { "left" });
    let time = duration_in_words(locale, seconds.abs());
    TimeLeft {
        text: words.fill(&key, &[("time", &time)]),
        overdue,
        due_soon: !overdue && seconds < 24 * 3600,
        at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

/// The complaint's next running deadline in words, for `viewer`; `None`
/// when nothing runs (closed complaints).
pub fn complaint_time_left(
    locale: Locale,
    now: DateTime<Utc>,
    complaint: &odr_domain::complaint::Complaint,
    viewer: Option<Role>,
) -> Option<TimeLeft> {
    let (_, at) = complaint.running_deadlines().into_iter().next()?;
    Some(time_left(locale, now, at, complaint.who_must_act(), viewer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn after(secs: i64) -> DateTime<Utc> {
        t0() + chrono::Duration::seconds(secs)
    }

    #[test]
    fn english_sentences() {
        let left = time_left(
            Locale::En,
            t0(),
            after(2 * 86400 + 4 * 3600 + 59),
            Some(Role::RetailerStaff),
            Some(Role::Customer),
        );
        assert_eq!(left.text, "2 days 4 hours left for the shop to answer");
        assert!(!left.overdue && !left.due_soon);
        let mine = time_left(
            Locale::En,
            t0(),
            after(3600 + 60),
            Some(Role::Customer),
            Some(Role::Customer),
        );
        assert_eq!(mine.text, "1 hour 1 minute left for you to answer");
        assert!(mine.due_soon);
        let late = time_left(
            Locale::En,
            t0(),
            after(-3 * 3600),
            Some(Role::Mediator),
            Some(Role::Customer),
        );
        assert!(late.overdue);
        assert_eq!(
            late.text,
            "overdue by 3 hours: the mediator has not decided yet"
        );
    }

    #[test]
    fn plural_forms() {
        assert_eq!(duration_in_words(Locale::Sk, 2 * 86400), "2 dni");
        assert_eq!(duration_in_words(Locale::Sk, 5 * 86400), "5 dní");
        assert_eq!(duration_in_words(Locale::Sk, 86400), "1 deň");
        assert_eq!(duration_in_words(Locale::De, 3 * 3600), "3 Stunden");
        assert_eq!(duration_in_words(Locale::Fr, 60), "1 minute");
        assert_eq!(duration_in_words(Locale::En, 30), "less than a minute");
    }
}
