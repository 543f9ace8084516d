//! Single-use sign-in links. Only a SHA-256 of the mailed token is kept; the
//! mail (an outbox row carrying the link) is written in the transaction
//! that stores the link. Redeeming marks the link used with one conditional
//! update, so of two redeems at once exactly one wins.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use odr_domain::locale::Locale;
use odr_domain::Role;

use crate::mail_facts::{MagicLinkFacts, MailFacts};
use crate::schema::{magic_links, outbox};
use crate::time::to_db;
use crate::users::{insert_user, load_user_by_email};
use crate::{NewUser, Store, StoreError, User};

/// What a new link needs; `email` is normalised, `token_hash` the hex
/// SHA-256 of the token in `url`.
#[derive(Debug, Clone)]
pub struct NewMagicLink {
    pub email: String,
    pub token_hash: String,
    pub url: String,
    /// The language of the mail when the email has no account yet.
    pub locale: Locale,
    pub expires_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = magic_links)]
struct MagicLinkRow {
    token_hash: String,
    user_id: Option<String>,
    email: String,
    created_at: chrono::NaiveDateTime,
    expires_at: chrono::NaiveDateTime,
    used_at: Option<chrono::NaiveDateTime>,
}

/// The display name of a person known only by email: the local part.
fn name_of(email: &str) -> String {
    let local = email.split('@').next().unwrap_or(email).trim();
    if local.is_empty() {
        "Customer".to_owned()
    } else {
        local.chars().take(100).collect()
    }
}

impl Store {
    /// Stores a link and queues its mail (template `magic_link`) in one
    /// transaction, whether or not the email has an account.
    pub fn create_magic_link(
        &self,
        new: NewMagicLink,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write_transaction(|conn| {
            let user = load_user_by_email(conn, &new.email)?;
            diesel::insert_into(magic_links::table)
                .values(MagicLinkRow {
                    token_hash: new.token_hash.clone(),
                    user_id: user.as_ref().map(|u| u.id.clone()),
                    email: new.email.clone(),
                    created_at: to_db(now),
                    expires_at: to_db(new.expires_at),
                    used_at: None,
                })
                .execute(conn)?;
            let (role, user_id, name, locale, time_zone) = match &user {
                Some(u) => (
                    u.role.code().to_owned(),
                    Some(u.id.clone()),
                    u.display_name.clone(),
                    u.locale.code().to_owned(),
                    u.time_zone.clone(),
                ),
                None => (
                    Role::Customer.code().to_owned(),
                    None,
                    name_of(&new.email),
                    new.locale.code().to_owned(),
                    "UTC".to_owned(),
                ),
            };
            let facts = MailFacts {
                template: "magic_link".into(),
                recipient_role: role.clone(),
                recipient_name: name,
                locale: locale.clone(),
                time_zone,
                complaint: None,
                invitation: None,
                magic_link: Some(MagicLinkFacts {
                    url: new.url.clone(),
                    expires_at: new.expires_at,
                    valid_minutes: ((new.expires_at - now).num_seconds() + 59) / 60,
                }),
            };
            let at = to_db(now);
            diesel::insert_into(outbox::table)
                .values(crate::outbox::OutboxRow {
                    id: uuid::Uuid::new_v4().to_string(),
                    complaint_id: None,
                    event_seq: None,
                    template: "magic_link".into(),
                    recipient_role: role,
                    recipient_user_id: user_id,
                    to_address: new.email.clone(),
                    locale,
                    payload: serde_json::to_string(&facts)?,
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
        })
    }

    /// Uses a link: marks it used only if it is unused and unexpired (one
    /// conditional update, so it is used at most once even under races),
    /// and returns its account, creating a customer without password for
    /// an email that has none. `None`: unknown, used or expired; a disabled
    /// account is `None` too.
    pub fn redeem_magic_link(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        self.write_transaction(|conn| {
            let n = diesel::update(
                magic_links::table
                    .filter(magic_links::token_hash.eq(token_hash))
                    .filter(magic_links::used_at.is_null())
                    .filter(magic_links::expires_at.gt(to_db(now))),
            )
            .set(magic_links::used_at.eq(Some(to_db(now))))
            .execute(conn)?;
            if n != 1 {
                return Ok(None);
            }
            let email: String = magic_links::table
                .find(token_hash)
                .select(magic_links::email)
                .first(conn)?;
            let user = match load_user_by_email(conn, &email)? {
                Some(u) => u,
                None => insert_user(
                    conn,
                    NewUser {
                        display_name: name_of(&email),
                        email,
                        password_hash: None,
                        role: Role::Customer,
                        retailer_id: None,
                        locale: Locale::default(),
                        time_zone: "UTC".into(),
                    },
                    uuid::Uuid::new_v4().to_string(),
                    now,
                )?,
            };
            Ok(user.is_active().then_some(user))
        })
    }

    /// The outbox rows addressed to an email (known or not), oldest first.
    pub fn outbox_to_address(&self, address: &str) -> Result<Vec<crate::OutboxEntry>, StoreError> {
        self.with_conn(|conn| {
            let rows: Vec<crate::outbox::OutboxRow> = outbox::table
                .filter(outbox::to_address.eq(address))
                .order((outbox::created_at.asc(), outbox::id.asc()))
                .select(crate::outbox::OutboxRow::as_select())
                .load(conn)?;
            Ok(rows
                .into_iter()
                .map(crate::outbox::OutboxRow::into_entry)
                .collect())
        })
    }
}
