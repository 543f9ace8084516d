//! Single-use sign-in links. Only a SHA-256 of the mailed token is kept; the
//! mail (an outbox row carrying the link) is written in the transaction
//! that stores the link. Redeeming marks the link used with one conditional
//! update, so of two redeems at once exactly one wins.
//!
//! A link may also carry a complaint filed without an account (`filing`):
//! nothing is filed until the link is used, and then the complaint is
//! written in the transaction that spends the link, so it is filed exactly
//! once.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use odr_domain::complaint::Transition;
use odr_domain::locale::Locale;
use odr_domain::Role;

use crate::mail_facts::{MagicLinkFacts, MailFacts};
use crate::schema::{magic_links, outbox};
use crate::time::to_db;
use crate::users::{insert_user, load_user_by_email};
use crate::{DbConnection, NewUser, Store, StoreError, StoredComplaint, User};

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
    filing: Option<String>,
}

/// The complaint a link carries, and the shop it is about (named in the
/// mail).
#[derive(Debug, Clone)]
pub struct KeptFiling {
    /// The filing as the HTTP layer wrote it (JSON); the store keeps it
    /// as it is.
    pub json: String,
    pub shop_name: String,
}

/// What using a link gave: the person, and the complaint it carried, filed
/// now.
#[derive(Debug, Clone)]
pub struct RedeemedLink {
    pub user: User,
    pub filed: Option<StoredComplaint>,
}

/// An error of a redeem that also files: the store's, or the filing's own.
enum RedeemError<E> {
    Store(StoreError),
    Filing(E),
}

impl<E> From<diesel::result::Error> for RedeemError<E> {
    fn from(e: diesel::result::Error) -> Self {
        RedeemError::Store(e.into())
    }
}

impl<E> From<StoreError> for RedeemError<E> {
    fn from(e: StoreError) -> Self {
        RedeemError::Store(e)
    }
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

/// Stores a link and queues its mail: `magic_link`, or `guest_filing` when
/// it carries a complaint.
fn queue_link(
    conn: &mut DbConnection,
    new: &NewMagicLink,
    kept: Option<&KeptFiling>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let user = load_user_by_email(conn, &new.email)?;
    diesel::insert_into(magic_links::table)
        .values(MagicLinkRow {
            token_hash: new.token_hash.clone(),
            user_id: user.as_ref().map(|u| u.id.clone()),
            email: new.email.clone(),
            created_at: to_db(now),
            expires_at: to_db(new.expires_at),
            used_at: None,
            filing: kept.map(|k| k.json.clone()),
        })
        .execute(conn)?;
    let (role, user_id, name, locale, time_zone) = match &user {
        Some(u) => (
            u.role.code(),
            Some(u.id.clone()),
            u.display_name.clone(),
            u.locale.code().to_owned(),
            u.time_zone.clone(),
        ),
        None => (
            Role::Customer.code(),
            None,
            name_of(&new.email),
            new.locale.code().to_owned(),
            "UTC".to_owned(),
        ),
    };
    // A complaint is mailed in the language it was written in.
    let locale = if kept.is_some() {
        new.locale.code().to_owned()
    } else {
        locale
    };
    let template = if kept.is_some() {
        "guest_filing"
    } else {
        "magic_link"
    };
    let facts = MailFacts {
        template: template.into(),
        recipient_role: role.to_owned(),
        recipient_name: name.clone(),
        locale: locale.clone(),
        time_zone,
        complaint: None,
        invitation: None,
        webhook: None,
        magic_link: Some(MagicLinkFacts {
            url: new.url.clone(),
            expires_at: new.expires_at,
            valid_minutes: ((new.expires_at - now).num_seconds() + 59) / 60,
            shop_name: kept.map(|k| k.shop_name.clone()),
        }),
    };
    let at = to_db(now);
    let to = crate::outbox::Addressee {
        role,
        user_id,
        address: new.email.clone(),
        name,
        locale,
        time_zone: facts.time_zone.clone(),
    };
    diesel::insert_into(outbox::table)
        .values(crate::outbox::pending_row(
            uuid::Uuid::new_v4().to_string(),
            None,
            template,
            to,
            &facts,
            at,
        )?)
        .execute(conn)?;
    Ok(())
}

/// Marks a link used if it is unused and unexpired (one conditional
/// update: used at most once even under races) and returns its email and
/// the filing it carries; `None`: unknown, used or expired.
fn spend(
    conn: &mut DbConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(String, Option<String>)>, StoreError> {
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
    let found = magic_links::table
        .find(token_hash)
        .select((magic_links::email, magic_links::filing))
        .first(conn)?;
    Ok(Some(found))
}

/// The account of an email, a customer without password created for a new
/// one, named `name` (else the email's local part) and reading `locale`.
/// Used by magic links and order links.
pub(crate) fn account_of(
    conn: &mut DbConnection,
    email: String,
    name: Option<&str>,
    locale: Locale,
    now: DateTime<Utc>,
) -> Result<User, StoreError> {
    match load_user_by_email(conn, &email)? {
        Some(u) => Ok(u),
        None => insert_user(
            conn,
            NewUser {
                display_name: name.map_or_else(|| name_of(&email), str::to_owned),
                email,
                password_hash: None,
                role: Role::Customer,
                retailer_id: None,
                locale,
                time_zone: "UTC".into(),
            },
            uuid::Uuid::new_v4().to_string(),
            now,
        ),
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
        self.write_transaction(|conn| queue_link(conn, &new, None, now))
    }

    /// Stores a link that carries a complaint filed without an account and
    /// queues its mail (template `guest_filing`, naming the shop), whether
    /// or not the email has an account. Nothing is filed yet.
    pub fn create_guest_filing(
        &self,
        new: NewMagicLink,
        filing: KeptFiling,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write_transaction(|conn| queue_link(conn, &new, Some(&filing), now))
    }

    /// The filing a link carries, whether or not the link is still good
    /// (read before redeeming, to prepare the complaint).
    pub fn magic_link_filing(&self, token_hash: &str) -> Result<Option<String>, StoreError> {
        self.with_conn(|conn| {
            let found: Option<Option<String>> = magic_links::table
                .find(token_hash)
                .select(magic_links::filing)
                .first(conn)
                .optional()?;
            Ok(found.flatten())
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
        let redeemed = self.redeem_magic_link_filing(
            token_hash,
            now,
            Locale::default(),
            |_: &User, _: &str| -> Result<Option<Transition>, StoreError> { Ok(None) },
        )?;
        Ok(redeemed.map(|r| r.user))
    }

    /// Uses a link as [`Store::redeem_magic_link`] does and, when it
    /// carries a complaint, files it in the same transaction: `file` gets
    /// the account and the kept filing and returns the filed complaint's
    /// transition (`None`: nothing to file). Any error of `file` or of the
    /// store rolls everything back, the link stays unused. A new account
    /// reads `locale`.
    pub fn redeem_magic_link_filing<E, F>(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        locale: Locale,
        file: F,
    ) -> Result<Option<RedeemedLink>, E>
    where
        E: From<StoreError>,
        F: FnOnce(&User, &str) -> Result<Option<Transition>, E>,
    {
        let outcome = self.write_transaction(|conn| -> Result<_, RedeemError<E>> {
            let Some((email, filing)) = spend(conn, token_hash, now)? else {
                return Ok(None);
            };
            let user = account_of(conn, email, None, locale, now)?;
            if !user.is_active() {
                return Ok(None);
            }
            let filed = match filing {
                Some(json) if user.role == Role::Customer => {
                    match file(&user, &json).map_err(RedeemError::Filing)? {
                        Some(t) => Some(crate::complaints::insert_filed_in(conn, &t)?),
                        None => None,
                    }
                }
                _ => None,
            };
            Ok(Some(RedeemedLink { user, filed }))
        });
        match outcome {
            Ok(r) => Ok(r),
            Err(RedeemError::Store(e)) => Err(e.into()),
            Err(RedeemError::Filing(e)) => Err(e),
        }
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
