//! Secrets a shop signs its order links with. The engine verifies with
//! them, so they are kept readable, but sealed (`SecretKeeper`): the
//! caller hands in the sealed value. Listing never returns the secret.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::schema::link_secrets;
use crate::time::{from_db, to_db};
use crate::{Store, StoreError};

/// A link secret as listed (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSecret {
    pub id: String,
    pub retailer_id: String,
    pub name: String,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What a new link secret needs; `sealed` is `SecretKeeper::seal` of the
/// secret shown once.
#[derive(Debug, Clone)]
pub struct NewLinkSecret {
    pub id: String,
    pub retailer_id: String,
    pub name: String,
    pub sealed: String,
    /// The person who created it.
    pub created_by: Option<String>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = link_secrets)]
struct LinkSecretRow {
    id: String,
    retailer_id: String,
    name: String,
    secret: String,
    created_by: Option<String>,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

impl From<LinkSecretRow> for LinkSecret {
    fn from(r: LinkSecretRow) -> LinkSecret {
        LinkSecret {
            id: r.id,
            retailer_id: r.retailer_id,
            name: r.name,
            created_by: r.created_by,
            created_at: from_db(r.created_at),
            last_used_at: r.last_used_at.map(from_db),
            revoked_at: r.revoked_at.map(from_db),
        }
    }
}

impl Store {
    pub fn create_link_secret(
        &self,
        new: NewLinkSecret,
        now: DateTime<Utc>,
    ) -> Result<LinkSecret, StoreError> {
        let row = LinkSecretRow {
            id: new.id,
            retailer_id: new.retailer_id,
            name: new.name,
            secret: new.sealed,
            created_by: new.created_by,
            created_at: to_db(now),
            last_used_at: None,
            revoked_at: None,
        };
        self.write_transaction(|conn| {
            diesel::insert_into(link_secrets::table)
                .values(&row)
                .execute(conn)?;
            Ok::<_, StoreError>(())
        })?;
        Ok(LinkSecret::from(row))
    }

    /// A retailer's live link secrets, oldest first.
    pub fn link_secrets_of(&self, retailer_id: &str) -> Result<Vec<LinkSecret>, StoreError> {
        self.with_conn(|conn| {
            Ok(link_secrets::table
                .filter(link_secrets::retailer_id.eq(retailer_id))
                .filter(link_secrets::revoked_at.is_null())
                .order((link_secrets::created_at.asc(), link_secrets::id.asc()))
                .select(LinkSecretRow::as_select())
                .load(conn)?
                .into_iter()
                .map(LinkSecret::from)
                .collect())
        })
    }

    /// Revokes a live link secret of a retailer: links signed with it stop
    /// working at once. `false` when the retailer has no such live secret.
    pub fn revoke_link_secret(
        &self,
        retailer_id: &str,
        secret_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.write_transaction(|conn| {
            let n = diesel::update(
                link_secrets::table
                    .filter(link_secrets::id.eq(secret_id))
                    .filter(link_secrets::retailer_id.eq(retailer_id))
                    .filter(link_secrets::revoked_at.is_null()),
            )
            .set(link_secrets::revoked_at.eq(Some(to_db(now))))
            .execute(conn)?;
            Ok(n == 1)
        })
    }

    /// The stored (sealed) value of a link secret, revoked or not; for
    /// checks of how it is kept.
    pub fn sealed_link_secret(&self, secret_id: &str) -> Result<Option<String>, StoreError> {
        self.with_conn(|conn| {
            Ok(link_secrets::table
                .find(secret_id)
                .select(link_secrets::secret)
                .first(conn)
                .optional()?)
        })
    }
}
