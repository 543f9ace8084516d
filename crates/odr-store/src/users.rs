//! People: customers, retailer staff, mediators, admins.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use odr_domain::locale::Locale;
use odr_domain::Role;

use crate::page::{Cursor, Page};
use crate::schema::{api_keys, users};
use crate::time::{from_db, to_db};
use crate::{DbConnection, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub password_hash: Option<String>,
    pub display_name: String,
    pub role: Role,
    pub retailer_id: Option<String>,
    pub locale: Locale,
    pub time_zone: String,
    pub session_epoch: i64,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    pub fn is_active(&self) -> bool {
        self.disabled_at.is_none()
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub password_hash: Option<String>,
    pub display_name: String,
    pub role: Role,
    pub retailer_id: Option<String>,
    pub locale: Locale,
    pub time_zone: String,
}

/// What `PATCH /me` may change; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    pub display_name: Option<String>,
    pub locale: Option<Locale>,
    pub time_zone: Option<String>,
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = users)]
struct UserRow {
    id: String,
    email: String,
    password_hash: Option<String>,
    display_name: String,
    role: String,
    retailer_id: Option<String>,
    locale: String,
    time_zone: String,
    session_epoch: i64,
    disabled_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(r: UserRow) -> Result<User, StoreError> {
        Ok(User {
            role: Role::parse(&r.role).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            locale: Locale::parse(&r.locale).unwrap_or_default(),
            id: r.id,
            email: r.email,
            password_hash: r.password_hash,
            display_name: r.display_name,
            retailer_id: r.retailer_id,
            time_zone: r.time_zone,
            session_epoch: r.session_epoch,
            disabled_at: r.disabled_at.map(from_db),
            created_at: from_db(r.created_at),
            updated_at: from_db(r.updated_at),
        })
    }
}

/// The backing users of API keys: no people, so never in a list of people
/// nor mailed as one (`api_keys.rs`).
fn key_holders() -> diesel::dsl::Select<api_keys::table, api_keys::user_id> {
    api_keys::table.select(api_keys::user_id)
}

pub(crate) fn load_user(conn: &mut DbConnection, id: &str) -> Result<Option<User>, StoreError> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(User::try_from)
        .transpose()
}

pub(crate) fn active_admins(conn: &mut DbConnection) -> Result<Vec<User>, StoreError> {
    users::table
        .filter(users::role.eq(Role::Admin.code()))
        .filter(users::disabled_at.is_null())
        .order(users::created_at.asc())
        .select(UserRow::as_select())
        .load(conn)?
        .into_iter()
        .map(User::try_from)
        .collect()
}

impl Store {
    /// Creates a user; a taken email is `Conflict`.
    pub fn create_user(
        &self,
        new: NewUser,
        id: String,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError> {
        self.create_person(new, id, false, now)
    }

    pub fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.with_conn(|conn| load_user(conn, id))
    }

    /// `email` must already be normalised.
    pub fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.with_conn(|conn| {
            users::table
                .filter(users::email.eq(email))
                .select(UserRow::as_select())
                .first(conn)
                .optional()?
                .map(User::try_from)
                .transpose()
        })
    }

    pub fn update_profile(
        &self,
        id: &str,
        change: ProfileChange,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError> {
        self.write_transaction(|conn| {
            let target = users::table.find(id);
            if let Some(name) = change.display_name {
                diesel::update(target)
                    .set(users::display_name.eq(name))
                    .execute(conn)?;
            }
            if let Some(locale) = change.locale {
                diesel::update(target)
                    .set(users::locale.eq(locale.code()))
                    .execute(conn)?;
            }
            if let Some(zone) = change.time_zone {
                diesel::update(target)
                    .set(users::time_zone.eq(zone))
                    .execute(conn)?;
            }
            diesel::update(target)
                .set(users::updated_at.eq(to_db(now)))
                .execute(conn)?;
            load_user(conn, id)?.ok_or(StoreError::NotFound)
        })
    }

    pub fn set_password_hash(
        &self,
        id: &str,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write_transaction(|conn| {
            diesel::update(users::table.find(id))
                .set((
                    users::password_hash.eq(hash),
                    users::updated_at.eq(to_db(now)),
                ))
                .execute(conn)?;
            Ok(())
        })
    }

    /// Ends every session issued so far; returns the new epoch.
    pub fn end_sessions(&self, id: &str, now: DateTime<Utc>) -> Result<i64, StoreError> {
        self.write_transaction(|conn| {
            diesel::update(users::table.find(id))
                .set((
                    users::session_epoch.eq(users::session_epoch + 1),
                    users::updated_at.eq(to_db(now)),
                ))
                .execute(conn)?;
            let user = load_user(conn, id)?.ok_or(StoreError::NotFound)?;
            Ok(user.session_epoch)
        })
    }

    /// Disables a user at once: their sessions end with it.
    pub fn disable_user(&self, id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.write_transaction(|conn| {
            let n = diesel::update(users::table.find(id))
                .set((
                    users::disabled_at.eq(Some(to_db(now))),
                    users::session_epoch.eq(users::session_epoch + 1),
                    users::updated_at.eq(to_db(now)),
                ))
                .execute(conn)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    /// The active staff of a retailer, oldest first.
    pub fn staff_of(&self, retailer_id: &str) -> Result<Vec<User>, StoreError> {
        self.with_conn(|conn| {
            users::table
                .filter(users::retailer_id.eq(retailer_id))
                .filter(users::role.eq(Role::RetailerStaff.code()))
                .filter(users::disabled_at.is_null())
                .filter(users::id.ne_all(key_holders()))
                .order((users::created_at.asc(), users::id.asc()))
                .select(UserRow::as_select())
                .load(conn)?
                .into_iter()
                .map(User::try_from)
                .collect()
        })
    }

    /// The active users with a role, oldest first.
    pub fn users_with_role(&self, role: Role) -> Result<Vec<User>, StoreError> {
        self.with_conn(|conn| {
            users::table
                .filter(users::role.eq(role.code()))
                .filter(users::disabled_at.is_null())
                .order((users::created_at.asc(), users::id.asc()))
                .select(UserRow::as_select())
                .load(conn)?
                .into_iter()
                .map(User::try_from)
                .collect()
        })
    }

    /// One page of a retailer's active staff, oldest first.
    pub fn staff_page(
        &self,
        retailer_id: &str,
        after: Option<&Cursor>,
        limit: i64,
    ) -> Result<Page<User>, StoreError> {
        let retailer_id = retailer_id.to_owned();
        self.people_page(Role::RetailerStaff, Some(retailer_id), after, limit)
    }

    /// One page of the active users with a role, oldest first.
    pub fn role_page(
        &self,
        role: Role,
        after: Option<&Cursor>,
        limit: i64,
    ) -> Result<Page<User>, StoreError> {
        self.people_page(role, None, after, limit)
    }

    fn people_page(
        &self,
        role: Role,
        retailer_id: Option<String>,
        after: Option<&Cursor>,
        limit: i64,
    ) -> Result<Page<User>, StoreError> {
        self.with_conn(|conn| {
            let mut q = users::table
                .filter(users::role.eq(role.code()))
                .filter(users::disabled_at.is_null())
                .filter(users::id.ne_all(key_holders()))
                .order((users::created_at.asc(), users::id.asc()))
                .limit(limit.saturating_add(1))
                .select(UserRow::as_select())
                .into_boxed();
            if let Some(retailer_id) = retailer_id {
                q = q.filter(users::retailer_id.eq(retailer_id));
            }
            if let Some(c) = after {
                q = q.filter(
                    users::created_at
                        .gt(c.at)
                        .or(users::created_at.eq(c.at).and(users::id.gt(c.id.clone()))),
                );
            }
            let mut items = q
                .load(conn)?
                .into_iter()
                .map(User::try_from)
                .collect::<Result<Vec<_>, _>>()?;
            let next_cursor = if items.len() as i64 > limit {
                items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                items.last().map(|u| {
                    Cursor {
                        at: to_db(u.created_at),
                        id: u.id.clone(),
                    }
                    .encode()
                })
            } else {
                None
            };
            Ok(Page { items, next_cursor })
        })
    }

    /// Creates a user (of any role); with `invite`, the invitation mail is
    /// queued in the same transaction.
    pub fn create_person(
        &self,
        new: NewUser,
        id: String,
        invite: bool,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError> {
        let row = UserRow {
            id,
            email: new.email,
            password_hash: new.password_hash,
            display_name: new.display_name,
            role: new.role.code().to_owned(),
            retailer_id: new.retailer_id,
            locale: new.locale.code().to_owned(),
            time_zone: new.time_zone,
            session_epoch: 0,
            disabled_at: None,
            created_at: to_db(now),
            updated_at: to_db(now),
        };
        self.write_transaction(|conn| {
            diesel::insert_into(users::table)
                .values(&row)
                .execute(conn)?;
            let user = load_user(conn, &row.id)?.ok_or(StoreError::NotFound)?;
            if invite {
                crate::outbox::write_invitation(conn, &user, now)?;
            }
            Ok(user)
        })
    }
}

/// The user with this (normalised) email, in a transaction.
pub(crate) fn load_user_by_email(
    conn: &mut DbConnection,
    email: &str,
) -> Result<Option<User>, StoreError> {
    users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(User::try_from)
        .transpose()
}

/// Inserts a user in a transaction; a taken email is `Conflict`.
pub(crate) fn insert_user(
    conn: &mut DbConnection,
    new: NewUser,
    id: String,
    now: DateTime<Utc>,
) -> Result<User, StoreError> {
    let row = UserRow {
        id,
        email: new.email,
        password_hash: new.password_hash,
        display_name: new.display_name,
        role: new.role.code().to_owned(),
        retailer_id: new.retailer_id,
        locale: new.locale.code().to_owned(),
        time_zone: new.time_zone,
        session_epoch: 0,
        disabled_at: None,
        created_at: to_db(now),
        updated_at: to_db(now),
    };
    diesel::insert_into(users::table)
        .values(&row)
        .execute(conn)?;
    load_user(conn, &row.id)?.ok_or(StoreError::NotFound)
}

impl Store {
    /// Sets a new password hash and ends every session issued so far, in
    /// one transaction; returns the new session epoch.
    pub fn change_password(
        &self,
        id: &str,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.write_transaction(|conn| {
            let n = diesel::update(users::table.find(id))
                .set((
                    users::password_hash.eq(hash),
                    users::session_epoch.eq(users::session_epoch + 1),
                    users::updated_at.eq(to_db(now)),
                ))
                .execute(conn)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            let user = load_user(conn, id)?.ok_or(StoreError::NotFound)?;
            Ok(user.session_epoch)
        })
    }
}
