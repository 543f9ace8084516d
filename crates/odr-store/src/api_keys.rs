//! A shop's API keys. Only a SHA-256 (hex) of a key is kept. Each key has a
//! backing user (role `retailer_staff`, its retailer, no password, an
//! address under `.invalid`) that the key's events and messages are
//! attributed to; that user is no person: it is left out of staff lists and
//! mail, and cannot sign in (see `users.rs`, `magic_links.rs`). Revoking a
//! key disables its user in the same transaction.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use odr_domain::Role;

use crate::schema::{api_keys, users};
use crate::time::{from_db, to_db};
use crate::users::{insert_user, load_user};
use crate::{NewUser, Store, StoreError, User};

/// The domain of the backing users' addresses: `.invalid` never resolves
/// (RFC 2606), so no mail can reach them.
pub const KEY_HOLDER_DOMAIN: &str = "api-keys.invalid";

/// Whether an address is an API key's backing user's: such a user never
/// signs in, by password, magic link or otherwise.
pub fn is_key_holder_address(email: &str) -> bool {
    email
        .rsplit_once('@')
        .is_some_and(|(_, domain)| domain.eq_ignore_ascii_case(KEY_HOLDER_DOMAIN))
}

/// How often a key's `last_used_at` is written at most.
const LAST_USED_EVERY: i64 = 60;

/// A key as listed (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub retailer_id: String,
    /// The backing user its actions are attributed to.
    pub user_id: String,
    pub name: String,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What a new key needs; `key_hash` is the hex SHA-256 of the key shown
/// once.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub id: String,
    pub retailer_id: String,
    pub name: String,
    pub key_hash: String,
    /// The person who created it.
    pub created_by: Option<String>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
struct ApiKeyRow {
    id: String,
    retailer_id: String,
    user_id: String,
    name: String,
    key_hash: String,
    created_by: Option<String>,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

impl From<ApiKeyRow> for ApiKey {
    fn from(r: ApiKeyRow) -> ApiKey {
        ApiKey {
            id: r.id,
            retailer_id: r.retailer_id,
            user_id: r.user_id,
            name: r.name,
            created_by: r.created_by,
            created_at: from_db(r.created_at),
            last_used_at: r.last_used_at.map(from_db),
            revoked_at: r.revoked_at.map(from_db),
        }
    }
}

impl Store {
    /// Creates a key and its backing user in one transaction. The user
    /// takes the retailer's language and time zone.
    pub fn create_api_key(&self, new: NewApiKey, now: DateTime<Utc>) -> Result<ApiKey, StoreError> {
        self.write_transaction(|conn| {
            let retailer = crate::retailers::load_retailer(conn, &new.retailer_id)?
                .ok_or(StoreError::NotFound)?;
            let holder = insert_user(
                conn,
                NewUser {
                    email: format!("{}@{KEY_HOLDER_DOMAIN}", new.id),
                    password_hash: None,
                    display_name: format!("{} (API key)", new.name),
                    role: Role::RetailerStaff,
                    retailer_id: Some(new.retailer_id.clone()),
                    locale: retailer.locale,
                    time_zone: retailer.time_zone.clone(),
                },
                uuid::Uuid::new_v4().to_string(),
                now,
            )?;
            let row = ApiKeyRow {
                id: new.id,
                retailer_id: new.retailer_id,
                user_id: holder.id,
                name: new.name,
                key_hash: new.key_hash,
                created_by: new.created_by,
                created_at: to_db(now),
                last_used_at: None,
                revoked_at: None,
            };
            diesel::insert_into(api_keys::table)
                .values(&row)
                .execute(conn)?;
            Ok(ApiKey::from(row))
        })
    }

    /// A retailer's live keys, oldest first.
    pub fn api_keys_of(&self, retailer_id: &str) -> Result<Vec<ApiKey>, StoreError> {
        self.with_conn(|conn| {
            Ok(api_keys::table
                .filter(api_keys::retailer_id.eq(retailer_id))
                .filter(api_keys::revoked_at.is_null())
                .order((api_keys::created_at.asc(), api_keys::id.asc()))
                .select(ApiKeyRow::as_select())
                .load(conn)?
                .into_iter()
                .map(ApiKey::from)
                .collect())
        })
    }

    /// Revokes a live key of a retailer and disables its backing user at
    /// once; `false` when the retailer has no such live key.
    pub fn revoke_api_key(
        &self,
        retailer_id: &str,
        key_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.write_transaction(|conn| {
            let key: Option<ApiKeyRow> = api_keys::table
                .filter(api_keys::id.eq(key_id))
                .filter(api_keys::retailer_id.eq(retailer_id))
                .filter(api_keys::revoked_at.is_null())
                .select(ApiKeyRow::as_select())
                .first(conn)
                .optional()?;
            let Some(key) = key else {
                return Ok(false);
            };
            diesel::update(api_keys::table.find(&key.id))
                .set(api_keys::revoked_at.eq(Some(to_db(now))))
                .execute(conn)?;
            diesel::update(users::table.find(&key.user_id))
                .set((
                    users::disabled_at.eq(Some(to_db(now))),
                    users::session_epoch.eq(users::session_epoch + 1),
                    users::updated_at.eq(to_db(now)),
                ))
                .execute(conn)?;
            Ok(true)
        })
    }

    /// All that is kept of a key (revoked or not): the hex SHA-256.
    pub fn api_key_hash(&self, key_id: &str) -> Result<Option<String>, StoreError> {
        self.with_conn(|conn| {
            Ok(api_keys::table
                .find(key_id)
                .select(api_keys::key_hash)
                .first(conn)
                .optional()?)
        })
    }

    /// The live key with this hash and its active backing user; `None` for
    /// an unknown or revoked key. Notes the use in `last_used_at`, but
    /// writes at most once a minute per key.
    pub fn api_key_holder(
        &self,
        key_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(ApiKey, User)>, StoreError> {
        let found = self.with_conn(|conn| {
            let key: Option<ApiKeyRow> = api_keys::table
                .filter(api_keys::key_hash.eq(key_hash))
                .filter(api_keys::revoked_at.is_null())
                .select(ApiKeyRow::as_select())
                .first(conn)
                .optional()?;
            let Some(key) = key.map(ApiKey::from) else {
                return Ok(None);
            };
            let user = load_user(conn, &key.user_id)?.filter(User::is_active);
            Ok::<_, StoreError>(user.map(|u| (key, u)))
        })?;
        let Some((mut key, user)) = found else {
            return Ok(None);
        };
        let stale_before = now - Duration::seconds(LAST_USED_EVERY);
        if key.last_used_at.is_none_or(|at| at <= stale_before) {
            // One conditional statement: of two requests at once, at most
            // one writes.
            self.write_on(|conn| {
                diesel::update(
                    api_keys::table.find(&key.id).filter(
                        api_keys::last_used_at
                            .is_null()
                            .or(api_keys::last_used_at.le(to_db(stale_before))),
                    ),
                )
                .set(api_keys::last_used_at.eq(Some(to_db(now))))
                .execute(conn)?;
                Ok::<_, StoreError>(())
            })?;
            key.last_used_at = Some(now);
        }
        Ok(Some((key, user)))
    }
}
