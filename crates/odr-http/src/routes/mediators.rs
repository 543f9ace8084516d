//! Mediators: created by admins; listed for admins choosing whom to assign.

use actix_web::{http::header, web, HttpResponse};
use odr_domain::Role;
use odr_store::{clamp_limit, Cursor, User};
use serde::Deserialize;

use super::auth::{create_account, Newcomer};
use super::input::Checks;
use super::paging::{checked_cursor, PageQuery};
use crate::body::{JsonBody, QueryParams};
use crate::caller::Caller;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::{Items, StaffView};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "mia@odr.test", "password": "a long enough password", "display_name": "Mia Mediator"}))]
pub struct CreateMediator {
    pub(crate) email: String,
    pub(crate) password: String,
    pub(crate) display_name: String,
}

/// Creates a mediator (the API's route and the admin page's form; the
/// caller is checked by them).
pub(crate) fn create_mediator(s: &AppState, body: CreateMediator) -> Result<User, ApiError> {
    let who = Newcomer {
        email: &body.email,
        password: Some(&body.password),
        display_name: &body.display_name,
    };
    let (locale, time_zone) = (Default::default(), "UTC".into());
    create_account(
        s,
        Checks::default(),
        who,
        Role::Mediator,
        None,
        locale,
        time_zone,
    )
}

#[utoipa::path(
    post,
    path = "/api/v1/mediators",
    tag = "mediators",
    summary = "Create a mediator (admin)",
    request_body = CreateMediator,
    params(
        crate::routes::openapi::IdempotencyHeader
    ),
    responses(
        (status = 201, description = "The mediator.", body = crate::views::StaffView),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 409, response = super::openapi::EmailTaken),
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
    JsonBody(body): JsonBody<CreateMediator>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin], "create mediators")?;
    let user = state.blocking(move |s| create_mediator(s, body)).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, "/api/v1/mediators"))
        .json(StaffView::from(&user)))
}

/// Extension: the active mediators, for admins assigning cases.
#[utoipa::path(
    get,
    path = "/api/v1/mediators",
    tag = "mediators",
    summary = "The active mediators (admin)",
    params(PageQuery),
    responses(
        (status = 200, description = "The mediators.", body = crate::views::Items<crate::views::StaffView>),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 403, response = super::openapi::Forbidden),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin], "list mediators")?;
    let page = state
        .blocking(move |s| {
            let after = checked_cursor(q.cursor.as_deref(), Cursor::decode)?;
            Ok(s.store
                .role_page(Role::Mediator, after.as_ref(), clamp_limit(q.limit))?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Items {
        items: page.items.iter().map(StaffView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}
