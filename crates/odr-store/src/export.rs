//! Reads for handing a case on: one complaint's whole record read in one
//! snapshot (`GET /api/v1/complaints/{id}/export`, the printable case
//! file), and a retailer's complaints of a period as rows, a keyset page
//! at a time (`GET /api/v1/retailers/{id}/complaints.csv`).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use odr_domain::complaint::{Complaint, ComplaintState};

use crate::attachments::attachments_on;
use crate::complaints::{events_on, load, messages_on};
use crate::feedback::feedback_on;
use crate::page::Cursor;
use crate::schema::{complaint_events, complaints, users};
use crate::time::{from_db, to_db};
use crate::{
    Store, StoreError, StoredAttachment, StoredComplaint, StoredEvent, StoredFeedback,
    StoredMessage,
};

/// Everything kept about one complaint, as of one instant.
#[derive(Debug, Clone)]
pub struct CaseRecord {
    pub complaint: StoredComplaint,
    /// The whole event log, oldest first (`seq` 1..n).
    pub events: Vec<StoredEvent>,
    pub messages: Vec<StoredMessage>,
    pub attachments: Vec<StoredAttachment>,
    pub feedback: Option<StoredFeedback>,
}

/// One complaint of a period, with what its CSV row needs beyond the
/// complaint itself.
#[derive(Debug, Clone)]
pub struct PeriodComplaint {
    pub complaint: Complaint,
    pub customer_email: Option<String>,
    /// The retailer's first `acknowledge`, `propose` or message.
    pub first_response_at: Option<DateTime<Utc>>,
    /// The event that closed it.
    pub closed_at: Option<DateTime<Utc>>,
    /// Whether it ever entered `escalated`.
    pub escalated: bool,
}

/// The events a period row reads: the retailer's responses, the closing
/// and every entry into `escalated`.
#[derive(Queryable)]
struct Milestone {
    complaint_id: String,
    event_type: String,
    actor_role: String,
    from_state: Option<String>,
    to_state: String,
    at: NaiveDateTime,
}

impl Store {
    /// The complaint, its log, messages, attachments and feedback, read in
    /// one snapshot so that they agree with each other (no event in the log
    /// that the complaint does not know yet). `None` for an unknown id.
    pub fn case_record(&self, id: &str) -> Result<Option<CaseRecord>, StoreError> {
        self.read_snapshot(|conn| {
            let Some(complaint) = load(conn, id)? else {
                return Ok(None);
            };
            let all = i64::MAX - 1;
            Ok(Some(CaseRecord {
                complaint,
                events: events_on(conn, id, 0, all)?.items,
                messages: messages_on(conn, id, 0, all)?.items,
                attachments: attachments_on(conn, id)?,
                feedback: feedback_on(conn, id)?,
            }))
        })
    }

    /// Up to `limit` complaints of `retailer_id` filed in `[from, to)`,
    /// oldest first (by filing time, then id), after `after`; with the
    /// cursor of the next page when there may be more.
    pub fn period_complaints(
        &self,
        retailer_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: Option<&Cursor>,
        limit: i64,
    ) -> Result<(Vec<PeriodComplaint>, Option<Cursor>), StoreError> {
        self.with_conn(|conn| {
            let mut query = complaints::table
                .filter(complaints::retailer_id.eq(retailer_id))
                .filter(complaints::created_at.ge(to_db(from)))
                .filter(complaints::created_at.lt(to_db(to)))
                .order((complaints::created_at.asc(), complaints::id.asc()))
                .limit(limit.saturating_add(1))
                .select((
                    complaints::id,
                    complaints::customer_id,
                    complaints::machine,
                    complaints::created_at,
                ))
                .into_boxed();
            if let Some(c) = after {
                query = query.filter(
                    complaints::created_at.gt(c.at).or(complaints::created_at
                        .eq(c.at)
                        .and(complaints::id.gt(c.id.clone()))),
                );
            }
            let mut rows: Vec<(String, String, String, NaiveDateTime)> = query.load(conn)?;
            let more = rows.len() as i64 > limit;
            rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            let next = rows.last().filter(|_| more).map(|(id, _, _, at)| Cursor {
                at: *at,
                id: id.clone(),
            });
            let ids: Vec<&String> = rows.iter().map(|(id, ..)| id).collect();
            let customers: Vec<&String> = rows.iter().map(|(_, c, ..)| c).collect();
            let emails: HashMap<String, String> = users::table
                .filter(users::id.eq_any(customers))
                .select((users::id, users::email))
                .load::<(String, String)>(conn)?
                .into_iter()
                .collect();
            let milestones: Vec<Milestone> = complaint_events::table
                .filter(complaint_events::complaint_id.eq_any(&ids))
                .filter(
                    complaint_events::actor_role
                        .eq("retailer_staff")
                        .and(complaint_events::event_type.eq_any([
                            "acknowledge",
                            "propose",
                            "message",
                        ]))
                        // Entries into these states; the loop below keeps
                        // those that came from another state.
                        .or(complaint_events::to_state.eq_any([
                            ComplaintState::Closed.code(),
                            ComplaintState::Escalated.code(),
                        ])),
                )
                .order(complaint_events::seq.asc())
                .select((
                    complaint_events::complaint_id,
                    complaint_events::event_type,
                    complaint_events::actor_role,
                    complaint_events::from_state,
                    complaint_events::to_state,
                    complaint_events::at,
                ))
                .load(conn)?;
            let items = rows
                .iter()
                .map(|(id, customer, machine, _)| {
                    let mut row = PeriodComplaint {
                        complaint: Complaint::from_json(machine)?,
                        customer_email: emails.get(customer).cloned(),
                        first_response_at: None,
                        closed_at: None,
                        escalated: false,
                    };
                    for m in milestones.iter().filter(|m| &m.complaint_id == id) {
                        let entered = m.from_state.as_deref() != Some(m.to_state.as_str());
                        if m.actor_role == "retailer_staff"
                            && matches!(
                                m.event_type.as_str(),
                                "acknowledge" | "propose" | "message"
                            )
                        {
                            row.first_response_at.get_or_insert(from_db(m.at));
                        }
                        if entered && m.to_state == ComplaintState::Closed.code() {
                            row.closed_at.get_or_insert(from_db(m.at));
                        }
                        if entered && m.to_state == ComplaintState::Escalated.code() {
                            row.escalated = true;
                        }
                    }
                    Ok(row)
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok((items, next))
        })
    }
}
