//! Retailers, their settings and their staff.

use actix_web::{http::header, web, HttpResponse};
use chrono::NaiveDate;
use odr_domain::money::Currency;
use odr_domain::validation::{limits, Violation};
use odr_domain::Role;
use odr_store::{clamp_limit, Cursor, NewRetailer, Retailer, RetailerChange, User};
use serde::Deserialize;

use super::auth::{create_account, Newcomer};
use super::input::Checks;
use crate::auth::password::normalize_email;
use crate::body::{JsonBody, QueryParams};
use crate::caller::Caller;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::{Items, PublicRetailerView, RetailerView, StaffView};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Demo Shop", "support_email": "support@demo-shop.test", "locale": "en", "currency": "EUR", "time_zone": "Europe/Berlin"}))]
pub struct CreateRetailer {
    pub(crate) name: String,
    pub(crate) support_email: String,
    pub(crate) locale: Option<String>,
    pub(crate) currency: Option<String>,
    pub(crate) time_zone: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"business_days": true, "holidays": ["2026-12-25", "2026-12-26"]}))]
pub struct PatchRetailer {
    name: Option<String>,
    support_email: Option<String>,
    locale: Option<String>,
    currency: Option<String>,
    time_zone: Option<String>,
    business_days: Option<bool>,
    holidays: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "sam@demo-shop.test", "display_name": "Sam"}))]
pub struct CreateStaff {
    pub(crate) email: String,
    pub(crate) display_name: String,
    pub(crate) password: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

fn currency(checks: &mut Checks, value: Option<&str>) -> Option<Currency> {
    let value = value?;
    let parsed = Currency::parse(value);
    if parsed.is_none() {
        checks.push(Err(Violation::new(
            "currency",
            "unknown_currency",
            format!("`{value}` is not an ISO 4217 currency code."),
        )));
    }
    parsed
}

fn support_email(checks: &mut Checks, value: &str) -> Option<String> {
    match normalize_email(value) {
        Ok(e) => Some(e),
        Err(mut e) => {
            e.field = "support_email".into();
            checks.field(e);
            None
        }
    }
}

pub fn cursor(value: Option<&str>) -> Result<Option<Cursor>, ApiError> {
    value
        .map(|c| {
            Cursor::decode(c).map_err(|_| {
                ApiError::validation_one(
                    "cursor",
                    "invalid_cursor",
                    "Use a next_cursor this API gave you.",
                )
            })
        })
        .transpose()
}

/// The retailer, and whether the caller may manage it (403 when not).
fn managed_retailer(state: &AppState, caller: &Caller, id: &str) -> Result<Retailer, ApiError> {
    let retailer = state.store.retailer(id)?.ok_or(ApiError::NotFound)?;
    if !caller.manages_retailer(id) {
        return Err(ApiError::Forbidden(
            "Only this retailer's staff and admins can do this.".into(),
        ));
    }
    Ok(retailer)
}

/// Creates a retailer (the API's route and the admin page's form; the
/// caller is checked by them).
pub(crate) fn create_retailer(s: &AppState, body: CreateRetailer) -> Result<Retailer, ApiError> {
    let mut checks = Checks::default();
    checks.text("name", &body.name, limits::NAME);
    let email = support_email(&mut checks, &body.support_email);
    let new = NewRetailer {
        name: body.name.trim().to_owned(),
        support_email: email.unwrap_or_default(),
        locale: checks
            .locale("locale", body.locale.as_deref())
            .unwrap_or_default(),
        currency: currency(&mut checks, body.currency.as_deref()).unwrap_or_default(),
        time_zone: checks
            .time_zone("time_zone", body.time_zone.as_deref())
            .unwrap_or_else(|| "UTC".into()),
    };
    checks.finish()?;
    Ok(s.store
        .create_retailer(new, uuid::Uuid::new_v4().to_string(), s.clock.now())?)
}

#[utoipa::path(
    post,
    path = "/api/v1/retailers",
    tag = "retailers",
    summary = "Create a retailer (admin)",
    request_body = CreateRetailer,
    params(
        crate::routes::openapi::IdempotencyHeader
    ),
    responses(
        (status = 201, description = "The retailer.", body = crate::views::RetailerView, headers(("Location" = String, description = "Where the new resource is."))),
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
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateRetailer>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin], "create retailers")?;
    let retailer = state.blocking(move |s| create_retailer(s, body)).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/retailers/{}", retailer.id),
        ))
        .json(RetailerView::from(&retailer)))
}

/// The public directory: names only, never support addresses.
#[utoipa::path(
    get,
    path = "/api/v1/retailers",
    tag = "retailers",
    summary = "The public directory of retailers",
    params(
        ListQuery
    ),
    responses(
        (status = 200, description = "A page of retailers.", body = crate::views::Items<crate::views::PublicRetailerView>),
        (status = 400, response = super::openapi::Malformed),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 503, response = super::openapi::Unavailable)
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .blocking(move |s| {
            let after = cursor(q.cursor.as_deref())?;
            Ok(s.store
                .list_retailers(after.as_ref(), clamp_limit(q.limit))?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Items {
        items: page
            .items
            .iter()
            .map(|r| PublicRetailerView {
                id: r.id.clone(),
                name: r.name.clone(),
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Extension: one retailer; its settings for staff and admins, the public
/// view for everyone else.
#[utoipa::path(
    get,
    path = "/api/v1/retailers/{id}",
    tag = "retailers",
    summary = "One retailer: its settings for its staff and admins, the public view for others",
    params(
        ("id" = String, Path, description = "Retailer id.")
    ),
    responses(
        (status = 200, description = "The retailer.", body = super::openapi::RetailerAnswer),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 404, response = super::openapi::NotFound),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security((), ("bearer" = []))
)]
pub async fn get(
    state: web::Data<AppState>,
    caller: Option<Caller>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let retailer = state
        .blocking(move |s| s.store.retailer(&id)?.ok_or(ApiError::NotFound))
        .await?;
    if caller.is_some_and(|c| c.manages_retailer(&retailer.id)) {
        Ok(HttpResponse::Ok().json(RetailerView::from(&retailer)))
    } else {
        Ok(HttpResponse::Ok().json(PublicRetailerView {
            id: retailer.id,
            name: retailer.name,
        }))
    }
}

#[utoipa::path(
    patch,
    path = "/api/v1/retailers/{id}",
    tag = "retailers",
    summary = "Change a retailer's settings",
    request_body = PatchRetailer,
    params(
        ("id" = String, Path, description = "Retailer id.")
    ),
    responses(
        (status = 200, description = "The retailer.", body = crate::views::RetailerView),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 413, response = super::openapi::PayloadTooLarge),
        (status = 415, response = super::openapi::UnsupportedMediaType),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    JsonBody(body): JsonBody<PatchRetailer>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let retailer = state
        .blocking(move |s| {
            managed_retailer(s, &caller, &id)?;
            let mut checks = Checks::default();
            if let Some(name) = &body.name {
                checks.text("name", name, limits::NAME);
            }
            let holidays = body.holidays.as_ref().map(|days| {
                days.iter()
                    .enumerate()
                    .filter_map(|(i, d)| match d.parse::<NaiveDate>() {
                        Ok(date) => Some(date),
                        Err(_) => {
                            checks.push(Err(Violation::new(
                                format!("holidays[{i}]"),
                                "invalid_date",
                                "Use dates like 2026-12-24.",
                            )));
                            None
                        }
                    })
                    .collect::<Vec<_>>()
            });
            let change = RetailerChange {
                name: body.name.map(|n| n.trim().to_owned()),
                support_email: body
                    .support_email
                    .as_deref()
                    .and_then(|e| support_email(&mut checks, e)),
                locale: checks.locale("locale", body.locale.as_deref()),
                currency: currency(&mut checks, body.currency.as_deref()),
                time_zone: checks.time_zone("time_zone", body.time_zone.as_deref()),
                business_days: body.business_days,
                holidays,
            };
            checks.finish()?;
            Ok(s.store.update_retailer(&id, change, s.clock.now())?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(RetailerView::from(&retailer)))
}

/// Adds a staff user to a retailer the caller manages, invited by mail
/// when there is no password (the API's route and the admin page's form).
pub(crate) fn add_staff(
    s: &AppState,
    caller: &Caller,
    retailer_id: &str,
    body: CreateStaff,
) -> Result<User, ApiError> {
    let retailer = managed_retailer(s, caller, retailer_id)?;
    caller.require_person("add staff")?;
    let who = Newcomer {
        email: &body.email,
        password: body.password.as_deref(),
        display_name: &body.display_name,
    };
    let (locale, time_zone) = (retailer.locale, retailer.time_zone.clone());
    let place = Some(retailer.id);
    create_account(
        s,
        Checks::default(),
        who,
        Role::RetailerStaff,
        place,
        locale,
        time_zone,
    )
}

#[utoipa::path(
    post,
    path = "/api/v1/retailers/{id}/staff",
    tag = "retailers",
    summary = "Add a staff user (invited by mail without a password)",
    request_body = CreateStaff,
    params(
        ("id" = String, Path, description = "Retailer id."),
        crate::routes::openapi::IdempotencyHeader
    ),
    responses(
        (status = 201, description = "The staff user.", body = crate::views::StaffView),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 409, response = super::openapi::EmailTaken),
        (status = 413, response = super::openapi::PayloadTooLarge),
        (status = 415, response = super::openapi::UnsupportedMediaType),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn create_staff(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    JsonBody(body): JsonBody<CreateStaff>,
) -> Result<HttpResponse, ApiError> {
    let retailer_id = path.into_inner();
    let user = state
        .blocking(move |s| add_staff(s, &caller, &retailer_id, body))
        .await?;
    state.mail_queued.notify_one();
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!(
                "/api/v1/retailers/{}/staff/{}",
                user.retailer_id.clone().unwrap_or_default(),
                user.id
            ),
        ))
        .json(StaffView::from(&user)))
}

#[utoipa::path(
    get,
    path = "/api/v1/retailers/{id}/staff",
    tag = "retailers",
    summary = "The retailer's staff",
    params(
        ("id" = String, Path, description = "Retailer id."),
        ListQuery
    ),
    responses(
        (status = 200, description = "The staff.", body = crate::views::Items<crate::views::StaffView>),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn list_staff(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let retailer_id = path.into_inner();
    let page = state
        .blocking(move |s| {
            managed_retailer(s, &caller, &retailer_id)?;
            caller.require_person("see the staff")?;
            let after = cursor(q.cursor.as_deref())?;
            Ok(s.store
                .staff_page(&retailer_id, after.as_ref(), clamp_limit(q.limit))?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Items {
        items: page.items.iter().map(StaffView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(
    delete,
    path = "/api/v1/retailers/{id}/staff/{user_id}",
    tag = "retailers",
    summary = "Disable a staff user at once",
    params(
        ("id" = String, Path, description = "Retailer id."),
        ("user_id" = String, Path, description = "Staff user id.")
    ),
    responses(
        (status = 204, description = "Disabled."),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn remove_staff(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (retailer_id, user_id) = path.into_inner();
    state
        .blocking(move |s| remove_staff_member(s, &caller, &retailer_id, &user_id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Disables an active staff user of a retailer the caller manages, at once
/// (the API's route and the admin page's button); 404 for anyone else.
pub(crate) fn remove_staff_member(
    s: &AppState,
    caller: &Caller,
    retailer_id: &str,
    user_id: &str,
) -> Result<(), ApiError> {
    managed_retailer(s, caller, retailer_id)?;
    caller.require_person("remove staff")?;
    let user = s.store.user(user_id)?.ok_or(ApiError::NotFound)?;
    // An API key's backing user is no staff member: the key is revoked.
    if user.role != Role::RetailerStaff
        || odr_store::api_keys::is_key_holder_address(&user.email)
        || user.retailer_id.as_deref() != Some(retailer_id)
        || !user.is_active()
    {
        return Err(ApiError::NotFound);
    }
    Ok(s.store.disable_user(user_id, s.clock.now())?)
}
