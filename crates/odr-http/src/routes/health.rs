//! Liveness and readiness.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::problem::ApiError;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    summary = "Liveness",
    responses(
        (status = 200, description = "The process answers.", body = super::openapi::Health)
    )
)]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// 200 only when the database answers; 503 `unavailable` otherwise.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    summary = "Readiness: the database answers",
    responses(
        (status = 200, description = "Ready.", body = super::openapi::Ready),
        (status = 503, response = super::openapi::Unavailable)
    )
)]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state
        .blocking(|s| {
            s.store
                .ping()
                .map_err(|e| ApiError::Unavailable(format!("database: {e}")))
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "status": "ready", "database": "ok" })))
}
