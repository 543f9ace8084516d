//! A shop's webhook endpoints and their delivery log. Every complaint event
//! an enabled endpoint subscribed to becomes one `webhook_events` row (the
//! exact body every attempt sends) and one `webhook_deliveries` row per
//! endpoint, written by `write_deliveries` in the event's own transaction.
//! The worker side (claim, record the attempt, disable) is in `queue`.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use odr_domain::complaint::{ComplaintView, Transition, WebhookType};
use odr_domain::{Actor, Role};

use crate::page::{Cursor, Page};
use crate::retailers::load_retailer;
use crate::schema::{webhook_deliveries, webhook_endpoints, webhook_events};
use crate::time::{from_db, to_db};
use crate::{DbConnection, Store, StoreError};

mod queue;

pub use queue::{ClaimedDelivery, DeliveryOutcome, WebhookRetry};

/// A registered endpoint, without its secret.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEndpoint {
    pub id: String,
    pub retailer_id: String,
    pub url: String,
    pub events: Vec<WebhookType>,
    pub enabled: bool,
    /// Since when every attempt has failed; `null` while it answers.
    pub failing_since: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// What registration stores; `sealed_secret` is `SecretKeeper::seal`'s.
#[derive(Debug, Clone)]
pub struct NewWebhookEndpoint {
    pub retailer_id: String,
    pub url: String,
    pub events: Vec<WebhookType>,
    pub sealed_secret: String,
    pub created_by: Option<String>,
}

/// One line of the delivery log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookDelivery {
    pub id: String,
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// `pending`, `delivered`, `retrying` or `dead`.
    pub status: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// When the next attempt is due (pending and retrying deliveries).
    pub next_attempt_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Retrying,
    Dead,
}

impl DeliveryStatus {
    pub fn code(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Retrying => "retrying",
            DeliveryStatus::Dead => "dead",
        }
    }
}

/// Why a redeliver was refused.
#[derive(Debug, thiserror::Error)]
pub enum RedeliverError {
    #[error("no such delivery")]
    NotFound,
    #[error("the endpoint is disabled")]
    Disabled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for RedeliverError {
    fn from(e: diesel::result::Error) -> Self {
        RedeliverError::Store(e.into())
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_endpoints)]
struct EndpointRow {
    id: String,
    retailer_id: String,
    url: String,
    events: String,
    secret: String,
    enabled: bool,
    failing_since: Option<NaiveDateTime>,
    disabled_at: Option<NaiveDateTime>,
    created_by: Option<String>,
    created_at: NaiveDateTime,
}

impl EndpointRow {
    fn endpoint(self) -> Result<WebhookEndpoint, StoreError> {
        Ok(WebhookEndpoint {
            events: parse_events(&self.events)?,
            id: self.id,
            retailer_id: self.retailer_id,
            url: self.url,
            enabled: self.enabled,
            failing_since: self.failing_since.map(from_db),
            disabled_at: self.disabled_at.map(from_db),
            created_at: from_db(self.created_at),
        })
    }
}

fn parse_events(stored: &str) -> Result<Vec<WebhookType>, StoreError> {
    Ok(serde_json::from_str(stored)?)
}

#[derive(Insertable)]
#[diesel(table_name = webhook_events)]
struct EventRow {
    id: String,
    event_type: String,
    complaint_id: String,
    seq: i64,
    body: String,
    created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub(crate) struct DeliveryRow {
    pub(crate) id: String,
    pub(crate) endpoint_id: String,
    pub(crate) event_id: String,
    pub(crate) status: String,
    pub(crate) attempts: i64,
    pub(crate) last_status_code: Option<i64>,
    pub(crate) last_error: Option<String>,
    pub(crate) available_at: NaiveDateTime,
    pub(crate) locked_until: Option<NaiveDateTime>,
    pub(crate) claim_token: Option<String>,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) delivered_at: Option<NaiveDateTime>,
}

/// The body of a delivery: `{id, type, created_at, data: {complaint}}`.
#[derive(serde::Serialize)]
struct Body<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    event_type: WebhookType,
    created_at: DateTime<Utc>,
    data: BodyData<'a>,
}

#[derive(serde::Serialize)]
struct BodyData<'a> {
    complaint: &'a ComplaintView,
}

/// Writes the event's webhook rows inside the event's transaction: one
/// `webhook_events` row and one pending delivery per enabled endpoint of
/// the complaint's retailer subscribed to its type. `data.complaint` is the
/// complaint as the retailer's staff see it at the event.
pub(crate) fn write_deliveries(
    conn: &mut DbConnection,
    t: &Transition,
    version: i64,
) -> Result<(), StoreError> {
    let Some(event_type) = WebhookType::of(&t.record) else {
        return Ok(());
    };
    let facts = t.complaint.facts();
    let endpoints: Vec<(String, String)> = webhook_endpoints::table
        .filter(webhook_endpoints::retailer_id.eq(&facts.retailer_id))
        .filter(webhook_endpoints::enabled.eq(true))
        .order(webhook_endpoints::created_at.asc())
        .select((webhook_endpoints::id, webhook_endpoints::events))
        .load(conn)?;
    let mut subscribed = Vec::new();
    for (id, events) in endpoints {
        if parse_events(&events)?.contains(&event_type) {
            subscribed.push(id);
        }
    }
    if subscribed.is_empty() {
        return Ok(());
    }
    let calendar = load_retailer(conn, &facts.retailer_id)?
        .map(|r| r.calendar())
        .unwrap_or_default();
    let viewer = Actor {
        id: None,
        role: Role::RetailerStaff,
        retailer_id: Some(facts.retailer_id.clone()),
    };
    let at = t.record.at;
    let view = ComplaintView::new(&t.complaint, version, &viewer, at, &t.policy, &calendar);
    let event_id = uuid::Uuid::now_v7().to_string();
    let body = serde_json::to_string(&Body {
        id: &event_id,
        event_type,
        created_at: at,
        data: BodyData { complaint: &view },
    })?;
    diesel::insert_into(webhook_events::table)
        .values(EventRow {
            id: event_id.clone(),
            event_type: event_type.code().to_owned(),
            complaint_id: facts.id.clone(),
            seq: t.record.seq,
            body,
            created_at: to_db(at),
        })
        .execute(conn)?;
    for endpoint_id in subscribed {
        diesel::insert_into(webhook_deliveries::table)
            .values(DeliveryRow {
                id: uuid::Uuid::now_v7().to_string(),
                endpoint_id,
                event_id: event_id.clone(),
                status: DeliveryStatus::Pending.code().to_owned(),
                attempts: 0,
                last_status_code: None,
                last_error: None,
                available_at: to_db(at),
                locked_until: None,
                claim_token: None,
                created_at: to_db(at),
                delivered_at: None,
            })
            .execute(conn)?;
    }
    Ok(())
}

impl Store {
    /// Registers an endpoint.
    pub fn create_webhook(
        &self,
        new: &NewWebhookEndpoint,
        now: DateTime<Utc>,
    ) -> Result<WebhookEndpoint, StoreError> {
        let row = EndpointRow {
            id: uuid::Uuid::now_v7().to_string(),
            retailer_id: new.retailer_id.clone(),
            url: new.url.clone(),
            events: serde_json::to_string(&new.events)?,
            secret: new.sealed_secret.clone(),
            enabled: true,
            failing_since: None,
            disabled_at: None,
            created_by: new.created_by.clone(),
            created_at: to_db(now),
        };
        self.write_on(|conn| {
            diesel::insert_into(webhook_endpoints::table)
                .values(&row)
                .execute(conn)?;
            Ok::<_, StoreError>(())
        })?;
        row.endpoint()
    }

    /// A retailer's endpoints, oldest first.
    pub fn webhooks_of(&self, retailer_id: &str) -> Result<Vec<WebhookEndpoint>, StoreError> {
        self.with_conn(|conn| {
            webhook_endpoints::table
                .filter(webhook_endpoints::retailer_id.eq(retailer_id))
                .order((
                    webhook_endpoints::created_at.asc(),
                    webhook_endpoints::id.asc(),
                ))
                .select(EndpointRow::as_select())
                .load(conn)?
                .into_iter()
                .map(EndpointRow::endpoint)
                .collect()
        })
    }

    /// One endpoint of a retailer (`None` when it belongs to another).
    pub fn webhook_of(
        &self,
        retailer_id: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        self.with_conn(|conn| {
            webhook_endpoints::table
                .find(id)
                .filter(webhook_endpoints::retailer_id.eq(retailer_id))
                .select(EndpointRow::as_select())
                .first(conn)
                .optional()?
                .map(EndpointRow::endpoint)
                .transpose()
        })
    }

    /// Removes an endpoint and its delivery log. False when the retailer
    /// has no such endpoint.
    pub fn delete_webhook(&self, retailer_id: &str, id: &str) -> Result<bool, StoreError> {
        self.write_transaction(|conn| {
            let owned = webhook_endpoints::table
                .find(id)
                .filter(webhook_endpoints::retailer_id.eq(retailer_id))
                .count()
                .get_result::<i64>(conn)?;
            if owned == 0 {
                return Ok(false);
            }
            diesel::delete(
                webhook_deliveries::table.filter(webhook_deliveries::endpoint_id.eq(id)),
            )
            .execute(conn)?;
            diesel::delete(webhook_endpoints::table.find(id)).execute(conn)?;
            Ok(true)
        })
    }

    /// Enables (its run of failures forgotten) or disables an endpoint.
    /// `None` when the retailer has no such endpoint.
    pub fn set_webhook_enabled(
        &self,
        retailer_id: &str,
        id: &str,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        self.write_on(|conn| {
            let disabled_at = (!enabled).then(|| to_db(now));
            diesel::update(
                webhook_endpoints::table
                    .find(id)
                    .filter(webhook_endpoints::retailer_id.eq(retailer_id)),
            )
            .set((
                webhook_endpoints::enabled.eq(enabled),
                webhook_endpoints::disabled_at.eq(disabled_at),
                webhook_endpoints::failing_since.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
            Ok::<_, StoreError>(())
        })?;
        self.webhook_of(retailer_id, id)
    }

    /// An endpoint's delivery log, newest first, after `after` (a
    /// `next_cursor`).
    pub fn webhook_deliveries(
        &self,
        endpoint_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Page<WebhookDelivery>, StoreError> {
        let after = after.map(Cursor::decode).transpose()?;
        self.with_conn(|conn| {
            let mut query = webhook_deliveries::table
                .inner_join(webhook_events::table)
                .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
                .order((
                    webhook_deliveries::created_at.desc(),
                    webhook_deliveries::id.desc(),
                ))
                .limit(limit.saturating_add(1))
                .select((DeliveryRow::as_select(), webhook_events::event_type))
                .into_boxed();
            if let Some(c) = after {
                query = query.filter(
                    webhook_deliveries::created_at
                        .lt(c.at)
                        .or(webhook_deliveries::created_at
                            .eq(c.at)
                            .and(webhook_deliveries::id.lt(c.id))),
                );
            }
            let mut rows: Vec<(DeliveryRow, String)> = query.load(conn)?;
            let limit = usize::try_from(limit).unwrap_or(usize::MAX);
            let next_cursor = if rows.len() > limit {
                rows.truncate(limit);
                rows.last().map(|(r, _)| {
                    Cursor {
                        at: r.created_at,
                        id: r.id.clone(),
                    }
                    .encode()
                })
            } else {
                None
            };
            let items = rows
                .into_iter()
                .map(|(r, event_type)| {
                    let waiting = r.status == DeliveryStatus::Pending.code()
                        || r.status == DeliveryStatus::Retrying.code();
                    WebhookDelivery {
                        next_attempt_at: waiting.then(|| from_db(r.available_at)),
                        id: r.id,
                        event_id: r.event_id,
                        event_type,
                        status: r.status,
                        attempts: r.attempts,
                        last_status_code: r.last_status_code,
                        last_error: r.last_error,
                        created_at: from_db(r.created_at),
                        delivered_at: r.delivered_at.map(from_db),
                    }
                })
                .collect();
            Ok(Page { items, next_cursor })
        })
    }

    /// Queues a delivery of `endpoint_id` again, due now: the next attempt
    /// sends the same event (same id, same body) and counts as one more.
    pub fn redeliver_webhook(
        &self,
        endpoint_id: &str,
        delivery_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), RedeliverError> {
        self.write_transaction(|conn| {
            let enabled: Option<bool> = webhook_endpoints::table
                .find(endpoint_id)
                .select(webhook_endpoints::enabled)
                .first(conn)
                .optional()?;
            let exists = webhook_deliveries::table
                .find(delivery_id)
                .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
                .count()
                .get_result::<i64>(conn)?
                == 1;
            match enabled {
                None => return Err(RedeliverError::NotFound),
                Some(_) if !exists => return Err(RedeliverError::NotFound),
                Some(false) => return Err(RedeliverError::Disabled),
                Some(true) => {}
            }
            diesel::update(webhook_deliveries::table.find(delivery_id))
                .set((
                    webhook_deliveries::status.eq(DeliveryStatus::Pending.code()),
                    webhook_deliveries::available_at.eq(to_db(now)),
                    webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
                    webhook_deliveries::claim_token.eq(None::<String>),
                ))
                .execute(conn)?;
            Ok(())
        })
    }
}
