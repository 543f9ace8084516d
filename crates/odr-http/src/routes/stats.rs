//! `GET /api/v1/retailers/{id}/stats`: the retailer's statistics over a
//! period (api.md, "Statistics"), computed by the store
//! (`Store::retailer_stats`). Here only the period is read and the caller
//! checked.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;

use crate::body::QueryParams;
use crate::caller::Caller;
use crate::problem::{ApiError, FieldError};
use crate::state::AppState;

/// The period when the query names none: the last 90 days.
pub const DEFAULT_DAYS: i64 = 90;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Start: an RFC 3339 instant (included) or a plain date `YYYY-MM-DD`
    /// (from 00:00 UTC that day). Default: 90 days before `to`.
    pub(crate) from: Option<String>,
    /// End: an RFC 3339 instant (excluded) or a plain date `YYYY-MM-DD`
    /// (the whole day included, until 00:00 UTC the next day). Default: now.
    pub(crate) to: Option<String>,
}

/// Which end of the period a parameter is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    From,
    To,
}

/// A parameter as an instant of the half-open period `[from, to)`.
fn instant(field: &str, value: &str, end: End) -> Result<DateTime<Utc>, FieldError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(at.with_timezone(&Utc));
    }
    match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(day) => {
            let day = if end == End::To {
                day.succ_opt().unwrap_or(day)
            } else {
                day
            };
            Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        }
        Err(_) => Err(FieldError::new(
            field,
            "invalid_time",
            "Use an RFC 3339 time (2026-12-01T09:00:00Z) or a date (2026-12-01).",
        )),
    }
}

/// The half-open period a query names.
pub fn period(
    from: Option<&str>,
    to: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let mut errors = Vec::new();
    let to = match to.map(|v| instant("to", v, End::To)).transpose() {
        Ok(to) => to.unwrap_or(now),
        Err(e) => {
            errors.push(e);
            now
        }
    };
    let from = match from.map(|v| instant("from", v, End::From)).transpose() {
        Ok(from) => from.unwrap_or(to - Duration::days(DEFAULT_DAYS)),
        Err(e) => {
            errors.push(e);
            to
        }
    };
    if errors.is_empty() && from >= to {
        errors.push(FieldError::new(
            "to",
            "not_after_from",
            "The end of the period must lie after its start.",
        ));
    }
    if errors.is_empty() {
        Ok((from, to))
    } else {
        Err(ApiError::Validation { errors })
    }
}

/// A retailer's statistics over the complaints filed in a period.
#[utoipa::path(
    get,
    path = "/api/v1/retailers/{id}/stats",
    tag = "retailers",
    summary = "Statistics of a retailer (its staff, admins)",
    description = "Counts by state, category and outcome; median and p90 hours to first \
        response and to close (linear interpolation between the closest ranks, like \
        `percentile_cont`); offer acceptance, escalation, deadline breach, agreement and \
        fulfilment rates; satisfaction; a weekly series (weeks start on Monday, UTC). Over the \
        complaints filed in the period; plain dates cover whole UTC days, both ends included; \
        instants are half-open `[from, to)`. Default: the last 90 days.",
    params(
        ("id" = String, Path, description = "Retailer id."),
        StatsQuery
    ),
    responses(
        (status = 200, description = "The statistics.", body = odr_store::RetailerStats),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn retailer_stats(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    QueryParams(q): QueryParams<StatsQuery>,
) -> Result<HttpResponse, ApiError> {
    let retailer_id = path.into_inner();
    let stats = state
        .blocking(move |s| {
            s.store.retailer(&retailer_id)?.ok_or(ApiError::NotFound)?;
            if !caller.manages_retailer(&retailer_id) {
                return Err(ApiError::Forbidden(
                    "Only this retailer's staff and admins can see its statistics.".into(),
                ));
            }
            let (from, to) = period(q.from.as_deref(), q.to.as_deref(), s.clock.now())?;
            Ok(s.store.retailer_stats(&retailer_id, from, to)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn plain_dates_cover_whole_days_and_instants_are_half_open() {
        let now = at("2026-12-20T12:00:00Z");
        let (from, to) = period(Some("2026-12-01"), Some("2026-12-07"), now).unwrap();
        assert_eq!(from, at("2026-12-01T00:00:00Z"));
        assert_eq!(to, at("2026-12-08T00:00:00Z"));
        let (from, to) = period(
            Some("2026-12-01T09:00:00Z"),
            Some("2026-12-01T11:00:00+01:00"),
            now,
        )
        .unwrap();
        assert_eq!(
            (from, to),
            (at("2026-12-01T09:00:00Z"), at("2026-12-01T10:00:00Z"))
        );
        // An empty period is no period.
        assert!(period(
            Some("2026-12-01T09:00:00Z"),
            Some("2026-12-01T10:00:00+01:00"),
            now
        )
        .is_err());
        let (from, to) = period(None, None, now).unwrap();
        assert_eq!((from, to), (now - Duration::days(90), now));
        assert!(period(Some("yesterday"), None, now).is_err());
        assert!(period(Some("2026-12-02"), Some("2026-12-01"), now).is_err());
    }
}
