//! `GET /metrics`: the Prometheus text of [`crate::metrics::Metrics`], for
//! loopback callers or callers with `Authorization: Bearer <metrics_token>`.
//! Anyone else gets 404 `not_found`, a wrong token included, so that the
//! endpoint does not reveal that it exists.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use crate::metrics::{seconds_since, Snapshot, CONTENT_TYPE};
use crate::problem::ApiError;
use crate::state::AppState;

/// Loopback peers always; others only with the configured bearer token.
fn allowed(req: &HttpRequest, token: Option<&str>) -> bool {
    if req
        .peer_addr()
        .is_some_and(|addr| addr.ip().to_canonical().is_loopback())
    {
        return true;
    }
    let Some(expected) = token.filter(|t| !t.is_empty()) else {
        return false;
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    given.is_some_and(|given| same_secret(given, expected))
}

/// Compares digests byte by byte without stopping early, so that the time
/// taken does not tell how much of the token was right (nor its length).
fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (Sha256::digest(given), Sha256::digest(expected));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// Operational metrics in the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "metrics",
    summary = "Operational metrics (Prometheus text)",
    description = "For loopback callers, or with `Authorization: Bearer <ODR_METRICS_TOKEN>`; \
                   anyone else gets 404, a wrong token included. Requests by matched route \
                   pattern, method and status; latency histograms; committed transitions by \
                   event; scheduler actions, last tick and lag; outbox rows by status and the \
                   oldest pending row's age; database pool use.",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4.", content_type = "text/plain", body = String),
        (status = 404, response = super::openapi::NotFound)
    ),
    security((), ("bearer" = []))
)]
pub async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !allowed(&req, state.http.metrics_token.as_deref()) {
        return Err(ApiError::NotFound);
    }
    let (outbox, oldest_pending) = state
        .blocking(|s| {
            Ok((
                s.store.count_by_status()?,
                s.store.oldest_pending_created_at()?,
            ))
        })
        .await?;
    let snapshot = Snapshot {
        outbox,
        oldest_pending_age_seconds: seconds_since(oldest_pending, state.clock.now()),
        pool: state.store.pool_state(),
    };
    let text = state
        .metrics
        .encode(&snapshot)
        .map_err(|e| ApiError::Internal(format!("encoding metrics: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(text))
}
