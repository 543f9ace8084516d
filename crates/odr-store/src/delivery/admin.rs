//! What admins see of the outbox and how they requeue dead mail.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::MailStatus;
use crate::outbox::{OutboxEntry, OutboxRow};
use crate::schema::outbox;
use crate::time::to_db;
use crate::{Store, StoreError};

/// How many rows in each status.
pub type StatusCounts = Vec<(String, i64)>;

impl Store {
    /// Outbox rows for admins, newest first, optionally of one status.
    pub fn list_outbox(
        &self,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.with_conn(|conn| {
            let mut query = outbox::table.into_boxed();
            if let Some(status) = status {
                query = query.filter(outbox::status.eq(status.to_owned()));
            }
            let rows: Vec<OutboxRow> = query
                .order((outbox::created_at.desc(), outbox::id.desc()))
                .limit(limit)
                .select(OutboxRow::as_select())
                .load(conn)?;
            Ok(rows.into_iter().map(OutboxRow::into_entry).collect())
        })
    }

    /// Puts a dead row back in the queue, due now, with a fresh count of
    /// attempts (its last error stays visible). False when the row is not dead.
    pub fn retry_dead(&self, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let updated = self.write_on(|conn| {
            Ok::<_, StoreError>(
                diesel::update(outbox::table.find(id))
                    .filter(outbox::status.eq(MailStatus::Dead.as_str()))
                    .set((
                        outbox::status.eq(MailStatus::Pending.as_str()),
                        outbox::attempts.eq(0_i64),
                        outbox::available_at.eq(to_db(now)),
                        outbox::locked_until.eq(None::<chrono::NaiveDateTime>),
                        outbox::claim_token.eq(None::<String>),
                    ))
                    .execute(conn)?,
            )
        })?;
        Ok(updated == 1)
    }

    /// When the oldest row still `pending` was queued, if any is.
    pub fn oldest_pending_created_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.with_conn(|conn| {
            let oldest: Option<chrono::NaiveDateTime> = outbox::table
                .filter(outbox::status.eq(MailStatus::Pending.as_str()))
                .select(diesel::dsl::min(outbox::created_at))
                .first(conn)?;
            Ok(oldest.map(crate::time::from_db))
        })
    }

    /// How many rows are in each status, by status name.
    pub fn count_by_status(&self) -> Result<StatusCounts, StoreError> {
        self.with_conn(|conn| {
            Ok(outbox::table
                .group_by(outbox::status)
                .select((outbox::status, diesel::dsl::count_star()))
                .order(outbox::status.asc())
                .load::<(String, i64)>(conn)?)
        })
    }
}
