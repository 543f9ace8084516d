//! The caller's own profile.

use actix_web::{web, HttpResponse};
use odr_domain::validation::limits;
use odr_store::ProfileChange;
use serde::Deserialize;

use super::input::Checks;
use crate::body::JsonBody;
use crate::caller::Caller;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::MeView;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "Ana E.", "locale": "de", "time_zone": "Europe/Berlin"}))]
pub struct ProfilePatch {
    display_name: Option<String>,
    locale: Option<String>,
    time_zone: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "me",
    summary = "The signed-in user",
    responses(
        (status = 200, description = "The caller.", body = crate::views::MeView),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn me(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(MeView::from(&caller.user))
}

#[utoipa::path(
    patch,
    path = "/api/v1/me",
    tag = "me",
    summary = "Change name, locale or time zone",
    request_body = ProfilePatch,
    responses(
        (status = 200, description = "The caller, changed.", body = crate::views::MeView),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 413, response = super::openapi::PayloadTooLarge),
        (status = 415, response = super::openapi::UnsupportedMediaType),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn update_me(
    state: web::Data<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<ProfilePatch>,
) -> Result<HttpResponse, ApiError> {
    let user = state
        .blocking(move |s| {
            let mut checks = Checks::default();
            if let Some(name) = &body.display_name {
                checks.text("display_name", name, limits::NAME);
            }
            let change = ProfileChange {
                display_name: body.display_name.map(|n| n.trim().to_owned()),
                locale: checks.locale("locale", body.locale.as_deref()),
                time_zone: checks.time_zone("time_zone", body.time_zone.as_deref()),
            };
            checks.finish()?;
            Ok(s.store.update_profile(caller.id(), change, s.clock.now())?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(MeView::from(&user)))
}
