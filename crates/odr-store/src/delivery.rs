//! The claim side of the outbox: a worker leases a batch of due rows, sends
//! them outside any transaction, then acknowledges each by id and claim
//! token. A worker that dies loses nothing: its lease runs out and another
//! worker claims the rows again (at least once; the stable Message-ID lets a
//! mail client recognise the rare duplicate).
//!
//! Status stays `pending` through retries (`available_at` moves later);
//! `sent` and `dead` are final until an admin requeues a dead row.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::mail_facts::MailFacts;
use crate::outbox::OutboxRow;
use crate::schema::outbox;
use crate::time::{later, to_db};
use crate::{DbConnection, Store, StoreError};

mod admin;
mod retry;

pub use admin::StatusCounts;
pub use retry::RetryPolicy;

/// `last_error` keeps at most this many characters.
const MAX_ERROR_CHARS: usize = 2000;

/// A row leased to one worker until `locked_until`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedMail {
    pub id: String,
    /// Proves the lease when acknowledging; a new one per claim.
    pub claim_token: String,
    pub to_address: String,
    pub facts: MailFacts,
    pub complaint_id: Option<String>,
    pub event_seq: Option<i64>,
    /// Failed attempts so far.
    pub attempts: i64,
    /// The complaint's first mail to this address, when that is another row:
    /// mails about one complaint thread under it.
    pub thread_root_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailStatus {
    Pending,
    Sent,
    Dead,
}

impl MailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Pending => "pending",
            MailStatus::Sent => "sent",
            MailStatus::Dead => "dead",
        }
    }
}

/// The due rows, oldest first. A macro because the query is built once per
/// backend: only PostgreSQL gets `FOR UPDATE SKIP LOCKED`. It selects from
/// an alias of `outbox` because it runs as a subquery of an update of `outbox`.
macro_rules! due_ids {
    ($now:expr, $limit:expr) => {{
        let due = diesel::alias!(outbox as due);
        due.filter(due.field(outbox::status).eq(MailStatus::Pending.as_str()))
            .filter(due.field(outbox::available_at).le($now))
            .filter(
                due.field(outbox::locked_until)
                    .is_null()
                    .or(due.field(outbox::locked_until).lt($now)),
            )
            .order((
                due.field(outbox::available_at).asc(),
                due.field(outbox::created_at).asc(),
            ))
            .limit($limit)
            .select(due.field(outbox::id))
    }};
}

/// Leases the due rows in one statement that returns them. The lease is
/// checked again outside the subquery: should a row be claimed between the
/// subquery's snapshot and this update, it is left alone.
macro_rules! lease_due {
    ($due:expr, $now:expr, $until:expr, $token:expr) => {
        diesel::update(outbox::table)
            .filter(outbox::id.eq_any($due))
            .filter(outbox::status.eq(MailStatus::Pending.as_str()))
            .filter(
                outbox::locked_until
                    .is_null()
                    .or(outbox::locked_until.lt($now)),
            )
            .set((
                outbox::claim_token.eq($token),
                outbox::locked_until.eq(Some($until)),
            ))
            .returning(OutboxRow::as_returning())
    };
}
// After the macros: the tests use them.
#[cfg(test)]
mod tests;

fn truncated(error: &str) -> String {
    error.chars().take(MAX_ERROR_CHARS).collect()
}

fn mark_dead(conn: &mut DbConnection, id: &str, error: &str) -> Result<(), StoreError> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(MailStatus::Dead.as_str()),
            outbox::last_error.eq(Some(truncated(error))),
            outbox::locked_until.eq(None::<chrono::NaiveDateTime>),
            outbox::claim_token.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// The id of the complaint's first row to this address.
fn thread_root(
    conn: &mut DbConnection,
    complaint_id: &str,
    to_address: &str,
) -> Result<Option<String>, StoreError> {
    Ok(outbox::table
        .filter(outbox::complaint_id.eq(complaint_id))
        .filter(outbox::to_address.eq(to_address))
        .order((outbox::event_seq.asc(), outbox::id.asc()))
        .select(outbox::id)
        .first::<String>(conn)
        .optional()?)
}

impl Store {
    /// Leases up to `limit` due rows for `lease` to the caller. A row whose
    /// payload does not parse is marked `dead` with that error (it would
    /// fail the same way forever) and not returned.
    pub fn claim_mail(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedMail>, StoreError> {
        let token = uuid::Uuid::new_v4().to_string();
        let at = to_db(now);
        let until = to_db(later(now, lease));
        let _turn = self.writer_turn();
        let mut conn = self.get()?;
        let rows = conn.write_transaction(|conn| {
            let rows: Vec<OutboxRow> = match conn {
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
                match serde_json::from_str::<MailFacts>(&row.payload) {
                    Ok(facts) => claimed.push((row, facts)),
                    Err(e) => {
                        let error = format!("the stored mail does not parse: {e}");
                        tracing::error!(outbox_id = %row.id, %error, "outbox row is dead");
                        mark_dead(conn, &row.id, &error)?;
                    }
                }
            }
            Ok::<_, StoreError>(claimed)
        })?;
        let mut mails = Vec::with_capacity(rows.len());
        for (row, facts) in rows {
            // Rows never change their complaint, address or sequence: the
            // root can be read after the lease is committed.
            let thread_root_id = match &row.complaint_id {
                Some(complaint) => thread_root(&mut conn, complaint, &row.to_address)?
                    .filter(|root| *root != row.id),
                None => None,
            };
            mails.push(ClaimedMail {
                id: row.id,
                claim_token: token.clone(),
                to_address: row.to_address,
                facts,
                complaint_id: row.complaint_id,
                event_seq: row.event_seq,
                attempts: row.attempts,
                thread_root_id,
            });
        }
        Ok(mails)
    }

    /// Marks a claimed row sent, if the claim is still the caller's. False
    /// when the lease ran out and another worker claimed the row since.
    pub fn mark_sent(
        &self,
        id: &str,
        claim_token: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let updated = self.write_on(|conn| {
            Ok::<_, StoreError>(
                diesel::update(outbox::table.find(id))
                    .filter(outbox::claim_token.eq(claim_token))
                    .filter(outbox::status.eq(MailStatus::Pending.as_str()))
                    .set((
                        outbox::status.eq(MailStatus::Sent.as_str()),
                        outbox::sent_at.eq(Some(to_db(now))),
                        outbox::locked_until.eq(None::<chrono::NaiveDateTime>),
                        outbox::claim_token.eq(None::<String>),
                    ))
                    .execute(conn)?,
            )
        })?;
        Ok(updated == 1)
    }

    /// Records a failed attempt and releases the lease: the row is tried
    /// again after the policy's backoff, or is `dead` once it has failed
    /// `max_attempts` times. `Conflict` when the claim is no longer the
    /// caller's (nothing is written then).
    pub fn mark_failed(
        &self,
        id: &str,
        claim_token: &str,
        now: DateTime<Utc>,
        error: &str,
        policy: &RetryPolicy,
    ) -> Result<MailStatus, StoreError> {
        let mut rng = rand::rng();
        self.write_transaction(|conn| {
            let attempts: i64 = outbox::table
                .find(id)
                .filter(outbox::claim_token.eq(claim_token))
                .filter(outbox::status.eq(MailStatus::Pending.as_str()))
                .select(outbox::attempts)
                .first(conn)
                .optional()?
                .ok_or_else(|| {
                    StoreError::Conflict(format!("outbox row {id} is no longer claimed by us"))
                })?;
            let attempts = attempts.saturating_add(1);
            let count = u32::try_from(attempts).unwrap_or(u32::MAX);
            let (status, available_at) = if count >= policy.max_attempts {
                (MailStatus::Dead, now)
            } else {
                (
                    MailStatus::Pending,
                    later(now, policy.backoff(count, &mut rng)),
                )
            };
            diesel::update(outbox::table.find(id))
                .filter(outbox::claim_token.eq(claim_token))
                .set((
                    outbox::status.eq(status.as_str()),
                    outbox::attempts.eq(attempts),
                    outbox::last_error.eq(Some(truncated(error))),
                    outbox::available_at.eq(to_db(available_at)),
                    outbox::locked_until.eq(None::<chrono::NaiveDateTime>),
                    outbox::claim_token.eq(None::<String>),
                ))
                .execute(conn)?;
            Ok(status)
        })
    }
}
