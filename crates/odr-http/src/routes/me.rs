//! The caller's own profile.

use actix_web::{web, HttpResponse};
use odr_domain::validation::limits;
use odr_store::ProfileChange;
use serde::Deserialize;

use super::input::Checks;
use crate::auth::password::validate_password;
use crate::body::JsonBody;
use crate::caller::Caller;
use crate::problem::{ApiError, FieldError};
use crate::rate_limit::limited;
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
        (status = 403, response = super::openapi::Forbidden),
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
            caller.require_person("change the profile")?;
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

/// How long a magic-link session may set a password without the current one.
pub const FRESH_MAGIC_LINK_MINUTES: i64 = 15;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"password": "a new long passphrase", "current_password": "correct horse battery"}))]
pub struct PasswordChange {
    /// At least 10 characters, as at register.
    password: String,
    /// Required when the account has a password, unless the session came
    /// from a magic link less than 15 minutes ago.
    current_password: Option<String>,
}

#[utoipa::path(
    put,
    path = "/api/v1/me/password",
    tag = "me",
    summary = "Set or change the caller's password",
    description = "`current_password` is required when the account has a password and the session did not come from a magic link less than 15 minutes ago (that is the password reset); missing or wrong it is 422 on `current_password`. Ends every session, the caller's own included: sign in again with the new password.",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Password set; every session has ended."),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 413, response = super::openapi::PayloadTooLarge),
        (status = 415, response = super::openapi::UnsupportedMediaType),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 429, response = super::openapi::RateLimited),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn change_password(
    state: web::Data<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    state
        .blocking(move |s| {
            caller.require_person("set a password")?;
            let now = s.clock.now();
            let mut checks = Checks::default();
            if let Err(e) = validate_password(&body.password) {
                checks.field(e);
            }
            let fresh_magic = caller
                .magic_link_at
                .is_some_and(|at| now - at < chrono::Duration::minutes(FRESH_MAGIC_LINK_MINUTES));
            if let (Some(hash), false) = (caller.user.password_hash.as_deref(), fresh_magic) {
                match body.current_password.as_deref() {
                    None | Some("") => checks.field(FieldError::new(
                        "current_password",
                        "required",
                        "Enter your current password, or sign in by magic link to set a new one.",
                    )),
                    Some(current) => {
                        if !s.passwords.verify(current, hash) {
                            limited(
                                s.rate_limits
                                    .login_failures_by_account
                                    .hit(&caller.user.email, now),
                            )?;
                            checks.field(FieldError::new(
                                "current_password",
                                "wrong_password",
                                "That is not your current password.",
                            ));
                        }
                    }
                }
            }
            checks.finish()?;
            let hash = s
                .passwords
                .hash(&body.password)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            s.store.change_password(caller.id(), &hash, now)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
