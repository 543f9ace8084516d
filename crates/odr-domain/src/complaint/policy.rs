//! Deadline policy: how long each party has, and how a retailer's calendar
//! (business days, holidays, time zone) stretches its deadlines.

use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;

/// The engine-wide rules, from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub acknowledge: Duration,
    /// From filing.
    pub offer: Duration,
    /// From a rejection.
    pub reoffer: Duration,
    pub offer_expiry: Duration,
    pub fulfil: Duration,
    pub decide: Duration,
    pub max_offers: u32,
    /// How far ahead an offer's own `expires_at` may lie.
    pub max_offer_expiry: Duration,
    /// Between reminders to admins about an overdue decision.
    pub decision_reminder_every: Duration,
    /// How long before a deadline the party who must act is reminded.
    pub reminder_lead: Duration,
}

const DAY: u64 = 24 * 60 * 60;

impl Default for Policy {
    fn default() -> Self {
        Policy {
            acknowledge: Duration::from_secs(2 * DAY),
            offer: Duration::from_secs(14 * DAY),
            reoffer: Duration::from_secs(7 * DAY),
            offer_expiry: Duration::from_secs(7 * DAY),
            fulfil: Duration::from_secs(14 * DAY),
            decide: Duration::from_secs(30 * DAY),
            max_offers: 3,
            max_offer_expiry: Duration::from_secs(30 * DAY),
            decision_reminder_every: Duration::from_secs(DAY),
            reminder_lead: Duration::from_secs(DAY),
        }
    }
}

/// A retailer's working calendar. Retailer deadlines (`acknowledge_by`,
/// `offer_by`, `fulfil_by`) run on it; the customer's and the mediator's run
/// in plain calendar time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    pub business_days: bool,
    pub time_zone: Tz,
    pub holidays: Vec<NaiveDate>,
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar {
            business_days: false,
            time_zone: Tz::UTC,
            holidays: Vec::new(),
        }
    }
}

impl Calendar {
    fn is_business_day(&self, day: NaiveDate) -> bool {
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&day)
    }

    /// `start + span`, where with business days only the time inside
    /// weekdays that are not holidays (in the retailer's zone) counts.
    pub fn add(&self, start: DateTime<Utc>, span: Duration) -> DateTime<Utc> {
        let span = TimeDelta::from_std(span).unwrap_or(TimeDelta::MAX);
        if !self.business_days {
            return start
                .checked_add_signed(span)
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
        }
        let mut remaining = span;
        let mut at = start.with_timezone(&self.time_zone);
        // A year of days is far more than any deadline needs; the bound
        // only guards against a calendar that has no business day at all.
        for _ in 0..3660 {
            let day = at.date_naive();
            let next_midnight = day
                .succ_opt()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .and_then(|n| n.and_local_timezone(self.time_zone).earliest());
            let Some(next_midnight) = next_midnight else {
                break;
            };
            if !self.is_business_day(day) {
                at = next_midnight;
                continue;
            }
            let left_today = next_midnight - at;
            if remaining <= left_today {
                return (at + remaining).with_timezone(&Utc);
            }
            remaining -= left_today;
            at = next_midnight;
        }
        (at + remaining).with_timezone(&Utc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .expect("valid time")
    }

    #[test]
    fn plain_calendar_adds_wall_clock_time() {
        let c = Calendar::default();
        assert_eq!(
            c.add(utc(2026, 12, 4, 10), Duration::from_secs(2 * DAY)),
            utc(2026, 12, 6, 10)
        );
    }

    #[test]
    fn business_days_skip_weekends_and_holidays() {
        let c = Calendar {
            business_days: true,
            time_zone: Tz::UTC,
            holidays: vec![NaiveDate::from_ymd_opt(2026, 12, 7).expect("date")],
        };
        // Friday 10:00 + 2 business days: Fri 14 h + (Sat, Sun, Mon holiday
        // skipped) Tue 24 h + Wed 10 h.
        assert_eq!(
            c.add(utc(2026, 12, 4, 10), Duration::from_secs(2 * DAY)),
            utc(2026, 12, 9, 10)
        );
    }

    #[test]
    fn business_days_count_in_the_retailers_time_zone() {
        let c = Calendar {
            business_days: true,
            time_zone: chrono_tz::Europe::Bratislava,
            holidays: vec![],
        };
        // Friday 23:30 UTC is already Saturday in Bratislava: the clock
        // starts on Monday 00:00 local (Sunday 23:00 UTC).
        let start = Utc
            .with_ymd_and_hms(2026, 12, 4, 23, 30, 0)
            .single()
            .expect("t");
        assert_eq!(
            c.add(start, Duration::from_secs(3600)),
            Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0)
                .single()
                .expect("t")
        );
    }
}
