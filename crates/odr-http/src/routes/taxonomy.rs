//! The structured vocabulary and its icons.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use odr_domain::locale::Locale;
use odr_domain::taxonomy::{icon_svg, taxonomy_document, IconFamily};

use crate::problem::ApiError;
use crate::state::AppState;

/// The locale a request asks for in `Accept-Language` (English fallback).
pub fn requested_locale(req: &HttpRequest) -> Locale {
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Locale::En, Locale::negotiate)
}

#[utoipa::path(
    get,
    path = "/api/v1/taxonomy",
    tag = "taxonomy",
    summary = "The vocabulary, labels in the Accept-Language locale",
    params(
        ("Accept-Language" = Option<String>, Header, description = "Locale of the labels (`en`, `de`, ...); English when none fits.")
    ),
    responses(
        (status = 200, description = "The vocabulary.", body = odr_domain::taxonomy::Taxonomy, headers(("Content-Language" = String)))
    )
)]
pub async fn taxonomy(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let locale = requested_locale(&req);
    let mut doc = taxonomy_document(locale);
    for entry in doc
        .categories
        .iter_mut()
        .chain(doc.rejection_reasons.iter_mut())
        .chain(doc.escalation_reasons.iter_mut())
    {
        entry.icon = state.icon_url(&entry.icon);
    }
    for entry in &mut doc.remedies {
        entry.icon = state.icon_url(&entry.icon);
    }
    HttpResponse::Ok()
        .insert_header((header::CONTENT_LANGUAGE, locale.code()))
        .insert_header((header::VARY, "Accept-Language"))
        .json(doc)
}

/// `/icons/{family}/{code}.svg`
#[utoipa::path(
    get,
    path = "/icons/{family}/{file}",
    tag = "taxonomy",
    summary = "An icon of the vocabulary (SVG)",
    params(
        ("family" = String, Path, description = "Icon family (`categories`, `remedies`, ...)."),
        ("file" = String, Path, description = "`<code>.svg`.")
    ),
    responses(
        (status = 200, description = "The SVG.", content_type = "image/svg+xml", body = String),
        (status = 404, response = super::openapi::NotFound)
    )
)]
pub async fn icon(path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let (family, file) = path.into_inner();
    let code = file.strip_suffix(".svg").ok_or(ApiError::NotFound)?;
    let family = IconFamily::parse(&family).ok_or(ApiError::NotFound)?;
    let svg = icon_svg(family, code).ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(svg))
}
