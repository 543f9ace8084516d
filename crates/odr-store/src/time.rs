//! Times are stored as naive UTC `TIMESTAMP` on both backends.

use chrono::{DateTime, NaiveDateTime, Utc};

pub(crate) fn to_db(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc()
}

pub(crate) fn from_db(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}
