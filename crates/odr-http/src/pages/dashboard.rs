//! `GET /dashboard`: a retailer's statistics over a chosen period, the
//! same figures as `GET /api/v1/retailers/{id}/stats` (`Store::
//! retailer_stats`, the period read by `routes::stats::period`), as stat
//! cards, charts drawn on the server (`charts.rs`) and tables beside them.
//! Staff see their own shop; admins pick one.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use minijinja::{context, Value};
use odr_domain::complaint::{ComplaintState, Outcome};
use odr_domain::locale::Locale;
use odr_domain::taxonomy::{Category, Code, Iconic};
use odr_domain::Role;
use odr_store::{clamp_limit, RetailerStats};
use serde::Deserialize;

use super::charts::{horizontal_bars, rate_meter, weekly_chart, Bar, ChartText, WeekBar};
use super::failure::PageError;
use super::render::{render, Strings};
use super::session::Visitor;
use crate::problem::ApiError;
use crate::routes::stats::period;
use crate::state::AppState;

/// What Youstice held its retailers to: settled by agreement without a
/// mediator, and accepted offers and rulings carried out.
pub const AGREEMENT_TARGET: f64 = 0.80;
pub const FULFILMENT_TARGET: f64 = 0.98;

#[derive(Debug, Deserialize, Default)]
pub struct DashboardParams {
    /// Admins: whose statistics.
    retailer: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A number with the language's decimal separator and at most one
/// decimal ("12.5", "12,5", "3").
pub(crate) fn decimal(locale: Locale, x: f64) -> String {
    let rounded = (x * 10.0).round() / 10.0;
    let text = if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    };
    text.replace('.', Strings::of(locale).get("stats_decimal_separator"))
}

/// A fraction (0 to 1) as a percentage in the reader's words ("83 %").
pub(crate) fn percent(locale: Locale, rate: f64) -> String {
    Strings::of(locale).fill("stats_percent", &[("n", &decimal(locale, rate * 100.0))])
}

fn hours(locale: Locale, h: Option<f64>) -> String {
    match h {
        Some(h) => Strings::of(locale).fill("stats_hours", &[("n", &decimal(locale, h))]),
        None => "—".into(),
    }
}

/// The dates the form shows for a half-open period: `to` is excluded, so
/// the last day shown is the one before it (unless the period ends now,
/// within a day).
fn form_dates(from: DateTime<Utc>, to: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
    let last = if to.time() == chrono::NaiveTime::MIN && to > from {
        to - Duration::seconds(1)
    } else {
        to
    };
    (from.date_naive(), last.date_naive())
}

/// A rate card: figure, words, and against a target whether it is met.
fn rate_card(
    v: &Visitor,
    key: &str,
    rate: Option<f64>,
    target: Option<f64>,
    with_meter: bool,
) -> Value {
    let words = v.words();
    let label = words.get(&format!("stats_rate_{key}")).to_owned();
    let hint = words.get(&format!("stats_rate_{key}_hint")).to_owned();
    let value_text = rate.map_or_else(|| "—".to_owned(), |r| percent(v.locale, r));
    let target_text = target.map(|t| percent(v.locale, t));
    let meets = match (rate, target) {
        (Some(r), Some(t)) => Some(r >= t),
        _ => None,
    };
    let meter = with_meter.then(|| {
        let id = format!("meter-{key}");
        let text = ChartText {
            id: &id,
            title: &label,
            description: &hint,
        };
        Value::from_safe_string(rate_meter(
            &text,
            rate,
            &value_text,
            target.zip(target_text.as_deref()),
        ))
    });
    context! {
        key => key,
        label => label,
        hint => hint,
        value => value_text,
        target => target_text,
        meets => meets,
        meter => meter,
    }
}

/// Everything the template shows of the statistics.
fn stats_context(v: &Visitor, stats: &RetailerStats) -> Value {
    let words = v.words();
    let locale = v.locale;
    let count = |map: &std::collections::BTreeMap<String, i64>, code: &str| {
        map.get(code).copied().unwrap_or(0)
    };
    let states: Vec<(String, i64)> = ComplaintState::ALL
        .iter()
        .map(|s| {
            (
                words.get(&format!("state_{}", s.code())).to_owned(),
                count(&stats.counts.by_state, s.code()),
            )
        })
        .collect();
    let categories: Vec<(Category, i64)> = Category::ALL
        .iter()
        .map(|c| (*c, count(&stats.counts.by_category, c.code())))
        .collect();
    let outcomes: Vec<Value> = Outcome::ALL
        .iter()
        .map(|o| {
            context! {
                label => words.get(&format!("outcome_{}", o.code())),
                n => count(&stats.counts.by_outcome, o.code()),
            }
        })
        .collect();
    let week_format = words.get("stats_week_format");
    let weeks: Vec<WeekBar> = stats
        .weekly
        .iter()
        .map(|w| WeekBar {
            label: w.week_start.format(week_format).to_string(),
            filed: w.filed,
            closed: w.closed,
        })
        .collect();
    let filed_label = words.get("stats_filed");
    let closed_label = words.get("stats_closed");
    let weekly_svg = weekly_chart(
        &ChartText {
            id: "chart-weekly",
            title: words.get("stats_weekly_title"),
            description: words.get("stats_weekly_desc"),
        },
        &weeks,
        filed_label,
        closed_label,
    );
    let category_bars: Vec<Bar> = categories
        .iter()
        .map(|(c, n)| Bar {
            label: c.label(locale).to_owned(),
            value: *n,
        })
        .collect();
    let category_svg = horizontal_bars(
        &ChartText {
            id: "chart-categories",
            title: words.get("stats_by_category"),
            description: words.get("stats_by_category_desc"),
        },
        &category_bars,
    );
    let state_bars: Vec<Bar> = states
        .iter()
        .map(|(label, n)| Bar {
            label: label.clone(),
            value: *n,
        })
        .collect();
    let state_svg = horizontal_bars(
        &ChartText {
            id: "chart-states",
            title: words.get("stats_by_state"),
            description: words.get("stats_by_state_desc"),
        },
        &state_bars,
    );
    context! {
        total => stats.counts.total,
        first_response => context! {
            median => hours(locale, stats.hours_to_first_response.median),
            p90 => hours(locale, stats.hours_to_first_response.p90),
        },
        close => context! {
            median => hours(locale, stats.hours_to_close.median),
            p90 => hours(locale, stats.hours_to_close.p90),
        },
        targets => vec![
            rate_card(v, "agreement", stats.rates.agreement, Some(AGREEMENT_TARGET), true),
            rate_card(v, "fulfilment", stats.rates.fulfilment, Some(FULFILMENT_TARGET), true),
        ],
        rates => vec![
            rate_card(v, "offer_acceptance", stats.rates.offer_acceptance, None, false),
            rate_card(v, "escalation", stats.rates.escalation, None, false),
            rate_card(v, "deadline_breach", stats.rates.deadline_breach, None, false),
        ],
        satisfaction => context! {
            responses => stats.satisfaction.responses,
            average => stats.satisfaction.average.map(|a| words.fill(
                "stats_satisfaction_value",
                &[("avg", &decimal(locale, a))],
            )),
        },
        weekly_svg => Value::from_safe_string(weekly_svg),
        weeks => stats.weekly.iter().zip(&weeks).map(|(w, bar)| context! {
            label => bar.label.clone(),
            start => w.week_start.to_string(),
            filed => w.filed,
            closed => w.closed,
        }).collect::<Vec<_>>(),
        category_svg => Value::from_safe_string(category_svg),
        categories => categories.iter().map(|(c, n)| context! {
            label => c.label(locale),
            icon => c.icon_path(),
            n => *n,
        }).collect::<Vec<_>>(),
        state_svg => Value::from_safe_string(state_svg),
        states => states.iter().map(|(label, n)| context! { label => label, n => *n }).collect::<Vec<_>>(),
        outcomes => outcomes,
    }
}

/// `GET /dashboard`
pub async fn dashboard(
    state: web::Data<AppState>,
    v: Visitor,
    q: web::Query<DashboardParams>,
) -> Result<HttpResponse, PageError> {
    let caller = v.require(&[Role::RetailerStaff, Role::Admin])?.clone();
    let q = q.into_inner();
    let asked = given(&q.retailer).map(str::to_owned);
    let (from_q, to_q) = (
        given(&q.from).map(str::to_owned),
        given(&q.to).map(str::to_owned),
    );
    let visitor = v.clone();
    let (shops, retailer, outcome) = v
        .blocking(&state, move |s| {
            // Staff see their own shop whatever the query says; admins the
            // one they pick (else the first).
            let shops = if caller.is_admin() {
                s.store.list_retailers(None, clamp_limit(Some(200)))?.items
            } else {
                Vec::new()
            };
            let retailer_id = match caller.role() {
                Role::Admin => asked.or_else(|| shops.first().map(|r| r.id.clone())),
                _ => caller.user.retailer_id.clone(),
            };
            let Some(retailer_id) = retailer_id else {
                return Ok((shops, None, None));
            };
            let retailer = s.store.retailer(&retailer_id)?.ok_or(ApiError::NotFound)?;
            if !caller.manages_retailer(&retailer.id) {
                return Err(ApiError::NotFound);
            }
            let now = s.clock.now();
            // A period the form cannot use is said so; the default shows.
            let (chosen, error) = match period(from_q.as_deref(), to_q.as_deref(), now) {
                Ok(p) => (p, None),
                Err(e) => (period(None, None, now)?, Some(e)),
            };
            let stats = s.store.retailer_stats(&retailer.id, chosen.0, chosen.1)?;
            Ok((shops, Some(retailer), Some((stats, error))))
        })
        .await?;
    let words = visitor.words();
    let (status, error, fields, stats, dates) = match &outcome {
        Some((stats, error)) => {
            let (from, to) = form_dates(stats.from, stats.to);
            let (status, error, fields) = match error {
                Some(e) => {
                    let (_, fields) = e.explained();
                    (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        Some(words.get("stats_period_invalid").to_owned()),
                        fields
                            .iter()
                            .map(|f| {
                                context! {
                                    field => words.get(&format!("stats_{}", f.field)),
                                    message => f.message.clone(),
                                }
                            })
                            .collect(),
                    )
                }
                None => (StatusCode::OK, None, Vec::new()),
            };
            (
                status,
                error,
                fields,
                Some(stats_context(&visitor, stats)),
                Some((from.to_string(), to.to_string())),
            )
        }
        None => (StatusCode::OK, None, Vec::<Value>::new(), None, None),
    };
    let mut res = render(
        &visitor,
        "dashboard.html",
        context! {
            shops => shops.iter().map(|r| context! { id => r.id.clone(), name => r.name.clone() }).collect::<Vec<_>>(),
            retailer => retailer.as_ref().map(|r| context! { id => r.id.clone(), name => r.name.clone() }),
            from => dates.as_ref().map(|d| d.0.clone()),
            to => dates.as_ref().map(|d| d.1.clone()),
            stats => stats,
            error => error,
            fields => fields,
        },
    )?;
    *res.status_mut() = status;
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_language() {
        assert_eq!(decimal(Locale::En, 12.46), "12.5");
        assert_eq!(decimal(Locale::De, 12.46), "12,5");
        assert_eq!(decimal(Locale::Fr, 3.0), "3");
        assert_eq!(percent(Locale::En, 0.8), "80%");
        assert_eq!(percent(Locale::De, 0.983), "98,3\u{a0}%");
    }

    #[test]
    fn the_form_shows_the_last_included_day() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            form_dates(at("2026-09-02T00:00:00Z"), at("2026-12-01T00:00:00Z")),
            (
                NaiveDate::from_ymd_opt(2026, 9, 2).unwrap(),
                NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
            )
        );
        assert_eq!(
            form_dates(at("2026-09-02T09:00:00Z"), at("2026-12-01T09:00:00Z")).1,
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
        );
    }
}
