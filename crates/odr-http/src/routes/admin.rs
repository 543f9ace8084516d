//! Admin views of the engine's own work: mail that could not be delivered.

use actix_web::{web, HttpResponse};
use odr_domain::Role;
use odr_store::clamp_limit;
use serde::Deserialize;

use crate::body::QueryParams;
use crate::caller::Caller;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::Items;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    status: Option<String>,
    limit: Option<i64>,
}

const STATUSES: [&str; 3] = ["pending", "sent", "dead"];

/// `GET /api/v1/admin/outbox?status=dead`: newest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/outbox",
    tag = "admin",
    summary = "The mail outbox, newest first",
    params(
        OutboxQuery
    ),
    responses(
        (status = 200, description = "Outbox rows.", body = crate::views::Items<odr_store::OutboxEntry>),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn outbox(
    state: web::Data<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<OutboxQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin], "see the outbox")?;
    if let Some(status) = q.status.as_deref() {
        if !STATUSES.contains(&status) {
            return Err(ApiError::validation_one(
                "status",
                "unknown_code",
                "Use pending, sent or dead.",
            ));
        }
    }
    let rows = state
        .blocking(move |s| {
            Ok(s.store
                .list_outbox(q.status.as_deref(), clamp_limit(q.limit))?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Items {
        items: rows,
        next_cursor: None,
    }))
}

/// `POST /api/v1/admin/outbox/{id}/retry`: a dead mail goes back in the
/// queue with a fresh count of attempts.
#[utoipa::path(
    post,
    path = "/api/v1/admin/outbox/{id}/retry",
    tag = "admin",
    summary = "Requeue a dead mail",
    params(
        ("id" = String, Path, description = "Outbox row id."),
        crate::routes::openapi::IdempotencyHeader
    ),
    responses(
        (status = 202, description = "Queued again."),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 409, response = super::openapi::AlreadyExists),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn retry(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin], "requeue mail")?;
    let id = path.into_inner();
    state.blocking(move |s| requeue_dead(s, &id)).await?;
    state.mail_queued.notify_one();
    Ok(HttpResponse::Accepted().finish())
}

/// Puts dead mail `id` back in the queue (the API's route and the admin
/// page's button); 409 when it is not dead.
pub(crate) fn requeue_dead(s: &AppState, id: &str) -> Result<(), ApiError> {
    if s.store.retry_dead(id, s.clock.now())? {
        Ok(())
    } else {
        Err(ApiError::Conflict(
            "Only a dead mail can be requeued; this one is pending or sent, or does not exist."
                .into(),
        ))
    }
}
