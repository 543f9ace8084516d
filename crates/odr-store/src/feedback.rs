//! Feedback rows: the customer's rating of a closed complaint, written in
//! the transaction of its `feedback` event (from the fact the machine
//! recorded) and read back for the answer and the statistics.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use odr_domain::complaint::{ComplaintFacts, EventRecord};

use crate::schema::feedback;
use crate::time::{from_db, to_db};
use crate::{DbConnection, Store, StoreError};

/// One complaint's feedback, as `POST /complaints/{id}/feedback` answers it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredFeedback {
    pub complaint_id: String,
    /// 1 (not at all satisfied) to 5 (very satisfied).
    pub score: i64,
    pub comment: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = feedback)]
struct FeedbackRow {
    complaint_id: String,
    seq: i64,
    customer_id: String,
    score: i64,
    comment: Option<String>,
    created_at: NaiveDateTime,
}

impl FeedbackRow {
    /// The row of a `feedback` event; the complaint's facts hold what the
    /// machine accepted.
    fn of(facts: &ComplaintFacts, record: &EventRecord) -> Result<FeedbackRow, StoreError> {
        let given = facts
            .feedback
            .as_ref()
            .ok_or_else(|| StoreError::Corrupt("a feedback event without feedback".into()))?;
        Ok(FeedbackRow {
            complaint_id: facts.id.clone(),
            seq: record.seq,
            customer_id: facts.customer_id.clone(),
            score: i64::from(given.score),
            comment: given.comment.clone(),
            created_at: to_db(record.at),
        })
    }

    fn restore(self) -> StoredFeedback {
        StoredFeedback {
            complaint_id: self.complaint_id,
            score: self.score,
            comment: self.comment,
            created_at: from_db(self.created_at),
        }
    }
}

impl StoredFeedback {
    /// The feedback a `feedback` event wrote, without reading it back.
    pub fn from_record(
        facts: &ComplaintFacts,
        record: &EventRecord,
    ) -> Result<StoredFeedback, StoreError> {
        Ok(FeedbackRow::of(facts, record)?.restore())
    }
}

/// Writes the row of a `feedback` event.
pub(crate) fn write_feedback(
    conn: &mut DbConnection,
    facts: &ComplaintFacts,
    record: &EventRecord,
) -> Result<(), StoreError> {
    diesel::insert_into(feedback::table)
        .values(FeedbackRow::of(facts, record)?)
        .execute(conn)?;
    Ok(())
}

impl Store {
    /// The feedback given on a complaint, if any.
    pub fn feedback(&self, complaint_id: &str) -> Result<Option<StoredFeedback>, StoreError> {
        self.with_conn(|conn| feedback_on(conn, complaint_id))
    }
}

/// The feedback given on a complaint, if any, on `conn`.
pub(crate) fn feedback_on(
    conn: &mut DbConnection,
    complaint_id: &str,
) -> Result<Option<StoredFeedback>, StoreError> {
    let row: Option<FeedbackRow> = feedback::table
        .find(complaint_id)
        .select(FeedbackRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(FeedbackRow::restore))
}
