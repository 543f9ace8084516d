//! A retailer's statistics over a period (api.md, "Statistics"), computed
//! in SQL on both backends from the `complaints` rows, their event log and
//! the `feedback` rows. Used by `GET /api/v1/retailers/{id}/stats` and the
//! web dashboard.
//!
//! The complaints of a period are those of the retailer filed in the
//! half-open interval `[from, to)`. Every figure is about them:
//!
//! - counts by state, category and outcome (every known code, zeros too);
//! - hours from filing to the retailer's first `acknowledge`, `propose` or
//!   message, and from filing to `closed`: median and 90th percentile,
//!   interpolated linearly between the two nearest ranks like PostgreSQL's
//!   `percentile_cont` (see [`percentile_sql`]);
//! - rates (see [`Rates`]) and the satisfaction average;
//! - a weekly series (weeks start on Monday, UTC) of filings and closings,
//!   every week of the period listed, empty ones too.
//!
//! The SQL is written once; the few functions the two dialects spell
//! differently (seconds between two times, the Monday of a time's week) and
//! the parameter markers are filled in per backend. User data only ever
//! travels as bound parameters.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text, Timestamp};
use odr_domain::complaint::{ComplaintState, Outcome};
use odr_domain::taxonomy::{Category, Code};
use serde::Serialize;

use crate::time::to_db;
use crate::{DbConnection, Store, StoreError};

/// Everything `GET /api/v1/retailers/{id}/stats` answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetailerStats {
    /// Start of the period, included.
    pub from: DateTime<Utc>,
    /// End of the period, excluded.
    pub to: DateTime<Utc>,
    pub counts: Counts,
    /// From filing to the retailer's first `acknowledge`, `propose` or
    /// message; over the complaints that had one.
    pub hours_to_first_response: Hours,
    /// From filing to `closed`; over the complaints that closed.
    pub hours_to_close: Hours,
    pub rates: Rates,
    pub satisfaction: Satisfaction,
    /// One entry per week (Monday, UTC) that overlaps the period, oldest
    /// first, empty weeks included.
    pub weekly: Vec<Week>,
}

/// How many complaints of the period there are, and where they stand now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Counts {
    pub total: i64,
    /// Every state, by its code.
    pub by_state: BTreeMap<String, i64>,
    /// Every category, by its code.
    pub by_category: BTreeMap<String, i64>,
    /// Every outcome of the closed complaints, by its code.
    pub by_outcome: BTreeMap<String, i64>,
}

/// The median and 90th percentile of a duration, in hours; `null` without
/// data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hours {
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

/// Fractions from 0 to 1; `null` where nothing is to divide by.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rates {
    /// Offers accepted ÷ offers answered (accepted, rejected or lapsed).
    pub offer_acceptance: Option<f64>,
    /// Complaints ever escalated ÷ complaints.
    pub escalation: Option<f64>,
    /// Complaints where a retailer deadline (`acknowledge_by`, `offer_by`,
    /// `fulfil_by`) passed ÷ complaints. A deadline has passed when the
    /// engine acted on it (`deadline_passed` from `filed`, `acknowledged` or
    /// `accepted`) or the customer escalated an accepted complaint (only
    /// possible once `fulfil_by` has passed).
    pub deadline_breach: Option<f64>,
    /// Complaints that reached `accepted` and were never escalated ÷
    /// complaints that reached `accepted` or `escalated`.
    pub agreement: Option<f64>,
    /// Complaints closed `resolved` ÷ complaints that left `accepted` by
    /// `fulfil` or by an escalation (`not_fulfilled`).
    pub fulfilment: Option<f64>,
}

/// The customers' feedback on the complaints of the period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Satisfaction {
    pub responses: i64,
    /// Mean score (1 to 5); `null` without responses.
    pub average: Option<f64>,
}

/// One week of the series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Week {
    /// The Monday the week starts on (UTC).
    pub week_start: NaiveDate,
    /// Complaints of the period filed this week.
    pub filed: i64,
    /// Complaints of the period closed this week (before the period ends).
    pub closed: i64,
}

/// The complaints of the period; `$1` retailer, `$2` from, `$3` to.
const PERIOD: &str = "p AS (
    SELECT id, state, outcome, category, created_at FROM complaints
    WHERE retailer_id = $1 AND created_at >= $2 AND created_at < $3
), e AS (
    SELECT ev.complaint_id, ev.type AS kind, ev.actor_role, ev.from_state, ev.to_state, ev.at
    FROM complaint_events ev JOIN p ON p.id = ev.complaint_id
)";

/// The events that took a complaint into `closed` (once at most).
const CLOSING: &str = "e.to_state = 'closed' AND e.from_state <> 'closed'";

const COUNTS: &str = "
SELECT 'state' AS dimension, state AS code, COUNT(*) AS n FROM p GROUP BY state
UNION ALL
SELECT 'category', category, COUNT(*) FROM p GROUP BY category
UNION ALL
SELECT 'outcome', outcome, COUNT(*) FROM p WHERE outcome IS NOT NULL GROUP BY outcome";

const RATES: &str = "
SELECT
  (SELECT COUNT(*) FROM p) AS complaints,
  (SELECT COUNT(*) FROM e WHERE kind = 'accept') AS offers_accepted,
  (SELECT COUNT(*) FROM e WHERE kind IN ('accept', 'reject')
      OR (kind = 'deadline_passed' AND from_state = 'proposed')) AS offers_answered,
  (SELECT COUNT(DISTINCT complaint_id) FROM e
      WHERE to_state = 'escalated' AND from_state <> 'escalated') AS escalated,
  (SELECT COUNT(DISTINCT complaint_id) FROM e
      WHERE (kind = 'deadline_passed' AND from_state IN ('filed', 'acknowledged', 'accepted'))
         OR (kind = 'escalate' AND from_state = 'accepted')) AS breached,
  (SELECT COUNT(DISTINCT a.complaint_id) FROM e a
      WHERE a.to_state = 'accepted' AND a.from_state <> 'accepted'
        AND NOT EXISTS (SELECT 1 FROM e x WHERE x.complaint_id = a.complaint_id
                          AND x.to_state = 'escalated')) AS agreed,
  (SELECT COUNT(DISTINCT complaint_id) FROM e
      WHERE to_state IN ('accepted', 'escalated') AND from_state <> to_state) AS agreement_base,
  (SELECT COUNT(DISTINCT complaint_id) FROM e
      WHERE from_state = 'accepted' AND kind = 'fulfil') AS fulfilled,
  (SELECT COUNT(DISTINCT complaint_id) FROM e
      WHERE from_state = 'accepted' AND (kind = 'fulfil' OR to_state = 'escalated')) AS left_accepted,
  (SELECT COUNT(*) FROM feedback f JOIN p ON p.id = f.complaint_id) AS responses,
  (SELECT AVG(CAST(f.score AS DOUBLE PRECISION)) FROM feedback f JOIN p ON p.id = f.complaint_id) AS average";

/// Per-complaint hours, ranked: `fr` first responses, `cl` closings.
const DURATIONS: &str = ", fr AS (
    SELECT p.id, {hours(MIN(e.at), p.created_at)} AS h FROM p JOIN e ON e.complaint_id = p.id
    WHERE e.actor_role = 'retailer_staff' AND e.kind IN ('acknowledge', 'propose', 'message')
    GROUP BY p.id, p.created_at
), cl AS (
    SELECT p.id, {hours(MIN(e.at), p.created_at)} AS h FROM p JOIN e ON e.complaint_id = p.id
    WHERE {closing}
    GROUP BY p.id, p.created_at
), r AS (
    SELECT 'first_response' AS metric, h,
           ROW_NUMBER() OVER (ORDER BY h) - 1 AS i, COUNT(*) OVER () AS n FROM fr
    UNION ALL
    SELECT 'close', h, ROW_NUMBER() OVER (ORDER BY h) - 1, COUNT(*) OVER () FROM cl
)
SELECT metric, {median} AS median, {p90} AS p90 FROM r GROUP BY metric";

const WEEKLY: &str = "
SELECT {week(p.created_at)} AS week_start, 'filed' AS series, COUNT(*) AS n FROM p GROUP BY 1
UNION ALL
SELECT {week(c.at)}, 'closed', COUNT(*) FROM (
    SELECT e.complaint_id, MIN(e.at) AS at FROM e WHERE {closing} GROUP BY e.complaint_id
) c WHERE c.at < $3 GROUP BY 1";

/// The `k`0th percentile (`k` in 1..=9) of `h` over the ranked rows `r`
/// (`i` the 0-based rank, `n` the count): with `pos = (n - 1) · k / 10`,
/// the value at rank `⌊pos⌋` plus the fraction `pos - ⌊pos⌋` of the step to
/// the next rank, i.e. linear interpolation between the closest ranks (as
/// `percentile_cont`). Integer arithmetic finds the ranks on both backends;
/// without rows the sum is NULL.
pub fn percentile_sql(k: u8) -> String {
    let frac = format!("(CAST(((n - 1) * {k}) % 10 AS DOUBLE PRECISION) / 10)");
    format!(
        "SUM(CASE WHEN i = (n - 1) * {k} / 10 THEN h * (1 - {frac}) \
         WHEN i = (n - 1) * {k} / 10 + 1 THEN h * {frac} ELSE 0 END)"
    )
}

/// The statement for this backend: the dialect's functions and markers.
fn dialect(conn: &DbConnection, body: &str) -> String {
    let postgres = matches!(conn, DbConnection::Postgresql(_));
    let sql = format!("WITH {PERIOD}{body}")
        .replace("{closing}", CLOSING)
        .replace("{median}", &percentile_sql(5))
        .replace("{p90}", &percentile_sql(9));
    let sql = replace_calls(&sql, "{hours(", |args| {
        let (a, b) = args.split_once(", ").unwrap_or((args, args));
        if postgres {
            format!("(CAST(EXTRACT(EPOCH FROM ({a} - {b})) AS DOUBLE PRECISION) / 3600)")
        } else {
            format!("(CAST(strftime('%s', {a}) - strftime('%s', {b}) AS DOUBLE PRECISION) / 3600)")
        }
    });
    let sql = replace_calls(&sql, "{week(", |arg| {
        if postgres {
            format!("to_char(date_trunc('week', {arg}), 'YYYY-MM-DD')")
        } else {
            // The coming Sunday (or this one), less six days: the Monday.
            format!("date({arg}, 'weekday 0', '-6 days')")
        }
    });
    if postgres {
        sql
    } else {
        // SQLite's numbered parameters: `?1` may be used several times.
        sql.replace("$1", "?1")
            .replace("$2", "?2")
            .replace("$3", "?3")
    }
}

/// Replaces each `{name(args)}` (balanced parentheses) by `f(args)`.
fn replace_calls(sql: &str, open: &str, f: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(start) = rest.find(open) {
        out.push_str(&rest[..start]);
        let after = &rest[start + open.len()..];
        let mut depth = 1;
        let mut end = after.len();
        for (i, ch) in after.char_indices() {
            match ch {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push_str(&f(&after[..end]));
        // Skip the closing `)}`.
        rest = after.get(end + 2..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = Text)]
    dimension: String,
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct RateRow {
    #[diesel(sql_type = BigInt)]
    complaints: i64,
    #[diesel(sql_type = BigInt)]
    offers_accepted: i64,
    #[diesel(sql_type = BigInt)]
    offers_answered: i64,
    #[diesel(sql_type = BigInt)]
    escalated: i64,
    #[diesel(sql_type = BigInt)]
    breached: i64,
    #[diesel(sql_type = BigInt)]
    agreed: i64,
    #[diesel(sql_type = BigInt)]
    agreement_base: i64,
    #[diesel(sql_type = BigInt)]
    fulfilled: i64,
    #[diesel(sql_type = BigInt)]
    left_accepted: i64,
    #[diesel(sql_type = BigInt)]
    responses: i64,
    #[diesel(sql_type = Nullable<Double>)]
    average: Option<f64>,
}

#[derive(QueryableByName)]
struct DurationRow {
    #[diesel(sql_type = Text)]
    metric: String,
    #[diesel(sql_type = Nullable<Double>)]
    median: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    p90: Option<f64>,
}

#[derive(QueryableByName)]
struct WeekRow {
    #[diesel(sql_type = Text)]
    week_start: String,
    #[diesel(sql_type = Text)]
    series: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Runs one statement of this module with the period's three parameters.
macro_rules! load_period {
    ($conn:expr, $body:expr, $row:ty, $retailer:expr, $from:expr, $to:expr) => {{
        let sql = dialect($conn, $body);
        match $conn {
            DbConnection::Postgresql(pg) => diesel::sql_query(sql)
                .bind::<Text, _>($retailer)
                .bind::<Timestamp, _>($from)
                .bind::<Timestamp, _>($to)
                .load::<$row>(pg),
            DbConnection::Sqlite(lite) => diesel::sql_query(sql)
                .bind::<Text, _>($retailer)
                .bind::<Timestamp, _>($from)
                .bind::<Timestamp, _>($to)
                .load::<$row>(lite),
        }
    }};
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    // Counts of complaints stay far below 2^52: exact as f64.
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The Monday of the week `at` falls in (UTC).
pub fn week_of(at: DateTime<Utc>) -> NaiveDate {
    let day = at.date_naive();
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

impl Store {
    /// The statistics of `retailer_id` over the complaints filed in
    /// `[from, to)`. An unknown retailer simply has none (the caller checks
    /// that it exists).
    pub fn retailer_stats(
        &self,
        retailer_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<RetailerStats, StoreError> {
        let (lo, hi) = (to_db(from), to_db(to));
        let id = retailer_id.to_owned();
        let (counts, rates, durations, weeks) = self.with_conn(|conn| {
            let counts = load_period!(conn, COUNTS, CountRow, &id, lo, hi)?;
            let rates = load_period!(conn, RATES, RateRow, &id, lo, hi)?;
            let durations = load_period!(conn, DURATIONS, DurationRow, &id, lo, hi)?;
            let weeks = load_period!(conn, WEEKLY, WeekRow, &id, lo, hi)?;
            Ok::<_, StoreError>((counts, rates, durations, weeks))
        })?;
        let rates = rates
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Corrupt("the rates query gave no row".into()))?;
        Ok(RetailerStats {
            from,
            to,
            counts: counts_of(counts),
            hours_to_first_response: hours_of(&durations, "first_response"),
            hours_to_close: hours_of(&durations, "close"),
            rates: Rates {
                offer_acceptance: ratio(rates.offers_accepted, rates.offers_answered),
                escalation: ratio(rates.escalated, rates.complaints),
                deadline_breach: ratio(rates.breached, rates.complaints),
                agreement: ratio(rates.agreed, rates.agreement_base),
                fulfilment: ratio(rates.fulfilled, rates.left_accepted),
            },
            satisfaction: Satisfaction {
                responses: rates.responses,
                average: rates.average.filter(|_| rates.responses > 0),
            },
            weekly: weekly_of(&weeks, from, to)?,
        })
    }
}

fn counts_of(rows: Vec<CountRow>) -> Counts {
    let zeros = |codes: Vec<&str>| -> BTreeMap<String, i64> {
        codes.into_iter().map(|c| (c.to_owned(), 0)).collect()
    };
    let mut counts = Counts {
        total: 0,
        by_state: zeros(ComplaintState::ALL.iter().map(|s| s.code()).collect()),
        by_category: zeros(Category::ALL.iter().map(|c| c.code()).collect()),
        by_outcome: zeros(Outcome::ALL.iter().map(|o| o.code()).collect()),
    };
    for row in rows {
        let map = match row.dimension.as_str() {
            "state" => {
                counts.total += row.n;
                &mut counts.by_state
            }
            "category" => &mut counts.by_category,
            _ => &mut counts.by_outcome,
        };
        *map.entry(row.code).or_insert(0) += row.n;
    }
    counts
}

fn hours_of(rows: &[DurationRow], metric: &str) -> Hours {
    rows.iter().find(|r| r.metric == metric).map_or(
        Hours {
            median: None,
            p90: None,
        },
        |r| Hours {
            median: r.median,
            p90: r.p90,
        },
    )
}

fn weekly_of(
    rows: &[WeekRow],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Week>, StoreError> {
    let mut weeks = BTreeMap::new();
    if from < to {
        let last = week_of(to - Duration::microseconds(1));
        let mut monday = week_of(from);
        while monday <= last {
            weeks.insert(monday, (0, 0));
            monday += Duration::days(7);
        }
    }
    for row in rows {
        let day = NaiveDate::parse_from_str(&row.week_start, "%Y-%m-%d")
            .map_err(|e| StoreError::Corrupt(format!("a week start: {e}")))?;
        let week = weeks.entry(day).or_insert((0, 0));
        if row.series == "filed" {
            week.0 += row.n;
        } else {
            week.1 += row.n;
        }
    }
    Ok(weeks
        .into_iter()
        .map(|(week_start, (filed, closed))| Week {
            week_start,
            filed,
            closed,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        let tuesday = "2026-12-01T09:00:00Z".parse().unwrap();
        assert_eq!(week_of(tuesday).to_string(), "2026-11-30");
        let sunday = "2026-12-06T23:59:59Z".parse().unwrap();
        assert_eq!(week_of(sunday).to_string(), "2026-11-30");
        let monday = "2026-12-07T00:00:00Z".parse().unwrap();
        assert_eq!(week_of(monday).to_string(), "2026-12-07");
    }

    #[test]
    fn the_dialects_differ_only_in_functions_and_markers() {
        let calls = replace_calls("x {hours(MIN(e.at), p.created_at)} y", "{hours(", |a| {
            format!("[{a}]")
        });
        assert_eq!(calls, "x [MIN(e.at), p.created_at] y");
    }
}
