//! The outbox: one row per notification, written in the transaction of the
//! event that caused it, each resolved to an address and a locale at that
//! moment. Delivery reads them later.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use odr_domain::complaint::{Recipient, Transition};

use crate::mail_facts::{self, InvitationFacts, MailFacts};
use crate::retailers::load_retailer;
use crate::schema::outbox;
use crate::time::{from_db, to_db};
use crate::users::{active_admins, load_user};
use crate::{DbConnection, Store, StoreError};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Why the last delivery attempt failed (kept after a requeue).
    pub last_error: Option<String>,
    /// When the row may next be claimed.
    pub available_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
pub(crate) struct OutboxRow {
    pub(crate) id: String,
    pub(crate) complaint_id: Option<String>,
    pub(crate) event_seq: Option<i64>,
    pub(crate) template: String,
    pub(crate) recipient_role: String,
    pub(crate) recipient_user_id: Option<String>,
    pub(crate) to_address: String,
    pub(crate) locale: String,
    pub(crate) payload: String,
    pub(crate) status: String,
    pub(crate) attempts: i64,
    pub(crate) last_error: Option<String>,
    pub(crate) available_at: NaiveDateTime,
    pub(crate) locked_until: Option<NaiveDateTime>,
    pub(crate) claim_token: Option<String>,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) sent_at: Option<NaiveDateTime>,
}

impl OutboxRow {
    /// A payload that is not JSON (it should never be) is shown as a
    /// string, so that an admin can still see the row.
    pub(crate) fn into_entry(self) -> OutboxEntry {
        let payload =
            serde_json::from_str(&self.payload).unwrap_or(serde_json::Value::String(self.payload));
        OutboxEntry {
            payload,
            id: self.id,
            complaint_id: self.complaint_id,
            event_seq: self.event_seq,
            template: self.template,
            recipient_role: self.recipient_role,
            recipient_user_id: self.recipient_user_id,
            to_address: self.to_address,
            locale: self.locale,
            status: self.status,
            attempts: self.attempts,
            last_error: self.last_error,
            available_at: from_db(self.available_at),
            created_at: from_db(self.created_at),
            sent_at: self.sent_at.map(from_db),
        }
    }
}

/// A resolved recipient, as the mail will address them.
pub(crate) struct Addressee {
    pub(crate) role: &'static str,
    pub(crate) user_id: Option<String>,
    pub(crate) address: String,
    pub(crate) name: String,
    pub(crate) locale: String,
    pub(crate) time_zone: String,
}

impl Addressee {
    fn person(user: crate::User, role: &'static str) -> Addressee {
        Addressee {
            role,
            address: user.email,
            name: user.display_name,
            locale: user.locale.code().to_owned(),
            time_zone: user.time_zone,
            user_id: Some(user.id),
        }
    }
}

fn resolve(
    conn: &mut DbConnection,
    customer: Option<&crate::User>,
    retailer: Option<&crate::Retailer>,
    to: &Recipient,
) -> Result<Vec<Addressee>, StoreError> {
    let active = |user: Option<crate::User>, role| {
        user.filter(crate::User::is_active)
            .map(|u| Addressee::person(u, role))
            .into_iter()
            .collect()
    };
    Ok(match to {
        Recipient::Customer => active(customer.cloned(), "customer"),
        Recipient::Mediator(id) => active(load_user(conn, id)?, "mediator"),
        Recipient::Retailer => retailer
            .map(|r| Addressee {
                role: "retailer",
                user_id: None,
                address: r.support_email.clone(),
                name: r.name.clone(),
                locale: r.locale.code().to_owned(),
                time_zone: r.time_zone.clone(),
            })
            .into_iter()
            .collect(),
        Recipient::Admins => active_admins(conn)?
            .into_iter()
            .map(|u| Addressee::person(u, "admin"))
            .collect(),
    })
}

/// A pending outbox row: `facts` for `to`, due at once.
pub(crate) fn pending_row(
    id: String,
    complaint: Option<(&str, i64)>,
    template: &str,
    to: Addressee,
    facts: &MailFacts,
    at: NaiveDateTime,
) -> Result<OutboxRow, StoreError> {
    Ok(OutboxRow {
        id,
        complaint_id: complaint.map(|(c, _)| c.to_owned()),
        event_seq: complaint.map(|(_, seq)| seq),
        template: template.to_owned(),
        recipient_role: to.role.to_owned(),
        recipient_user_id: to.user_id,
        to_address: to.address,
        locale: to.locale,
        payload: serde_json::to_string(facts)?,
        status: "pending".into(),
        attempts: 0,
        last_error: None,
        available_at: at,
        locked_until: None,
        claim_token: None,
        created_at: at,
        sent_at: None,
    })
}

/// One outbox row per notification and recipient, each carrying what its
/// mail says (`MailFacts`), in the transition's transaction. `retailer` is
/// the complaint's retailer as the caller already read it (for the
/// decision); the customer is read once, for the mails' facts and as a
/// recipient.
pub(crate) fn write_notifications(
    conn: &mut DbConnection,
    t: &Transition,
    retailer: Option<&crate::Retailer>,
) -> Result<(), StoreError> {
    if t.notifications.is_empty() {
        return Ok(());
    }
    let complaint = t.complaint.facts();
    let customer = load_user(conn, &complaint.customer_id)?;
    let about = mail_facts::about_complaint(
        t,
        retailer.map_or("", |r| r.name.as_str()),
        customer.as_ref().map_or("", |u| u.display_name.as_str()),
    );
    let at = to_db(t.record.at);
    for n in &t.notifications {
        for to in resolve(conn, customer.as_ref(), retailer, &n.to)? {
            let facts = MailFacts {
                template: n.template.code().to_owned(),
                recipient_role: to.role.to_owned(),
                recipient_name: to.name.clone(),
                locale: to.locale.clone(),
                time_zone: to.time_zone.clone(),
                complaint: Some(about.clone()),
                invitation: None,
                magic_link: None,
                webhook: None,
            };
            let row = pending_row(
                uuid::Uuid::new_v4().to_string(),
                Some((&complaint.id, t.record.seq)),
                n.template.code(),
                to,
                &facts,
                at,
            )?;
            diesel::insert_into(outbox::table)
                .values(row)
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
    let retailer = match &user.retailer_id {
        Some(id) => load_retailer(conn, id)?,
        None => None,
    };
    let to = Addressee::person(user.clone(), user.role.code());
    let facts = MailFacts {
        template: "invitation".into(),
        recipient_role: to.role.to_owned(),
        recipient_name: to.name.clone(),
        locale: to.locale.clone(),
        time_zone: to.time_zone.clone(),
        complaint: None,
        invitation: Some(InvitationFacts {
            retailer_name: retailer.map(|r| r.name),
            role: user.role.code().to_owned(),
        }),
        magic_link: None,
        webhook: None,
    };
    let row = pending_row(
        uuid::Uuid::new_v4().to_string(),
        None,
        "invitation",
        to,
        &facts,
        to_db(now),
    )?;
    diesel::insert_into(outbox::table)
        .values(row)
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
            Ok(rows.into_iter().map(OutboxRow::into_entry).collect())
        })
    }
}
