//! The pages' own stylesheet, script and icon, embedded in the binary: no
//! CDN, nothing fetched from elsewhere.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::problem::ApiError;

const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../pages/assets/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../pages/assets/app.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../pages/assets/favicon.svg"),
    ),
];

/// `GET /assets/{file}`
pub async fn asset(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (_, content_type, body) = ASSETS
        .iter()
        .find(|(name, _, _)| *name == file.as_str())
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(*content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(*body))
}
