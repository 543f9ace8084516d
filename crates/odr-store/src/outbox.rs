//! The outbox: one row per notification, written in the transaction of the
//! event that caused it, each resolved to an address and a locale at that
//! moment. Delivery reads them later.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use odr_domain::complaint::{Recipient, Transition};

use crate::retailers::load_retailer;
use crate::schema::outbox;
use crate::time::{from_db, to_db};
use crate::users::{active_admins, load_user};
use crate::{DbConnection, Store, StoreError};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutboxEntry {
    pub id: String,
    pub complaint_id: Option<String>,
    pub event_seq: Option<i64>,
    pub template: String,
    pub recipient_role: String,
    pub recipient_user_id: Option<String>,
    pub to_address: String,
    pub locale: String,
    pub payload: serde_json::Value,
    pub status: String,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
struct OutboxRow {
    id: String,
    complaint_id: Option<String>,
    event_seq: Option<i64>,
    template: String,
    recipient_role: String,
    recipient_user_id: Option<String>,
    to_address: String,
    locale: String,
    payload: String,
    status: String,
    attempts: i64,
    last_error: Option<String>,
    available_at: NaiveDateTime,
    locked_until: Option<NaiveDateTime>,
    claim_token: Option<String>,
    created_at: NaiveDateTime,
    sent_at: Option<NaiveDateTime>,
}

/// A resolved recipient: role, user (none for a support address), address, locale.
type Address = (&'static str, Option<String>, String, String);

fn resolve(
    conn: &mut DbConnection,
    t: &Transition,
    to: &Recipient,
) -> Result<Vec<Address>, StoreError> {
    let facts = t.complaint.facts();
    let person = |conn: &mut DbConnection, id: &str, role: &'static str| {
        Ok::<_, StoreError>(
            load_user(conn, id)?
                .filter(|u| u.is_active())
                .map(|u| (role, Some(u.id), u.email, u.locale.code().to_owned())),
        )
    };
    Ok(match to {
        Recipient::Customer => person(conn, &facts.customer_id, "customer")?
            .into_iter()
            .collect(),
        Recipient::Mediator(id) => person(conn, id, "mediator")?.into_iter().collect(),
        Recipient::Retailer => load_retailer(conn, &facts.retailer_id)?
            .map(|r| {
                (
                    "retailer",
                    None,
                    r.support_email,
                    r.locale.code().to_owned(),
                )
            })
            .into_iter()
            .collect(),
        Recipient::Admins => active_admins(conn)?
            .into_iter()
            .map(|u| ("admin", Some(u.id), u.email, u.locale.code().to_owned()))
            .collect(),
    })
}

pub(crate) fn write_notifications(
    conn: &mut DbConnection,
    t: &Transition,
) -> Result<(), StoreError> {
    let facts = t.complaint.facts();
    let now = to_db(t.record.at);
    for n in &t.notifications {
        for (role, user_id, address, locale) in resolve(conn, t, &n.to)? {
            let payload = serde_json::json!({
                "complaint_id": facts.id,
                "reference": facts.reference,
                "event_seq": t.record.seq,
                "event_type": t.record.kind,
                "state": t.complaint.state(),
                "outcome": t.complaint.outcome(),
            });
            diesel::insert_into(outbox::table)
                .values(OutboxRow {
                    id: uuid::Uuid::new_v4().to_string(),
                    complaint_id: Some(facts.id.clone()),
                    event_seq: Some(t.record.seq),
                    template: n.template.code().to_owned(),
                    recipient_role: role.to_owned(),
                    recipient_user_id: user_id,
                    to_address: address,
                    locale,
                    payload: payload.to_string(),
                    status: "pending".into(),
                    attempts: 0,
                    last_error: None,
                    available_at: now,
                    locked_until: None,
                    claim_token: None,
                    created_at: now,
                    sent_at: None,
                })
                .execute(conn)?;
        }
    }
    Ok(())
}

/// The invitation of a person created without a password.
pub(crate) fn write_invitation(
    conn: &mut DbConnection,
    user: &crate::User,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let at = to_db(now);
    diesel::insert_into(outbox::table)
        .values(OutboxRow {
            id: uuid::Uuid::new_v4().to_string(),
            complaint_id: None,
            event_seq: None,
            template: "invitation".into(),
            recipient_role: user.role.code().to_owned(),
            recipient_user_id: Some(user.id.clone()),
            to_address: user.email.clone(),
            locale: user.locale.code().to_owned(),
            payload: serde_json::json!({
                "user_id": user.id,
                "role": user.role,
                "retailer_id": user.retailer_id,
            })
            .to_string(),
            status: "pending".into(),
            attempts: 0,
            last_error: None,
            available_at: at,
            locked_until: None,
            claim_token: None,
            created_at: at,
            sent_at: None,
        })
        .execute(conn)?;
    Ok(())
}

enum Owner<'a> {
    Complaint(&'a str),
    User(&'a str),
}

impl Store {
    /// The outbox rows written for a user (invitations among them), oldest first.
    pub fn outbox_for_user(&self, user_id: &str) -> Result<Vec<OutboxEntry>, StoreError> {
        self.outbox_entries(Owner::User(user_id))
    }

    /// The outbox rows a complaint caused, in the order they were written.
    pub fn outbox_of(&self, complaint_id: &str) -> Result<Vec<OutboxEntry>, StoreError> {
        self.outbox_entries(Owner::Complaint(complaint_id))
    }

    fn outbox_entries(&self, owner: Owner<'_>) -> Result<Vec<OutboxEntry>, StoreError> {
        self.with_conn(|conn| {
            let query = outbox::table.into_boxed();
            let query = match owner {
                Owner::Complaint(id) => query.filter(outbox::complaint_id.eq(id.to_owned())),
                Owner::User(id) => query.filter(outbox::recipient_user_id.eq(id.to_owned())),
            };
            let rows: Vec<OutboxRow> = query
                .order((
                    outbox::created_at.asc(),
                    outbox::event_seq.asc(),
                    outbox::id.asc(),
                ))
                .select(OutboxRow::as_select())
                .load(conn)?;
            rows.into_iter()
                .map(|r| {
                    Ok(OutboxEntry {
                        payload: serde_json::from_str(&r.payload)?,
                        id: r.id,
                        complaint_id: r.complaint_id,
                        event_seq: r.event_seq,
                        template: r.template,
                        recipient_role: r.recipient_role,
                        recipient_user_id: r.recipient_user_id,
                        to_address: r.to_address,
                        locale: r.locale,
                        status: r.status,
                        attempts: r.attempts,
                        created_at: from_db(r.created_at),
                    })
                })
                .collect()
        })
    }
}
