//! Retailers: the shops complaints are about.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use odr_domain::complaint::Calendar;
use odr_domain::locale::Locale;
use odr_domain::money::Currency;

use crate::page::{Cursor, Page};
use crate::schema::retailers;
use crate::time::{from_db, to_db};
use crate::{DbConnection, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retailer {
    pub id: String,
    pub name: String,
    pub support_email: String,
    pub locale: Locale,
    pub currency: Currency,
    pub time_zone: String,
    pub business_days: bool,
    pub holidays: Vec<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Retailer {
    /// The calendar the retailer's deadlines run on.
    pub fn calendar(&self) -> Calendar {
        Calendar {
            business_days: self.business_days,
            time_zone: self.time_zone.parse().unwrap_or(chrono_tz::Tz::UTC),
            holidays: self.holidays.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewRetailer {
    pub name: String,
    pub support_email: String,
    pub locale: Locale,
    pub currency: Currency,
    pub time_zone: String,
}

/// `PATCH /retailers/{id}`; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct RetailerChange {
    pub name: Option<String>,
    pub support_email: Option<String>,
    pub locale: Option<Locale>,
    pub currency: Option<Currency>,
    pub time_zone: Option<String>,
    pub business_days: Option<bool>,
    pub holidays: Option<Vec<NaiveDate>>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = retailers)]
struct RetailerRow {
    id: String,
    name: String,
    support_email: String,
    locale: String,
    currency: String,
    time_zone: String,
    business_days: bool,
    holidays: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<RetailerRow> for Retailer {
    type Error = StoreError;

    fn try_from(r: RetailerRow) -> Result<Retailer, StoreError> {
        Ok(Retailer {
            locale: Locale::parse(&r.locale).unwrap_or_default(),
            currency: Currency::parse(&r.currency)
                .ok_or_else(|| StoreError::Corrupt(format!("currency {}", r.currency)))?,
            holidays: serde_json::from_str(&r.holidays)?,
            id: r.id,
            name: r.name,
            support_email: r.support_email,
            time_zone: r.time_zone,
            business_days: r.business_days,
            created_at: from_db(r.created_at),
            updated_at: from_db(r.updated_at),
        })
    }
}

pub(crate) fn load_retailer(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<Retailer>, StoreError> {
    retailers::table
        .find(id)
        .select(RetailerRow::as_select())
        .first(conn)
        .optional()?
        .map(Retailer::try_from)
        .transpose()
}

impl Store {
    pub fn create_retailer(
        &self,
        new: NewRetailer,
        id: String,
        now: DateTime<Utc>,
    ) -> Result<Retailer, StoreError> {
        let row = RetailerRow {
            id,
            name: new.name,
            support_email: new.support_email,
            locale: new.locale.code().to_owned(),
            currency: new.currency.code().to_owned(),
            time_zone: new.time_zone,
            business_days: false,
            holidays: "[]".into(),
            created_at: to_db(now),
            updated_at: to_db(now),
        };
        self.write_transaction(|conn| {
            diesel::insert_into(retailers::table)
                .values(&row)
                .execute(conn)?;
            load_retailer(conn, &row.id)?.ok_or(StoreError::NotFound)
        })
    }

    pub fn retailer(&self, id: &str) -> Result<Option<Retailer>, StoreError> {
        self.with_conn(|conn| load_retailer(conn, id))
    }

    /// The public directory, oldest first (a stable order for cursors).
    pub fn list_retailers(
        &self,
        after: Option<&Cursor>,
        limit: i64,
    ) -> Result<Page<Retailer>, StoreError> {
        self.with_conn(|conn| {
            let mut q = retailers::table
                .select(RetailerRow::as_select())
                .order((retailers::created_at.asc(), retailers::id.asc()))
                .limit(limit + 1)
                .into_boxed();
            if let Some(c) = after {
                q = q.filter(
                    retailers::created_at.gt(c.at).or(retailers::created_at
                        .eq(c.at)
                        .and(retailers::id.gt(c.id.clone()))),
                );
            }
            let rows: Vec<RetailerRow> = q.load(conn)?;
            let mut items = rows
                .into_iter()
                .map(Retailer::try_from)
                .collect::<Result<Vec<_>, _>>()?;
            let next_cursor = if items.len() as i64 > limit {
                items.truncate(limit as usize);
                items.last().map(|r| {
                    Cursor {
                        at: to_db(r.created_at),
                        id: r.id.clone(),
                    }
                    .encode()
                })
            } else {
                None
            };
            Ok(Page { items, next_cursor })
        })
    }

    pub fn update_retailer(
        &self,
        id: &str,
        change: RetailerChange,
        now: DateTime<Utc>,
    ) -> Result<Retailer, StoreError> {
        self.write_transaction(|conn| {
            let target = retailers::table.find(id);
            if let Some(v) = change.name {
                diesel::update(target)
                    .set(retailers::name.eq(v))
                    .execute(conn)?;
            }
            if let Some(v) = change.support_email {
                diesel::update(target)
                    .set(retailers::support_email.eq(v))
                    .execute(conn)?;
            }
            if let Some(v) = change.locale {
                diesel::update(target)
                    .set(retailers::locale.eq(v.code()))
                    .execute(conn)?;
            }
            if let Some(v) = change.currency {
                diesel::update(target)
                    .set(retailers::currency.eq(v.code()))
                    .execute(conn)?;
            }
            if let Some(v) = change.time_zone {
                diesel::update(target)
                    .set(retailers::time_zone.eq(v))
                    .execute(conn)?;
            }
            if let Some(v) = change.business_days {
                diesel::update(target)
                    .set(retailers::business_days.eq(v))
                    .execute(conn)?;
            }
            if let Some(v) = change.holidays {
                let json = serde_json::to_string(&v).map_err(StoreError::from)?;
                diesel::update(target)
                    .set(retailers::holidays.eq(json))
                    .execute(conn)?;
            }
            let n = diesel::update(target)
                .set(retailers::updated_at.eq(to_db(now)))
                .execute(conn)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            load_retailer(conn, id)?.ok_or(StoreError::NotFound)
        })
    }
}
