//! `Idempotency-Key` on POST: the first answer to a (caller, key) is kept
//! and a retry with the same request gets it again, marked
//! `Idempotent-Replayed: true`, without running anything.
//!
//! The caller is the user of a valid bearer token, else the client address
//! (login, register, magic links). The request is identified by a SHA-256 of
//! method, path, query and body; the same key with another request is 422
//! `idempotency_key_reused`, and while the first is still running a retry is
//! 409 `conflict`. 5xx and 429 answers are not kept (the retry runs again),
//! and secrets in a kept body (`access_token`, `key`, `secret`) are stored
//! and replayed as `null`.

use std::collections::BTreeMap;

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse, ResponseError};
use futures_util::StreamExt;
use odr_store::{KeptResponse, KeyClaim, Store};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::auth::token::bearer_token;
use crate::body::DEFAULT_BODY_LIMIT;
use crate::problem::{ApiError, FieldError};
use crate::state::AppState;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// Longest key accepted.
const MAX_KEY_LEN: usize = 255;

/// Headers of the first answer that a replay repeats.
const KEPT_HEADERS: [HeaderName; 3] = [header::LOCATION, header::CONTENT_TYPE, header::ETAG];

/// Members of a JSON answer never kept, at any depth.
const SECRET_MEMBERS: [&str; 3] = ["access_token", "key", "secret"];

pub async fn idempotency_middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if req.method() != Method::POST || !req.headers().contains_key(&IDEMPOTENCY_KEY) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let key = match idempotency_key(&req) {
        Ok(key) => key,
        Err(e) => return Ok(req.error_response(e)),
    };
    let body = match read_body(&mut req, &state).await {
        Ok(body) => body,
        Err(e) => return Ok(req.error_response(e)),
    };
    let hash = request_hash(&req, &body);
    req.set_payload(Payload::from(body));
    let owner = owner(&req, &state);

    let now = state.clock.now();
    let ttl = chrono::Duration::from_std(state.http.idempotency_ttl)
        .unwrap_or_else(|_| chrono::Duration::hours(24));
    let claim = {
        let (owner, key) = (owner.clone(), key.clone());
        state
            .blocking(move |s| {
                Ok(s.store
                    .claim_idempotency_key(&owner, &key, &hash, now, ttl)?)
            })
            .await
    };
    match claim {
        Err(e) => Ok(req.error_response(e)),
        Ok(KeyClaim::Reused) => Ok(req.error_response(ApiError::IdempotencyKeyReused)),
        Ok(KeyClaim::Running) => Ok(req.error_response(ApiError::Conflict(
            "A request with this Idempotency-Key is still being processed; \
             retry it in a moment to get its answer."
                .into(),
        ))),
        Ok(KeyClaim::Done(kept)) => Ok(req.into_response(replay(&kept))),
        Ok(KeyClaim::Fresh) => {
            let guard = Running {
                store: state.store.clone(),
                owner,
                key,
                settled: false,
            };
            run_and_keep(req, next, guard).await
        }
    }
}

/// Runs the request that claimed the key and keeps its answer.
async fn run_and_keep(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    mut guard: Running,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let status = res.status();
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        guard.release().await;
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let (res, body) = res.into_parts();
    let bytes = match to_bytes(body).await {
        Ok(bytes) => bytes,
        Err(e) => {
            let e = ApiError::Internal(format!("response body unreadable: {}", e.into()));
            return Ok(ServiceResponse::new(req, e.error_response()));
        }
    };
    let res = res.set_body(bytes.clone());
    if let Some(kept) = keepable(&res, &bytes) {
        let store = guard.store.clone();
        let (owner, key) = (guard.owner.clone(), guard.key.clone());
        let finished = web::block(move || store.finish_idempotency_key(&owner, &key, &kept)).await;
        match finished {
            Ok(Ok(())) => guard.settled = true,
            Ok(Err(e)) => tracing::warn!(error = %e, "idempotency key not kept"),
            Err(e) => tracing::warn!(error = %e, "idempotency key not kept"),
        }
    }
    guard.release().await;
    Ok(ServiceResponse::new(req, res).map_into_boxed_body())
}

/// The answer as kept: JSON (or empty) bodies only, secrets nulled.
fn keepable(res: &HttpResponse<actix_web::web::Bytes>, bytes: &[u8]) -> Option<KeptResponse> {
    let body = if bytes.is_empty() {
        String::new()
    } else {
        let mut json: Value = serde_json::from_slice(bytes).ok()?;
        if strip_secrets(&mut json) {
            json.to_string()
        } else {
            // Untouched: kept byte for byte (member order included).
            String::from_utf8(bytes.to_vec()).ok()?
        }
    };
    let headers = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = res.headers().get(name)?.to_str().ok()?;
            Some((name.as_str().to_owned(), value.to_owned()))
        })
        .collect::<BTreeMap<_, _>>();
    Some(KeptResponse {
        status: res.status().as_u16(),
        headers,
        body,
    })
}

fn replay(kept: &KeptResponse) -> HttpResponse {
    let status = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK);
    let mut res = HttpResponse::build(status);
    for (name, value) in &kept.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            res.insert_header((name, value));
        }
    }
    if kept.headers.contains_key(header::ETAG.as_str()) {
        res.insert_header((header::VARY, "Authorization"));
    }
    res.insert_header((IDEMPOTENT_REPLAYED, "true"));
    res.body(kept.body.clone())
}

/// Sets every secret member to `null`, at any depth; says whether there
/// was one.
fn strip_secrets(value: &mut Value) -> bool {
    let mut stripped = false;
    match value {
        Value::Object(map) => {
            for (name, member) in map.iter_mut() {
                if SECRET_MEMBERS.contains(&name.as_str()) {
                    stripped |= !member.is_null();
                    *member = Value::Null;
                } else {
                    stripped |= strip_secrets(member);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                stripped |= strip_secrets(item);
            }
        }
        _ => {}
    }
    stripped
}

fn idempotency_key(req: &ServiceRequest) -> Result<String, ApiError> {
    let value = req.headers().get(&IDEMPOTENCY_KEY);
    let key = value
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LEN && !k.chars().any(char::is_control));
    key.map(str::to_owned).ok_or_else(|| ApiError::Malformed {
        detail: format!(
            "The Idempotency-Key header must be 1 to {MAX_KEY_LEN} visible ASCII characters."
        ),
        errors: vec![FieldError::new(
            "Idempotency-Key",
            "malformed_header",
            "Use a fresh random value, such as a UUID, per intended request.",
        )],
    })
}

/// Reads the whole body, up to the largest the app accepts anywhere.
async fn read_body(req: &mut ServiceRequest, state: &AppState) -> Result<web::Bytes, ApiError> {
    let limit = usize::try_from(state.http.attachment_max_bytes)
        .unwrap_or(usize::MAX)
        .max(DEFAULT_BODY_LIMIT)
        .saturating_add(64 * 1024);
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::Malformed {
            detail: format!("The request body could not be read: {e}"),
            errors: Vec::new(),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn request_hash(req: &ServiceRequest, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    for part in [req.method().as_str(), req.path(), req.query_string()] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.update(body);
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The user of a valid bearer token, the API key (by its hash: whether it
/// is live, the route finds out), else the client address.
fn owner(req: &ServiceRequest, state: &AppState) -> String {
    if let Some(key) = bearer_token(req.request())
        .filter(|t| t.starts_with(crate::routes::credentials::API_KEY_PREFIX))
    {
        return format!("key:{}", crate::routes::credentials::key_hash(key));
    }
    bearer_token(req.request())
        .and_then(|t| state.tokens.verify(t, state.clock.now()).ok())
        .map(|claims| format!("user:{}", claims.sub))
        .unwrap_or_else(|| {
            let ip = req
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default();
            format!("anon:{ip}")
        })
}

/// A claimed key. Released once its answer is known not to be kept (5xx,
/// 429); forgotten when dropped unsettled (a request cut off or failed).
struct Running {
    store: Store,
    owner: String,
    key: String,
    settled: bool,
}

impl Running {
    /// Forgets the key now unless its answer was kept, so that a retry
    /// right after this answer runs again instead of meeting `running`.
    async fn release(&mut self) {
        if self.settled {
            return;
        }
        self.settled = true;
        let store = self.store.clone();
        let (owner, key) = (self.owner.clone(), self.key.clone());
        match web::block(move || store.abandon_idempotency_key(&owner, &key)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "idempotency key not released"),
            Err(e) => tracing::warn!(error = %e, "idempotency key not released"),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let store = self.store.clone();
        let (owner, key) = (
            std::mem::take(&mut self.owner),
            std::mem::take(&mut self.key),
        );
        // Drop cannot wait; a plain thread works with or without a runtime.
        std::thread::spawn(move || {
            if let Err(e) = store.abandon_idempotency_key(&owner, &key) {
                tracing::warn!(error = %e, "idempotency key not released");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_nulled_at_any_depth() {
        let mut v = serde_json::json!({
            "access_token": "t", "id": "1",
            "webhook": {"secret": "s", "url": "u"},
            "items": [{"key": "k"}]
        });
        assert!(strip_secrets(&mut v));
        assert_eq!(
            v,
            serde_json::json!({
                "access_token": null, "id": "1",
                "webhook": {"secret": null, "url": "u"},
                "items": [{"key": null}]
            })
        );
        assert!(!strip_secrets(
            &mut serde_json::json!({"id": "1", "key": null})
        ));
    }
}
