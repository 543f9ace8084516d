//! What an order link needs from the store: the live link secret its `kid`
//! names (the secret still sealed: the HTTP edge opens it), and the customer
//! its email belongs to, made without password for a new email. Link
//! secrets themselves are created and revoked in `link_secrets.rs`.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use odr_domain::locale::Locale;

use crate::schema::link_secrets;
use crate::time::to_db;
use crate::{Store, StoreError, User};

/// How often a secret's `last_used_at` is written at most: a busy shop's
/// links do not turn every redeem into a write.
const LAST_USED_EVERY: i64 = 60;

/// A link secret that has not been revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveLinkSecret {
    pub id: String,
    pub retailer_id: String,
    /// As stored: sealed (`SecretKeeper::open` reads it).
    pub sealed_secret: String,
}

impl Store {
    /// The secret with this id, unless it was revoked.
    pub fn live_link_secret(&self, id: &str) -> Result<Option<LiveLinkSecret>, StoreError> {
        self.with_conn(|conn| {
            let row: Option<(String, String, String)> = link_secrets::table
                .find(id)
                .filter(link_secrets::revoked_at.is_null())
                .select((
                    link_secrets::id,
                    link_secrets::retailer_id,
                    link_secrets::secret,
                ))
                .first(conn)
                .optional()?;
            Ok(row.map(|(id, retailer_id, sealed_secret)| LiveLinkSecret {
                id,
                retailer_id,
                sealed_secret,
            }))
        })
    }

    /// Notes that a link signed with this secret was used, at most once a
    /// minute.
    pub fn touch_link_secret(&self, id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let stale = to_db(now - Duration::seconds(LAST_USED_EVERY));
        self.write_on(|conn| {
            diesel::update(
                link_secrets::table.find(id).filter(
                    link_secrets::last_used_at
                        .is_null()
                        .or(link_secrets::last_used_at.lt(stale)),
                ),
            )
            .set(link_secrets::last_used_at.eq(Some(to_db(now))))
            .execute(conn)?;
            Ok(())
        })
    }

    /// The account of an order link's email: the existing one (whatever
    /// its role: the caller decides), or a new customer without password
    /// named `name`, reading `locale`.
    pub fn order_customer(
        &self,
        email: &str,
        name: &str,
        locale: Locale,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError> {
        self.write_transaction(|conn| {
            crate::magic_links::account_of(conn, email.to_owned(), Some(name), locale, now)
        })
    }
}
