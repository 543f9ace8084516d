//! Liveness and readiness.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::problem::ApiError;
use crate::state::AppState;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// 200 only when the database answers; 503 `unavailable` otherwise.
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
