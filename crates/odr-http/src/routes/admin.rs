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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    status: Option<String>,
    limit: Option<i64>,
}

const STATUSES: [&str; 3] = ["pending", "sent", "dead"];

/// `GET /api/v1/admin/outbox?status=dead`: newest first.
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
pub async fn retry(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin], "requeue mail")?;
    let id = path.into_inner();
    let requeued = state
        .blocking(move |s| Ok(s.store.retry_dead(&id, s.clock.now())?))
        .await?;
    if !requeued {
        return Err(ApiError::Conflict(
            "Only a dead mail can be requeued; this one is pending or sent, or does not exist."
                .into(),
        ));
    }
    state.mail_queued.notify_one();
    Ok(HttpResponse::Accepted().finish())
}
