//! Complaints: the one `record_transition` transaction (new state and
//! version, the event row, the message row, the outbox rows) and the reads
//! of complaints, their event log and their message thread.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use odr_domain::complaint::{Complaint, ComplaintState, EventRecord, Transition};
use odr_domain::taxonomy::{Category, Code};

use crate::outbox::write_notifications;
use crate::page::{Cursor, DueCursor, Page, SeqCursor};
use crate::schema::{complaint_events, complaints, messages};
use crate::time::{from_db, to_db};
use crate::{DbConnection, Retailer, Store, StoreError};

/// A complaint as stored: the domain aggregate and its optimistic version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredComplaint {
    pub complaint: Complaint,
    pub version: i64,
}

/// Whose complaints a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    Customer(String),
    Retailer(String),
    /// Assigned to this mediator, or escalated and waiting for one.
    Mediator(String),
    /// A customer's complaints about one order of one retailer (a session
    /// from a shop's order link).
    Order {
        customer_id: String,
        retailer_id: String,
        order_reference: String,
    },
    Everything,
}

#[derive(Debug, Clone)]
pub struct ComplaintQuery {
    pub visibility: Visibility,
    pub state: Option<ComplaintState>,
    pub category: Option<Category>,
    pub retailer_id: Option<String>,
    /// Only complaints assigned to this mediator (`assigned=me`).
    pub assigned_to: Option<String>,
    pub sort: ComplaintSort,
    /// The `next_cursor` of the previous page (of the same sort).
    pub after: Option<String>,
    pub limit: i64,
}

/// The order of a complaint list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ComplaintSort {
    /// Newest filed first.
    #[default]
    Newest,
    /// Soonest running deadline first; complaints with none (closed ones
    /// among them) last.
    NextDeadline,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredEvent {
    pub seq: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub actor_id: Option<String>,
    pub actor_role: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub payload: serde_json::Value,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredMessage {
    pub id: String,
    pub seq: i64,
    pub author_id: String,
    pub author_role: String,
    pub body: Option<String>,
    pub phrase_codes: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// Attachments of the complaint the message points at.
    pub attachment_ids: Vec<String>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = complaints)]
struct ComplaintRow {
    id: String,
    reference: String,
    retailer_id: String,
    customer_id: String,
    mediator_id: Option<String>,
    state: String,
    outcome: Option<String>,
    category: String,
    order_reference: String,
    next_deadline_at: Option<NaiveDateTime>,
    due_at: Option<NaiveDateTime>,
    machine: String,
    version: i64,
    last_seq: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl ComplaintRow {
    fn of(t: &Transition, version: i64) -> ComplaintRow {
        let complaint = &t.complaint;
        let f = complaint.facts();
        ComplaintRow {
            id: f.id.clone(),
            reference: f.reference.clone(),
            retailer_id: f.retailer_id.clone(),
            customer_id: f.customer_id.clone(),
            mediator_id: f.mediator.as_ref().map(|m| m.id.clone()),
            state: complaint.state().code().to_owned(),
            outcome: complaint.outcome().map(|o| o.code().to_owned()),
            category: f.category.code().to_owned(),
            order_reference: f.order_reference.clone(),
            next_deadline_at: t.next_wakeup.map(to_db),
            due_at: complaint
                .running_deadlines()
                .first()
                .map(|(_, at)| to_db(*at)),
            machine: complaint.to_json(),
            version,
            last_seq: complaint.last_seq(),
            created_at: to_db(f.created_at),
            updated_at: to_db(complaint.updated_at()),
        }
    }

    fn restore(self) -> Result<StoredComplaint, StoreError> {
        Ok(StoredComplaint {
            complaint: Complaint::from_json(&self.machine)?,
            version: self.version,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = complaint_events)]
struct EventRow {
    complaint_id: String,
    seq: i64,
    event_type: String,
    actor_id: Option<String>,
    actor_role: String,
    from_state: Option<String>,
    to_state: String,
    payload: String,
    at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = messages)]
struct MessageRow {
    id: String,
    complaint_id: String,
    seq: i64,
    author_id: String,
    author_role: String,
    body: Option<String>,
    phrase_codes: String,
    created_at: NaiveDateTime,
    attachment_ids: String,
}

impl MessageRow {
    /// The row of a `message` event, from its payload.
    fn of(complaint_id: &str, r: &EventRecord) -> MessageRow {
        let text = |key: &str| {
            r.payload
                .get(key)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let list = |key: &str| {
            r.payload
                .get(key)
                .map_or_else(|| "[]".into(), |v| v.to_string())
        };
        MessageRow {
            id: text("message_id").unwrap_or_default(),
            complaint_id: complaint_id.to_owned(),
            seq: r.seq,
            author_id: r.actor_id.clone().unwrap_or_default(),
            author_role: r.actor_role.code().to_owned(),
            body: text("body"),
            phrase_codes: list("phrase_codes"),
            created_at: to_db(r.at),
            attachment_ids: list("attachment_ids"),
        }
    }

    fn restore(self) -> Result<StoredMessage, StoreError> {
        Ok(StoredMessage {
            id: self.id,
            seq: self.seq,
            author_id: self.author_id,
            author_role: self.author_role,
            body: self.body,
            phrase_codes: serde_json::from_str(&self.phrase_codes)?,
            created_at: from_db(self.created_at),
            attachment_ids: serde_json::from_str(&self.attachment_ids)?,
        })
    }
}

impl StoredMessage {
    /// The message a `message` event wrote, without reading it back.
    pub fn from_record(complaint_id: &str, r: &EventRecord) -> Result<StoredMessage, StoreError> {
        MessageRow::of(complaint_id, r).restore()
    }
}

/// Inserts a new complaint (version 1), its `file` event and mails inside
/// the caller's transaction (a filing kept in a magic link is written in
/// the transaction that spends the link).
pub(crate) fn insert_filed_in(
    conn: &mut DbConnection,
    t: &Transition,
) -> Result<StoredComplaint, StoreError> {
    let retailer = crate::retailers::load_retailer(conn, &t.complaint.facts().retailer_id)?;
    insert_filed_for(conn, t, retailer.as_ref())
}

/// [`insert_filed_in`] with the complaint's retailer as the caller already
/// read it (the mails name it and its support address).
fn insert_filed_for(
    conn: &mut DbConnection,
    t: &Transition,
    retailer: Option<&Retailer>,
) -> Result<StoredComplaint, StoreError> {
    diesel::insert_into(complaints::table)
        .values(ComplaintRow::of(t, 1))
        .execute(conn)?;
    write_effects(conn, t, 1, retailer)?;
    Ok(StoredComplaint {
        complaint: t.complaint.clone(),
        version: 1,
    })
}

pub(crate) fn load(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<StoredComplaint>, StoreError> {
    complaints::table
        .find(id)
        .select(ComplaintRow::as_select())
        .first(conn)
        .optional()?
        .map(ComplaintRow::restore)
        .transpose()
}

/// The event row, its message row for a `message` (its attachment row for
/// an `attachment`), the webhook deliveries and the outbox rows; `version`
/// is the complaint's version this event gives it, `retailer` the
/// complaint's retailer for the mails.
fn write_effects(
    conn: &mut DbConnection,
    t: &Transition,
    version: i64,
    retailer: Option<&Retailer>,
) -> Result<(), StoreError> {
    let facts = t.complaint.facts();
    let r: &EventRecord = &t.record;
    diesel::insert_into(complaint_events::table)
        .values(EventRow {
            complaint_id: facts.id.clone(),
            seq: r.seq,
            event_type: r.kind.code().to_owned(),
            actor_id: r.actor_id.clone(),
            actor_role: r.actor_role.code().to_owned(),
            from_state: r.from_state.map(|s| s.code().to_owned()),
            to_state: r.to_state.code().to_owned(),
            payload: r.payload.to_string(),
            at: to_db(r.at),
        })
        .execute(conn)?;
    if r.kind == odr_domain::complaint::EventKind::Message {
        diesel::insert_into(messages::table)
            .values(MessageRow::of(&facts.id, r))
            .execute(conn)?;
    }
    if r.kind == odr_domain::complaint::EventKind::Attachment {
        crate::attachments::write_attachment(conn, &facts.id, r)?;
    }
    if r.kind == odr_domain::complaint::EventKind::Feedback {
        crate::feedback::write_feedback(conn, facts, r)?;
    }
    crate::webhooks::write_deliveries(conn, t, version)?;
    write_notifications(conn, t, retailer)
}

impl Store {
    /// Writes a just-filed complaint with its `file` event and outbox rows.
    /// A taken reference is `Conflict` (the caller draws a new one).
    /// `retailer` is the complaint's retailer, which the filing was
    /// checked against.
    pub fn insert_filed(
        &self,
        t: &Transition,
        retailer: &Retailer,
    ) -> Result<StoredComplaint, StoreError> {
        self.write_transaction(|conn| insert_filed_for(conn, t, Some(retailer)))
    }

    /// Writes one accepted event: the new state and version, the event row
    /// and the outbox rows, in one transaction. When the complaint is no
    /// longer at `expected_version`, someone else's event won: `Conflict`,
    /// and nothing is written. `retailer` is the complaint's retailer as
    /// the decision read it; the mails name it and its support address.
    pub fn record_transition(
        &self,
        expected_version: i64,
        t: &Transition,
        retailer: Option<&Retailer>,
    ) -> Result<StoredComplaint, StoreError> {
        let version = expected_version + 1;
        let row = ComplaintRow::of(t, version);
        self.write_transaction(|conn| {
            let updated = diesel::update(
                complaints::table
                    .find(&row.id)
                    .filter(complaints::version.eq(expected_version)),
            )
            .set((
                complaints::mediator_id.eq(&row.mediator_id),
                complaints::state.eq(&row.state),
                complaints::outcome.eq(&row.outcome),
                complaints::next_deadline_at.eq(row.next_deadline_at),
                complaints::due_at.eq(row.due_at),
                complaints::machine.eq(&row.machine),
                complaints::version.eq(version),
                complaints::last_seq.eq(row.last_seq),
                complaints::updated_at.eq(row.updated_at),
            ))
            .execute(conn)?;
            if updated == 0 {
                return Err(StoreError::Conflict(
                    "the complaint changed meanwhile".into(),
                ));
            }
            write_effects(conn, t, version, retailer)?;
            Ok(StoredComplaint {
                complaint: t.complaint.clone(),
                version,
            })
        })
    }

    pub fn complaint(&self, id: &str) -> Result<Option<StoredComplaint>, StoreError> {
        self.with_conn(|conn| load(conn, id))
    }

    /// One page in the order asked for, filtered to what the caller may
    /// see. A cursor of another list or sort is `Corrupt`.
    pub fn list_complaints(&self, q: &ComplaintQuery) -> Result<Page<StoredComplaint>, StoreError> {
        self.with_conn(|conn| {
            let mut query = complaints::table
                .select(ComplaintRow::as_select())
                .limit(q.limit + 1)
                .into_boxed();
            query = match q.sort {
                ComplaintSort::Newest => {
                    query.order((complaints::created_at.desc(), complaints::id.desc()))
                }
                // `is_null` first: both backends then agree where NULLs go.
                ComplaintSort::NextDeadline => query.order((
                    complaints::due_at.is_null().asc(),
                    complaints::due_at.asc(),
                    complaints::id.asc(),
                )),
            };
            if let Some(mediator) = &q.assigned_to {
                query = query.filter(complaints::mediator_id.eq(mediator.clone()));
            }
            query = match &q.visibility {
                Visibility::Customer(id) => query.filter(complaints::customer_id.eq(id.clone())),
                Visibility::Retailer(id) => query.filter(complaints::retailer_id.eq(id.clone())),
                Visibility::Mediator(id) => query.filter(
                    complaints::mediator_id
                        .eq(id.clone())
                        .or(complaints::mediator_id
                            .is_null()
                            .and(complaints::state.eq(ComplaintState::Escalated.code()))),
                ),
                Visibility::Order {
                    customer_id,
                    retailer_id,
                    order_reference,
                } => query
                    .filter(complaints::customer_id.eq(customer_id.clone()))
                    .filter(complaints::retailer_id.eq(retailer_id.clone()))
                    .filter(complaints::order_reference.eq(order_reference.clone())),
                Visibility::Everything => query,
            };
            if let Some(state) = q.state {
                query = query.filter(complaints::state.eq(state.code()));
            }
            if let Some(category) = q.category {
                query = query.filter(complaints::category.eq(category.code()));
            }
            if let Some(retailer) = &q.retailer_id {
                query = query.filter(complaints::retailer_id.eq(retailer.clone()));
            }
            match (q.sort, q.after.as_deref()) {
                (_, None) => {}
                (ComplaintSort::Newest, Some(after)) => {
                    let c = Cursor::decode(after)?;
                    query = query.filter(
                        complaints::created_at.lt(c.at).or(complaints::created_at
                            .eq(c.at)
                            .and(complaints::id.lt(c.id.clone()))),
                    );
                }
                (ComplaintSort::NextDeadline, Some(after)) => {
                    let c = DueCursor::decode(after)?;
                    query = match c.due {
                        Some(due) => query.filter(
                            complaints::due_at
                                .gt(due)
                                .or(complaints::due_at
                                    .eq(due)
                                    .and(complaints::id.gt(c.id.clone())))
                                .or(complaints::due_at.is_null()),
                        ),
                        None => query.filter(
                            complaints::due_at
                                .is_null()
                                .and(complaints::id.gt(c.id.clone())),
                        ),
                    };
                }
            }
            let mut rows: Vec<ComplaintRow> = query.load(conn)?;
            let more = rows.len() as i64 > q.limit;
            rows.truncate(q.limit as usize);
            let next_cursor = match rows.last() {
                Some(last) if more => Some(match q.sort {
                    ComplaintSort::Newest => Cursor {
                        at: last.created_at,
                        id: last.id.clone(),
                    }
                    .encode(),
                    ComplaintSort::NextDeadline => DueCursor {
                        due: last.due_at,
                        id: last.id.clone(),
                    }
                    .encode(),
                }),
                _ => None,
            };
            let items = rows
                .into_iter()
                .map(ComplaintRow::restore)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page { items, next_cursor })
        })
    }

    /// The event log, oldest first.
    pub fn events(&self, complaint_id: &str) -> Result<Vec<StoredEvent>, StoreError> {
        Ok(self.events_page(complaint_id, None, i64::MAX - 1)?.items)
    }

    /// One page of the event log, oldest first, after `after` (a
    /// `next_cursor`).
    pub fn events_page(
        &self,
        complaint_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Page<StoredEvent>, StoreError> {
        let after = after.map(SeqCursor::decode).transpose()?.map_or(0, |c| c.0);
        self.with_conn(|conn| events_on(conn, complaint_id, after, limit))
    }

    /// The message thread, oldest first.
    pub fn messages(&self, complaint_id: &str) -> Result<Vec<StoredMessage>, StoreError> {
        Ok(self.messages_page(complaint_id, None, i64::MAX - 1)?.items)
    }

    /// One page of the message thread, oldest first, after `after` (a
    /// `next_cursor`).
    pub fn messages_page(
        &self,
        complaint_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Page<StoredMessage>, StoreError> {
        let after = after.map(SeqCursor::decode).transpose()?.map_or(0, |c| c.0);
        self.with_conn(|conn| messages_on(conn, complaint_id, after, limit))
    }
}

/// Cuts `rows` (fetched with one row extra) to `limit`, and gives the
/// cursor of the next page when there is one.
fn seq_page<R>(rows: &mut Vec<R>, limit: i64, seq: impl Fn(&R) -> i64) -> Option<String> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if rows.len() <= limit {
        return None;
    }
    rows.truncate(limit);
    rows.last().map(|r| SeqCursor(seq(r)).encode())
}

/// One page of the event log after `seq` `after`, on `conn` (inside a
/// snapshot when the caller holds one).
pub(crate) fn events_on(
    conn: &mut DbConnection,
    complaint_id: &str,
    after: i64,
    limit: i64,
) -> Result<Page<StoredEvent>, StoreError> {
    let mut rows: Vec<EventRow> = complaint_events::table
        .filter(complaint_events::complaint_id.eq(complaint_id))
        .filter(complaint_events::seq.gt(after))
        .order(complaint_events::seq.asc())
        .limit(limit.saturating_add(1))
        .select(EventRow::as_select())
        .load(conn)?;
    let next_cursor = seq_page(&mut rows, limit, |r| r.seq);
    let items = rows
        .into_iter()
        .map(|r| {
            Ok(StoredEvent {
                seq: r.seq,
                event_type: r.event_type,
                actor_id: r.actor_id,
                actor_role: r.actor_role,
                from_state: r.from_state,
                to_state: r.to_state,
                payload: serde_json::from_str(&r.payload)?,
                at: from_db(r.at),
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(Page { items, next_cursor })
}

/// One page of the message thread after `seq` `after`, on `conn`.
pub(crate) fn messages_on(
    conn: &mut DbConnection,
    complaint_id: &str,
    after: i64,
    limit: i64,
) -> Result<Page<StoredMessage>, StoreError> {
    let mut rows: Vec<MessageRow> = messages::table
        .filter(messages::complaint_id.eq(complaint_id))
        .filter(messages::seq.gt(after))
        .order(messages::seq.asc())
        .limit(limit.saturating_add(1))
        .select(MessageRow::as_select())
        .load(conn)?;
    let next_cursor = seq_page(&mut rows, limit, |r| r.seq);
    let items = rows
        .into_iter()
        .map(MessageRow::restore)
        .collect::<Result<_, StoreError>>()?;
    Ok(Page { items, next_cursor })
}
