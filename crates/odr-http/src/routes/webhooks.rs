//! A shop's webhook endpoints (api.md, "Shop integration"): registration
//! (the secret `whsec_...` shown once, kept sealed), the list, removal, the
//! delivery log, redeliver, and (an extension, docs/api.md) `PATCH` to
//! enable an endpoint again after the engine disabled it.
//!
//! Who: that retailer's staff, signed in as a person, and admins. A
//! customer or mediator is 403; staff of another retailer 404; an API key
//! is 403 (`Caller::may_manage_credentials`).
//!
//! An endpoint's address is checked here, when it is registered, and again
//! by the delivery worker before each attempt (`odr_webhooks::address`).

use actix_web::{http::header, web, HttpResponse};
use chrono::{DateTime, Utc};
use odr_domain::complaint::WebhookType;
use odr_store::webhooks::RedeliverError;
use odr_store::{clamp_limit, Cursor, NewWebhookEndpoint, Page, WebhookDelivery, WebhookEndpoint};
use odr_webhooks::address::{check_url, AddressPolicy, AddressRefusal};
use serde::{Deserialize, Serialize};

use super::paging::{checked_cursor, PageQuery};
use crate::body::JsonBody;
use crate::caller::Caller;
use crate::problem::{ApiError, FieldError};
use crate::state::AppState;

/// The longest URL an endpoint may have.
const MAX_URL_CHARS: usize = 2000;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://shop.example/odr/webhook", "events": ["complaint.filed", "complaint.escalated"]}))]
pub struct NewWebhook {
    /// `http` or `https`, no user name or password, on a public address
    /// (unless `ODR_WEBHOOK_ALLOW_PRIVATE=true`).
    pub(crate) url: String,
    /// At least one webhook type (`complaint.filed`, ...).
    #[schema(value_type = Vec<String>)]
    pub(crate) events: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true}))]
pub struct WebhookChange {
    /// `true` enables a disabled endpoint again (its run of failures is
    /// forgotten); `false` pauses it.
    enabled: bool,
}

/// A registered endpoint; `secret` only in the 201 of its registration.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    pub events: Vec<WebhookType>,
    /// `whsec_...`: the HMAC key of `ODR-Signature`. Shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub enabled: bool,
    /// Since when every delivery attempt has failed (`null` while the
    /// endpoint answers); three days of it disable the endpoint.
    pub failing_since: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl WebhookView {
    fn of(e: WebhookEndpoint, secret: Option<String>) -> WebhookView {
        WebhookView {
            id: e.id,
            url: e.url,
            events: e.events,
            secret,
            enabled: e.enabled,
            failing_since: e.failing_since,
            disabled_at: e.disabled_at,
            created_at: e.created_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookView>,
}

/// Who may manage this retailer's webhooks: as for its API keys.
fn check_manager(s: &AppState, caller: &Caller, retailer_id: &str) -> Result<(), ApiError> {
    super::credentials::check_credentials_manager(s, caller, retailer_id, "webhooks")
}

/// The endpoint, if it is this retailer's (after `check_manager`).
fn endpoint_of(s: &AppState, retailer_id: &str, id: &str) -> Result<WebhookEndpoint, ApiError> {
    s.store
        .webhook_of(retailer_id, id)?
        .ok_or(ApiError::NotFound)
}

/// The subscribed types, or 422 naming each unknown one (`events[i]`).
fn checked_events(events: &[String]) -> Result<Vec<WebhookType>, Vec<FieldError>> {
    if events.is_empty() {
        return Err(vec![FieldError::new(
            "events",
            "required",
            "Name at least one event type, e.g. complaint.filed.",
        )]);
    }
    let mut errors = Vec::new();
    let mut types = Vec::new();
    for (i, code) in events.iter().enumerate() {
        match WebhookType::parse(code) {
            Ok(t) if !types.contains(&t) => types.push(t),
            Ok(_) => {}
            Err(_) => errors.push(FieldError::new(
                format!("events[{i}]"),
                "unknown_event_type",
                format!(
                    "`{code}` is not a webhook type; use one of: {}.",
                    WebhookType::ALL
                        .iter()
                        .map(|t| t.code())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
    if errors.is_empty() {
        Ok(types)
    } else {
        Err(errors)
    }
}

fn url_error(refusal: &AddressRefusal) -> FieldError {
    let code = match refusal {
        AddressRefusal::Refused { .. } => "address_refused",
        AddressRefusal::Unresolved { .. } => "unresolved",
        _ => "invalid_url",
    };
    FieldError::new("url", code, format!("The webhook URL {refusal}."))
}

#[utoipa::path(
    post,
    path = "/api/v1/retailers/{id}/webhooks",
    tag = "integration",
    summary = "Register a webhook endpoint (its secret is shown once)",
    description = "Events of the retailer's complaints of the listed types are POSTed to `url` \
        as `{id, type, created_at, data: {complaint}}`, signed in `ODR-Signature` with the \
        secret (`whsec_...`) this answer shows once. The URL must be http(s) without \
        credentials, and every address its host resolves to must be public (loopback, \
        private, link-local, unique-local, CGNAT, metadata, multicast and broadcast \
        addresses are refused unless `ODR_WEBHOOK_ALLOW_PRIVATE=true`).",
    request_body = NewWebhook,
    params(
        ("id" = String, Path, description = "Retailer id."),
        crate::routes::openapi::IdempotencyHeader
    ),
    responses(
        (status = 201, description = "The endpoint with its secret, shown once.", body = WebhookView, headers(("Location" = String, description = "Where the new resource is."))),
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
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    JsonBody(body): JsonBody<NewWebhook>,
) -> Result<HttpResponse, ApiError> {
    let (created, shown) = register_webhook(&state, caller, path.into_inner(), body).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!(
                "/api/v1/retailers/{}/webhooks/{}",
                created.retailer_id, created.id
            ),
        ))
        .json(WebhookView::of(created, Some(shown))))
}

/// Registers an endpoint of a retailer for one who may manage its
/// webhooks, after checking its address (resolved) and events: the
/// endpoint and its secret, to be shown this once (the API's `create` and
/// the integration page).
pub(crate) async fn register_webhook(
    state: &AppState,
    caller: Caller,
    retailer_id: String,
    body: NewWebhook,
) -> Result<(WebhookEndpoint, String), ApiError> {
    {
        let (retailer_id, caller) = (retailer_id.clone(), caller.clone());
        state
            .blocking(move |s| check_manager(s, &caller, &retailer_id))
            .await?;
    }
    let mut errors = Vec::new();
    let url = body.url.trim().to_owned();
    if url.chars().count() > MAX_URL_CHARS {
        errors.push(FieldError::new(
            "url",
            "too_long",
            format!("The webhook URL may have at most {MAX_URL_CHARS} characters."),
        ));
    } else {
        let policy = AddressPolicy {
            allow_private: state.http.webhook_allow_private,
        };
        if let Err(refusal) = check_url(&url, policy).await {
            errors.push(url_error(&refusal));
        }
    }
    let events = checked_events(&body.events).unwrap_or_else(|e| {
        errors.extend(e);
        Vec::new()
    });
    if !errors.is_empty() {
        return Err(ApiError::Validation { errors });
    }
    let secret = odr_webhooks::secret::new_secret();
    let shown = secret.clone();
    let created = state
        .blocking(move |s| {
            let new = NewWebhookEndpoint {
                retailer_id,
                url,
                events,
                sealed_secret: s.secrets.seal(&secret),
                created_by: Some(caller.id().to_owned()),
            };
            Ok(s.store.create_webhook(&new, s.clock.now())?)
        })
        .await?;
    Ok((created, shown))
}

#[utoipa::path(
    get,
    path = "/api/v1/retailers/{id}/webhooks",
    tag = "integration",
    summary = "The retailer's webhook endpoints (never their secrets)",
    params(("id" = String, Path, description = "Retailer id.")),
    responses(
        (status = 200, description = "The endpoints, oldest first.", body = WebhookList),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let retailer_id = path.into_inner();
    let endpoints = state
        .blocking(move |s| webhooks_listed(s, &caller, &retailer_id))
        .await?;
    Ok(HttpResponse::Ok().json(WebhookList {
        items: endpoints
            .into_iter()
            .map(|e| WebhookView::of(e, None))
            .collect(),
    }))
}

#[utoipa::path(
    patch,
    path = "/api/v1/retailers/{id}/webhooks/{webhook_id}",
    tag = "integration",
    summary = "Enable (or pause) a webhook endpoint",
    description = "Extension (docs/api.md): `{\"enabled\": true}` enables an endpoint the engine \
        disabled after three days of failures, its run of failures forgotten; deliveries that \
        died meanwhile stay dead (redeliver them one by one). `{\"enabled\": false}` pauses it.",
    request_body = WebhookChange,
    params(
        ("id" = String, Path, description = "Retailer id."),
        ("webhook_id" = String, Path, description = "Endpoint id.")
    ),
    responses(
        (status = 200, description = "The endpoint.", body = WebhookView),
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
    path: web::Path<(String, String)>,
    JsonBody(body): JsonBody<WebhookChange>,
) -> Result<HttpResponse, ApiError> {
    let (retailer_id, id) = path.into_inner();
    let endpoint = state
        .blocking(move |s| switch_webhook(s, &caller, &retailer_id, &id, body.enabled))
        .await?;
    Ok(HttpResponse::Ok().json(WebhookView::of(endpoint, None)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/retailers/{id}/webhooks/{webhook_id}",
    tag = "integration",
    summary = "Remove a webhook endpoint and its delivery log",
    params(
        ("id" = String, Path, description = "Retailer id."),
        ("webhook_id" = String, Path, description = "Endpoint id.")
    ),
    responses(
        (status = 204, description = "Removed; nothing more is sent to it."),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (retailer_id, id) = path.into_inner();
    state
        .blocking(move |s| remove_webhook(s, &caller, &retailer_id, &id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    get,
    path = "/api/v1/retailers/{id}/webhooks/{webhook_id}/deliveries",
    tag = "integration",
    summary = "An endpoint's delivery log, newest first",
    params(
        ("id" = String, Path, description = "Retailer id."),
        ("webhook_id" = String, Path, description = "Endpoint id."),
        PageQuery
    ),
    responses(
        (status = 200, description = "A page of deliveries.", body = crate::views::Items<WebhookDelivery>),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (retailer_id, id) = path.into_inner();
    let q = query.into_inner();
    checked_cursor(q.cursor.as_deref(), Cursor::decode)?;
    let page = state
        .blocking(move |s| {
            delivery_log(
                s,
                &caller,
                &retailer_id,
                &id,
                q.cursor.as_deref(),
                clamp_limit(q.limit),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(crate::views::Items {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/retailers/{id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    tag = "integration",
    summary = "Send a delivery again",
    description = "Queues the delivery at once: the next attempt sends the same event (same \
        `id`, same body, a fresh signature) and counts as a further attempt of it. On a \
        disabled endpoint this is 409 `conflict`: enable it first (`PATCH`).",
    params(
        ("id" = String, Path, description = "Retailer id."),
        ("webhook_id" = String, Path, description = "Endpoint id."),
        ("delivery_id" = String, Path, description = "Delivery id.")
    ),
    responses(
        (status = 202, description = "Queued; the worker sends it within about a second."),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 409, response = super::openapi::Conflict),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn redeliver(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (retailer_id, id, delivery_id) = path.into_inner();
    state
        .blocking(move |s| redeliver_delivery(s, &caller, &retailer_id, &id, &delivery_id))
        .await?;
    Ok(HttpResponse::Accepted().finish())
}

/// A retailer's endpoints, oldest first, for one who may manage them (the
/// API's list and the integration page).
pub(crate) fn webhooks_listed(
    s: &AppState,
    caller: &Caller,
    retailer_id: &str,
) -> Result<Vec<WebhookEndpoint>, ApiError> {
    check_manager(s, caller, retailer_id)?;
    Ok(s.store.webhooks_of(retailer_id)?)
}

/// Enables (or pauses) an endpoint of a retailer; 404 when it has none
/// such.
pub(crate) fn switch_webhook(
    s: &AppState,
    caller: &Caller,
    retailer_id: &str,
    id: &str,
    enabled: bool,
) -> Result<WebhookEndpoint, ApiError> {
    check_manager(s, caller, retailer_id)?;
    s.store
        .set_webhook_enabled(retailer_id, id, enabled, s.clock.now())?
        .ok_or(ApiError::NotFound)
}

/// Removes an endpoint of a retailer with its delivery log; 404 when it
/// has none such.
pub(crate) fn remove_webhook(
    s: &AppState,
    caller: &Caller,
    retailer_id: &str,
    id: &str,
) -> Result<(), ApiError> {
    check_manager(s, caller, retailer_id)?;
    if s.store.delete_webhook(retailer_id, id)? {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// A page of an endpoint's delivery log, newest first, after `cursor` (a
/// `next_cursor`).
pub(crate) fn delivery_log(
    s: &AppState,
    caller: &Caller,
    retailer_id: &str,
    id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<WebhookDelivery>, ApiError> {
    check_manager(s, caller, retailer_id)?;
    let endpoint = endpoint_of(s, retailer_id, id)?;
    Ok(s.store.webhook_deliveries(&endpoint.id, cursor, limit)?)
}

/// Queues a delivery of an endpoint of a retailer again, due now; 404 for
/// an unknown delivery, 409 on a disabled endpoint.
pub(crate) fn redeliver_delivery(
    s: &AppState,
    caller: &Caller,
    retailer_id: &str,
    id: &str,
    delivery_id: &str,
) -> Result<(), ApiError> {
    check_manager(s, caller, retailer_id)?;
    let endpoint = endpoint_of(s, retailer_id, id)?;
    match s
        .store
        .redeliver_webhook(&endpoint.id, delivery_id, s.clock.now())
    {
        Ok(()) => Ok(()),
        Err(RedeliverError::NotFound) => Err(ApiError::NotFound),
        Err(RedeliverError::Disabled) => Err(ApiError::Conflict(
            "This webhook endpoint is disabled; enable it again with PATCH \
             {\"enabled\": true} before redelivering."
                .into(),
        )),
        Err(RedeliverError::Store(e)) => Err(e.into()),
    }
}
