//! The worker's side of the delivery log, claimed like the mail outbox: a
//! short transaction leases due deliveries (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, `BEGIN IMMEDIATE` on SQLite), the worker posts outside any
//! transaction, then records the attempt by id and claim token.
//!
//! An endpoint remembers since when every attempt has failed; a success
//! forgets it. Once that run of failures is `disable_after` long the
//! endpoint is disabled, its waiting deliveries are `dead`, and its
//! retailer (the support address and its staff) is mailed, all in the
//! transaction that records the failing attempt.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::{DeliveryRow, DeliveryStatus};
use crate::delivery::RetryPolicy;
use crate::mail_facts::{MailFacts, WebhookFacts};
use crate::outbox::{pending_row, Addressee};
use crate::retailers::load_retailer;
use crate::schema::{
    api_keys, outbox, users, webhook_deliveries, webhook_endpoints, webhook_events,
};
use crate::time::{from_db, later, to_db};
use crate::{DbConnection, Store, StoreError};

/// `last_error` keeps at most this many characters.
const MAX_ERROR_CHARS: usize = 1000;

/// How patiently a failing delivery is tried again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WebhookRetry {
    /// Exponential backoff with jitter (its `max_attempts` is not used:
    /// time decides, not a count).
    pub backoff: RetryPolicy,
    /// A delivery failing for this long after its event is `dead`.
    pub give_up_after: Duration,
    /// An endpoint whose every attempt failed for this long is disabled.
    pub disable_after: Duration,
}

const DAY: u64 = 24 * 60 * 60;

impl Default for WebhookRetry {
    fn default() -> Self {
        WebhookRetry {
            backoff: RetryPolicy {
                max_attempts: u32::MAX,
                base: Duration::from_secs(30),
                max: Duration::from_secs(6 * 60 * 60),
                jitter: 0.2,
            },
            give_up_after: Duration::from_secs(3 * DAY),
            disable_after: Duration::from_secs(3 * DAY),
        }
    }
}

/// A delivery leased to one worker, with everything its attempt needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDelivery {
    pub id: String,
    pub claim_token: String,
    pub endpoint_id: String,
    pub url: String,
    /// As stored (`SecretKeeper::open` reveals it).
    pub sealed_secret: String,
    pub event_id: String,
    pub event_type: String,
    /// The exact body to send.
    pub body: String,
    /// Attempts before this one.
    pub attempts: i64,
}

/// What recording a failed attempt led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Tried again from this moment on.
    Retrying(DateTime<Utc>),
    /// Failing too long: no further attempt.
    Dead,
    /// The endpoint failed too long and is now disabled (retailer mailed).
    EndpointDisabled,
}

fn truncated(error: &str) -> String {
    error.chars().take(MAX_ERROR_CHARS).collect()
}

fn waiting() -> [&'static str; 2] {
    [
        DeliveryStatus::Pending.code(),
        DeliveryStatus::Retrying.code(),
    ]
}

macro_rules! due_ids {
    ($now:expr, $limit:expr) => {{
        let due = diesel::alias!(webhook_deliveries as due);
        due.filter(due.field(webhook_deliveries::status).eq_any(waiting()))
            .filter(due.field(webhook_deliveries::available_at).le($now))
            .filter(
                due.field(webhook_deliveries::locked_until)
                    .is_null()
                    .or(due.field(webhook_deliveries::locked_until).lt($now)),
            )
            .order((
                due.field(webhook_deliveries::available_at).asc(),
                due.field(webhook_deliveries::created_at).asc(),
            ))
            .limit($limit)
            .select(due.field(webhook_deliveries::id))
    }};
}

macro_rules! lease_due {
    ($due:expr, $now:expr, $until:expr, $token:expr) => {
        diesel::update(webhook_deliveries::table)
            .filter(webhook_deliveries::id.eq_any($due))
            .filter(webhook_deliveries::status.eq_any(waiting()))
            .filter(
                webhook_deliveries::locked_until
                    .is_null()
                    .or(webhook_deliveries::locked_until.lt($now)),
            )
            .set((
                webhook_deliveries::claim_token.eq($token),
                webhook_deliveries::locked_until.eq(Some($until)),
            ))
            .returning(DeliveryRow::as_returning())
    };
}

/// Marks every waiting delivery of an endpoint `dead`.
fn bury_waiting(conn: &mut DbConnection, endpoint_id: &str, why: &str) -> Result<(), StoreError> {
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
            .filter(webhook_deliveries::status.eq_any(waiting())),
    )
    .set((
        webhook_deliveries::status.eq(DeliveryStatus::Dead.code()),
        webhook_deliveries::last_error.eq(Some(why)),
        webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
        webhook_deliveries::claim_token.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(())
}

impl Store {
    /// Leases up to `limit` due deliveries for `lease`. A delivery of an
    /// endpoint disabled meanwhile is marked `dead` and not returned.
    pub fn claim_webhook_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        let token = uuid::Uuid::new_v4().to_string();
        let at = to_db(now);
        let until = to_db(later(now, lease));
        let _turn = self.writer_turn();
        let mut conn = self.get()?;
        conn.write_transaction(|conn| {
            let rows: Vec<DeliveryRow> = match conn {
                DbConnection::Postgresql(pg) => lease_due!(
                    due_ids!(at, limit).for_update().skip_locked(),
                    at,
                    until,
                    &token
                )
                .get_results(pg)?,
                DbConnection::Sqlite(lite) => {
                    lease_due!(due_ids!(at, limit), at, until, &token).get_results(lite)?
                }
            };
            let mut claimed = Vec::with_capacity(rows.len());
            for row in rows {
                let endpoint: (String, String, bool) = webhook_endpoints::table
                    .find(&row.endpoint_id)
                    .select((
                        webhook_endpoints::url,
                        webhook_endpoints::secret,
                        webhook_endpoints::enabled,
                    ))
                    .first(conn)?;
                let (url, sealed_secret, enabled) = endpoint;
                if !enabled {
                    bury_waiting(conn, &row.endpoint_id, "the endpoint is disabled")?;
                    continue;
                }
                let (event_type, body): (String, String) = webhook_events::table
                    .find(&row.event_id)
                    .select((webhook_events::event_type, webhook_events::body))
                    .first(conn)?;
                claimed.push(ClaimedDelivery {
                    id: row.id,
                    claim_token: token.clone(),
                    endpoint_id: row.endpoint_id,
                    url,
                    sealed_secret,
                    event_id: row.event_id,
                    event_type,
                    body,
                    attempts: row.attempts,
                });
            }
            Ok::<_, StoreError>(claimed)
        })
    }

    /// Records a 2xx answer: the delivery is `delivered` and the endpoint's
    /// run of failures is over. False when the lease was lost meanwhile.
    pub fn record_webhook_delivered(
        &self,
        claimed: &ClaimedDelivery,
        status_code: u16,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.write_transaction(|conn| {
            let updated = diesel::update(
                webhook_deliveries::table
                    .find(&claimed.id)
                    .filter(webhook_deliveries::claim_token.eq(&claimed.claim_token)),
            )
            .set((
                webhook_deliveries::status.eq(DeliveryStatus::Delivered.code()),
                webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
                webhook_deliveries::last_status_code.eq(Some(i64::from(status_code))),
                webhook_deliveries::last_error.eq(None::<String>),
                webhook_deliveries::delivered_at.eq(Some(to_db(now))),
                webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
                webhook_deliveries::claim_token.eq(None::<String>),
            ))
            .execute(conn)?;
            diesel::update(webhook_endpoints::table.find(&claimed.endpoint_id))
                .set(webhook_endpoints::failing_since.eq(None::<NaiveDateTime>))
                .execute(conn)?;
            Ok(updated == 1)
        })
    }

    /// Records a failed attempt (`status_code` when the endpoint answered,
    /// `error` saying what went wrong) and decides what comes next.
    /// `Conflict` when the lease was lost meanwhile (nothing is written).
    pub fn record_webhook_failed(
        &self,
        claimed: &ClaimedDelivery,
        status_code: Option<u16>,
        error: &str,
        now: DateTime<Utc>,
        retry: &WebhookRetry,
    ) -> Result<DeliveryOutcome, StoreError> {
        let mut rng = rand::rng();
        self.write_transaction(|conn| {
            let row: DeliveryRow = webhook_deliveries::table
                .find(&claimed.id)
                .filter(webhook_deliveries::claim_token.eq(&claimed.claim_token))
                .select(DeliveryRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| {
                    StoreError::Conflict(format!("delivery {} is no longer ours", claimed.id))
                })?;
            let attempts = row.attempts.saturating_add(1);
            let failing_since: Option<NaiveDateTime> = webhook_endpoints::table
                .find(&row.endpoint_id)
                .select(webhook_endpoints::failing_since)
                .first(conn)?;
            let failing_since = failing_since.map_or(now, from_db);
            diesel::update(webhook_endpoints::table.find(&row.endpoint_id))
                .set(webhook_endpoints::failing_since.eq(Some(to_db(failing_since))))
                .execute(conn)?;
            let error = truncated(error);
            let outcome = if later(failing_since, retry.disable_after) <= now {
                DeliveryOutcome::EndpointDisabled
            } else if later(from_db(row.created_at), retry.give_up_after) <= now {
                DeliveryOutcome::Dead
            } else {
                let count = u32::try_from(attempts).unwrap_or(u32::MAX);
                DeliveryOutcome::Retrying(later(now, retry.backoff.backoff(count, &mut rng)))
            };
            let (status, available_at) = match outcome {
                DeliveryOutcome::Retrying(at) => (DeliveryStatus::Retrying, at),
                _ => (DeliveryStatus::Dead, now),
            };
            diesel::update(webhook_deliveries::table.find(&row.id))
                .set((
                    webhook_deliveries::status.eq(status.code()),
                    webhook_deliveries::attempts.eq(attempts),
                    webhook_deliveries::last_status_code.eq(status_code.map(i64::from)),
                    webhook_deliveries::last_error.eq(Some(&error)),
                    webhook_deliveries::available_at.eq(to_db(available_at)),
                    webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
                    webhook_deliveries::claim_token.eq(None::<String>),
                ))
                .execute(conn)?;
            if outcome == DeliveryOutcome::EndpointDisabled {
                disable(conn, &row.endpoint_id, failing_since, now)?;
            }
            Ok(outcome)
        })
    }
}

/// Disables an endpoint, buries its waiting deliveries and mails its
/// retailer (support address and staff), inside the caller's transaction.
fn disable(
    conn: &mut DbConnection,
    endpoint_id: &str,
    failing_since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(webhook_endpoints::table.find(endpoint_id))
        .set((
            webhook_endpoints::enabled.eq(false),
            webhook_endpoints::disabled_at.eq(Some(to_db(now))),
        ))
        .execute(conn)?;
    bury_waiting(
        conn,
        endpoint_id,
        "the endpoint was disabled after failing for too long",
    )?;
    let (retailer_id, url): (String, String) = webhook_endpoints::table
        .find(endpoint_id)
        .select((webhook_endpoints::retailer_id, webhook_endpoints::url))
        .first(conn)?;
    let Some(retailer) = load_retailer(conn, &retailer_id)? else {
        return Ok(());
    };
    let webhook = WebhookFacts {
        url,
        retailer_id: retailer.id.clone(),
        failing_since,
        disabled_at: now,
    };
    // People of the shop; the backing users of API keys are not people.
    let staff: Vec<(String, String, String, String, String)> = users::table
        .filter(users::retailer_id.eq(&retailer.id))
        .filter(users::role.eq(odr_domain::Role::RetailerStaff.code()))
        .filter(users::disabled_at.is_null())
        .filter(diesel::dsl::not(
            users::id.eq_any(api_keys::table.select(api_keys::user_id)),
        ))
        .order((users::created_at.asc(), users::id.asc()))
        .select((
            users::id,
            users::email,
            users::display_name,
            users::locale,
            users::time_zone,
        ))
        .load(conn)?;
    let mut to = vec![Addressee {
        role: "retailer",
        user_id: None,
        address: retailer.support_email.clone(),
        name: retailer.name.clone(),
        locale: retailer.locale.code().to_owned(),
        time_zone: retailer.time_zone.clone(),
    }];
    for (id, email, name, locale, time_zone) in staff {
        if email.eq_ignore_ascii_case(&retailer.support_email) {
            continue;
        }
        to.push(Addressee {
            role: "retailer_staff",
            user_id: Some(id),
            address: email,
            name,
            locale,
            time_zone,
        });
    }
    let at = to_db(now);
    for addressee in to {
        let facts = MailFacts {
            template: "webhook_disabled".into(),
            recipient_role: addressee.role.to_owned(),
            recipient_name: addressee.name.clone(),
            locale: addressee.locale.clone(),
            time_zone: addressee.time_zone.clone(),
            complaint: None,
            invitation: None,
            magic_link: None,
            webhook: Some(webhook.clone()),
        };
        diesel::insert_into(outbox::table)
            .values(pending_row(
                uuid::Uuid::new_v4().to_string(),
                None,
                "webhook_disabled",
                addressee,
                &facts,
                at,
            )?)
            .execute(conn)?;
    }
    Ok(())
}
