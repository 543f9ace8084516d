//! `Idempotency-Key`s: the first answer to each (caller, key), kept so that a
//! retry is answered with it instead of running again.
//!
//! The row is the lock: whoever inserts it runs the request (`running`),
//! everyone else with the same key reads it. A key past `expires_at` counts
//! as never seen and is deleted on sight.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, RunQueryDsl};

use crate::error::StoreError;
use crate::pool::Store;
use crate::schema::idempotency_keys as keys;
use crate::time::{from_db, to_db};

const RUNNING: &str = "running";
const DONE: &str = "done";

/// How long a `running` key holds before it counts as abandoned (its
/// process died mid-request): far beyond any request's time, far short of
/// the key's life, so a crash does not block a retry for a day.
const RUNNING_LEASE_MINUTES: i64 = 5;

/// A first answer as kept: status, the kept headers, the body text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptResponse {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

/// What a request holding a key may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyClaim {
    /// The key is new (or had expired): this request runs and must then
    /// [`Store::finish_idempotency_key`] or [`Store::abandon_idempotency_key`].
    Fresh,
    /// The first request with this key and body is still running.
    Running,
    /// The key was first used for another request.
    Reused,
    /// The first answer, to replay.
    Done(KeptResponse),
}

#[derive(diesel::Queryable)]
struct KeyRow {
    request_hash: String,
    state: String,
    response_status: Option<i64>,
    response_headers: Option<String>,
    response_body: Option<String>,
    created_at: chrono::NaiveDateTime,
    expires_at: chrono::NaiveDateTime,
}

impl Store {
    /// Takes `key` for `owner` and this request (`request_hash`), or says
    /// what became of the first request that took it.
    pub fn claim_idempotency_key(
        &self,
        owner: &str,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<KeyClaim, StoreError> {
        self.write_on(|conn| {
            // Two rounds: an expired row found in the first is deleted and
            // the insert tried once more.
            for _ in 0..2 {
                let inserted = diesel::insert_into(keys::table)
                    .values((
                        keys::owner.eq(owner),
                        keys::key.eq(key),
                        keys::request_hash.eq(request_hash),
                        keys::state.eq(RUNNING),
                        keys::created_at.eq(to_db(now)),
                        keys::expires_at.eq(to_db(now + ttl)),
                    ))
                    .execute(conn);
                match inserted.map_err(StoreError::from) {
                    Ok(_) => return Ok(KeyClaim::Fresh),
                    Err(StoreError::Conflict(_)) => {}
                    Err(e) => return Err(e),
                }
                let row: Option<KeyRow> = keys::table
                    .find((owner, key))
                    .select((
                        keys::request_hash,
                        keys::state,
                        keys::response_status,
                        keys::response_headers,
                        keys::response_body,
                        keys::created_at,
                        keys::expires_at,
                    ))
                    .first(conn)
                    .optional()?;
                let Some(row) = row else {
                    // Abandoned between our insert and our read: try again.
                    continue;
                };
                if from_db(row.expires_at) <= now {
                    diesel::delete(
                        keys::table
                            .find((owner, key))
                            .filter(keys::expires_at.le(to_db(now))),
                    )
                    .execute(conn)?;
                    continue;
                }
                if row.request_hash != request_hash {
                    return Ok(KeyClaim::Reused);
                }
                if row.state != DONE {
                    let lease = chrono::Duration::minutes(RUNNING_LEASE_MINUTES);
                    if from_db(row.created_at) + lease > now {
                        return Ok(KeyClaim::Running);
                    }
                    diesel::delete(
                        keys::table
                            .find((owner, key))
                            .filter(keys::state.eq(RUNNING))
                            .filter(keys::created_at.le(to_db(now - lease))),
                    )
                    .execute(conn)?;
                    continue;
                }
                let headers = match row.response_headers.as_deref() {
                    Some(json) => serde_json::from_str(json)?,
                    None => BTreeMap::new(),
                };
                let status = row
                    .response_status
                    .and_then(|s| u16::try_from(s).ok())
                    .ok_or_else(|| StoreError::Corrupt("idempotency key without status".into()))?;
                return Ok(KeyClaim::Done(KeptResponse {
                    status,
                    headers,
                    body: row.response_body.unwrap_or_default(),
                }));
            }
            // The key keeps changing hands under us: let the client retry.
            Ok(KeyClaim::Running)
        })
    }

    /// Keeps the first answer for the key this request claimed.
    pub fn finish_idempotency_key(
        &self,
        owner: &str,
        key: &str,
        response: &KeptResponse,
    ) -> Result<(), StoreError> {
        let headers = serde_json::to_string(&response.headers)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.write_on(|conn| {
            diesel::update(keys::table.find((owner, key)))
                .set((
                    keys::state.eq(DONE),
                    keys::response_status.eq(Some(i64::from(response.status))),
                    keys::response_headers.eq(Some(headers)),
                    keys::response_body.eq(Some(&response.body)),
                ))
                .execute(conn)?;
            Ok(())
        })
    }

    /// Forgets a claimed key whose answer is not kept (5xx, 429, or a
    /// request that never finished), so that a retry runs again.
    pub fn abandon_idempotency_key(&self, owner: &str, key: &str) -> Result<(), StoreError> {
        self.write_on(|conn| {
            diesel::delete(
                keys::table
                    .find((owner, key))
                    .filter(keys::state.eq(RUNNING)),
            )
            .execute(conn)?;
            Ok(())
        })
    }

    /// Deletes every key expired at `now`; returns how many.
    pub fn purge_idempotency_keys(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        self.write_on(|conn| {
            Ok(
                diesel::delete(keys::table.filter(keys::expires_at.le(to_db(now))))
                    .execute(conn)?,
            )
        })
    }
}
