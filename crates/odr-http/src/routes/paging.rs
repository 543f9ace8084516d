//! The query of every plain list: `?limit=` and `?cursor=`, nothing else.

use odr_store::StoreError;
use serde::Deserialize;

use crate::problem::ApiError;

/// `limit` (default 50, clamped to 1..=200) and the opaque `cursor` a
/// previous page gave as `next_cursor`. Other parameters are 400.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page: default 50, at most 200 (larger is clamped).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The cursor if it is one this list gave out (decoded with `decode`),
/// else 422 naming `cursor`.
pub fn checked_cursor<T>(
    value: Option<&str>,
    decode: impl Fn(&str) -> Result<T, StoreError>,
) -> Result<Option<T>, ApiError> {
    value
        .map(|c| {
            decode(c).map_err(|_| {
                ApiError::validation_one(
                    "cursor",
                    "invalid_cursor",
                    "Use a next_cursor this list gave you, with the same sort.",
                )
            })
        })
        .transpose()
}
