//! A shop's integration credentials (api.md, "Shop integration"): API keys
//! (`odr_sk_...`, kept as a SHA-256 only) and order-link secrets
//! (`olsec_...`, kept sealed by `SecretKeeper`). Each is shown once, in the
//! 201; lists never show it; `DELETE` revokes at once.
//!
//! Who: that retailer's staff, signed in as a person, and admins. A
//! customer or mediator is 403; staff of another retailer 404 (the
//! retailer's credentials are no business of theirs, not even their
//! existence); an API key is 403 (`Caller::may_manage_credentials`).

use actix_web::{http::header, web, HttpResponse};
use chrono::{DateTime, Utc};
use odr_domain::validation::limits;
use odr_domain::Role;
use odr_store::{ApiKey, LinkSecret, NewApiKey, NewLinkSecret};
use serde::{Deserialize, Serialize};

use super::input::Checks;
use crate::body::JsonBody;
use crate::caller::Caller;
use crate::problem::ApiError;
use crate::state::AppState;

/// How every API key begins; a bearer with it is looked up as a key.
pub const API_KEY_PREFIX: &str = "odr_sk_";
/// How every order-link secret begins.
pub const LINK_SECRET_PREFIX: &str = "olsec_";

/// A new random credential: the prefix and 32 random bytes in URL-safe
/// base64 (no padding).
fn fresh_secret(prefix: &str) -> String {
    use base64::Engine as _;
    let bytes: [u8; 32] = rand::random();
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The hex SHA-256 of an API key: all the store keeps of it.
pub(crate) fn key_hash(key: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Shop backend"}))]
pub struct NameCredential {
    /// What the credential is for, 1 to 200 characters.
    pub(crate) name: String,
}

/// A new API key; `key` is shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    pub id: String,
    pub name: String,
    /// `odr_sk_...`: send it as `Authorization: Bearer odr_sk_...`. Only a
    /// hash is kept; it is never shown again (an `Idempotency-Key` replay
    /// shows `null`).
    pub key: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A new order-link secret; `secret` is shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedLinkSecret {
    /// The `kid` of the order links signed with this secret.
    pub id: String,
    pub name: String,
    /// `olsec_...`: the HS256 key of order links. Never shown again (an
    /// `Idempotency-Key` replay shows `null`).
    pub secret: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A live credential as listed: never the key or secret itself.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CredentialView {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// Noted at most once a minute.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<&ApiKey> for CredentialView {
    fn from(k: &ApiKey) -> CredentialView {
        CredentialView {
            id: k.id.clone(),
            name: k.name.clone(),
            created_at: k.created_at,
            last_used_at: k.last_used_at,
        }
    }
}

impl From<&LinkSecret> for CredentialView {
    fn from(l: &LinkSecret) -> CredentialView {
        CredentialView {
            id: l.id.clone(),
            name: l.name.clone(),
            created_at: l.created_at,
            last_used_at: l.last_used_at,
        }
    }
}

/// The live credentials of a retailer, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Credentials {
    pub items: Vec<CredentialView>,
}

/// Whether the caller may manage this retailer's integration credentials
/// (`what`: "API keys", "webhooks", ...); the retailer must exist. Admins
/// and the retailer's staff, signed in as a person; staff of another
/// retailer 404, anyone else 403.
pub(crate) fn check_credentials_manager(
    s: &AppState,
    caller: &Caller,
    retailer_id: &str,
    what: &str,
) -> Result<(), ApiError> {
    s.store.retailer(retailer_id)?.ok_or(ApiError::NotFound)?;
    match caller.role() {
        Role::Admin => {}
        Role::RetailerStaff if caller.user.retailer_id.as_deref() == Some(retailer_id) => {}
        Role::RetailerStaff => return Err(ApiError::NotFound),
        _ => {
            return Err(ApiError::Forbidden(format!(
                "Only this retailer's staff and admins manage its {what}."
            )))
        }
    }
    caller.require_person(&format!("manage {what}"))
}

/// A retailer's live credentials of one kind, after the check.
async fn listed<T, F>(
    state: &web::Data<AppState>,
    caller: Caller,
    retailer_id: String,
    live: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&AppState, &Caller, &str) -> Result<Vec<T>, ApiError> + Send + 'static,
    T: Send + 'static,
    for<'a> CredentialView: From<&'a T>,
{
    let items = state
        .blocking(move |s| live(s, &caller, &retailer_id))
        .await?;
    Ok(HttpResponse::Ok().json(Credentials {
        items: items.iter().map(CredentialView::from).collect(),
    }))
}

/// Revokes a live credential of one kind, after the check.
async fn revoked<F>(
    state: &web::Data<AppState>,
    caller: Caller,
    (retailer_id, id): (String, String),
    revoke: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&AppState, &Caller, &str, &str) -> Result<(), ApiError> + Send + 'static,
{
    state
        .blocking(move |s| revoke(s, &caller, &retailer_id, &id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The live API keys of a retailer, oldest first, for one who may manage
/// them (the API's list and the integration page).
pub(crate) fn live_api_keys(
    s: &AppState,
    caller: &Caller,
    retailer_id: &str,
) -> Result<Vec<ApiKey>, ApiError> {
    check_credentials_manager(s, caller, retailer_id, "API keys")?;
    Ok(s.store.api_keys_of(retailer_id)?)
}

/// The live link secrets of a retailer, oldest first, for one who may
/// manage them.
pub(crate) fn live_link_secrets(
    s: &AppState,
    caller: &Caller,
    retailer_id: &str,
) -> Result<Vec<LinkSecret>, ApiError> {
    check_credentials_manager(s, caller, retailer_id, "link secrets")?;
    Ok(s.store.link_secrets_of(retailer_id)?)
}

/// Revokes a live API key of a retailer: it stops working at once. 404
/// when the retailer has no such live key.
pub(crate) fn revoke_api_key_of(
    s: &AppState,
    caller: &Caller,
    retailer_id: &str,
    key_id: &str,
) -> Result<(), ApiError> {
    check_credentials_manager(s, caller, retailer_id, "API keys")?;
    if s.store.revoke_api_key(retailer_id, key_id, s.clock.now())? {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// Revokes a live link secret of a retailer: links signed with it stop
/// working at once. 404 when the retailer has no such live secret.
pub(crate) fn revoke_link_secret_of(
    s: &AppState,
    caller: &Caller,
    retailer_id: &str,
    secret_id: &str,
) -> Result<(), ApiError> {
    check_credentials_manager(s, caller, retailer_id, "link secrets")?;
    if s.store
        .revoke_link_secret(retailer_id, secret_id, s.clock.now())?
    {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// Creates an API key: the stored key and the key itself, to be shown
/// this once (the API's create and the integration page).
pub(crate) fn issue_api_key(
    s: &AppState,
    caller: &Caller,
    retailer_id: &str,
    body: NameCredential,
) -> Result<(ApiKey, String), ApiError> {
    check_credentials_manager(s, caller, retailer_id, "API keys")?;
    let name = credential_name(body)?;
    let key = fresh_secret(API_KEY_PREFIX);
    let new = NewApiKey {
        id: uuid::Uuid::new_v4().to_string(),
        retailer_id: retailer_id.to_owned(),
        name,
        key_hash: key_hash(&key),
        created_by: Some(caller.id().to_owned()),
    };
    Ok((s.store.create_api_key(new, s.clock.now())?, key))
}

/// Creates an order-link secret: the stored secret and the secret itself,
/// to be shown this once.
pub(crate) fn issue_link_secret(
    s: &AppState,
    caller: &Caller,
    retailer_id: &str,
    body: NameCredential,
) -> Result<(LinkSecret, String), ApiError> {
    check_credentials_manager(s, caller, retailer_id, "link secrets")?;
    let name = credential_name(body)?;
    let secret = fresh_secret(LINK_SECRET_PREFIX);
    let new = NewLinkSecret {
        id: uuid::Uuid::new_v4().to_string(),
        retailer_id: retailer_id.to_owned(),
        name,
        sealed: s.secrets.seal(&secret),
        created_by: Some(caller.id().to_owned()),
    };
    Ok((s.store.create_link_secret(new, s.clock.now())?, secret))
}

/// The checked name of a new credential.
fn credential_name(body: NameCredential) -> Result<String, ApiError> {
    let mut checks = Checks::default();
    checks.text("name", &body.name, limits::NAME);
    checks.finish()?;
    Ok(body.name.trim().to_owned())
}

#[utoipa::path(
    post,
    path = "/api/v1/retailers/{id}/api-keys",
    tag = "integration",
    summary = "Create an API key (shown once)",
    description = "The key (`odr_sk_...`) acts as staff of this retailer, for its complaints \
        only, but cannot manage credentials or people (API keys, link secrets, webhooks, staff). \
        It is shown in this answer only; the engine keeps a SHA-256 of it. Its actions are \
        attributed to `<name> (API key)`.",
    request_body = NameCredential,
    params(
        ("id" = String, Path, description = "Retailer id."),
        crate::routes::openapi::IdempotencyHeader
    ),
    responses(
        (status = 201, description = "The key, shown once.", body = CreatedApiKey, headers(("Location" = String, description = "Where the new resource is."))),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 413, response = super::openapi::PayloadTooLarge),
        (status = 415, response = super::openapi::UnsupportedMediaType),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn create_api_key(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    JsonBody(body): JsonBody<NameCredential>,
) -> Result<HttpResponse, ApiError> {
    let retailer_id = path.into_inner();
    let (created, key) = state
        .blocking(move |s| issue_api_key(s, &caller, &retailer_id, body))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!(
                "/api/v1/retailers/{}/api-keys/{}",
                created.retailer_id, created.id
            ),
        ))
        .json(CreatedApiKey {
            id: created.id,
            name: created.name,
            key: Some(key),
            created_at: created.created_at,
        }))
}

#[utoipa::path(
    get,
    path = "/api/v1/retailers/{id}/api-keys",
    tag = "integration",
    summary = "The retailer's live API keys (never the keys themselves)",
    params(("id" = String, Path, description = "Retailer id.")),
    responses(
        (status = 200, description = "The live keys, oldest first.", body = Credentials),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    listed(&state, caller, path.into_inner(), live_api_keys).await
}

#[utoipa::path(
    delete,
    path = "/api/v1/retailers/{id}/api-keys/{key_id}",
    tag = "integration",
    summary = "Revoke an API key: it stops working at once",
    params(
        ("id" = String, Path, description = "Retailer id."),
        ("key_id" = String, Path, description = "API key id.")
    ),
    responses(
        (status = 204, description = "Revoked."),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn revoke_api_key(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    revoked(&state, caller, path.into_inner(), revoke_api_key_of).await
}

#[utoipa::path(
    post,
    path = "/api/v1/retailers/{id}/link-secrets",
    tag = "integration",
    summary = "Create an order-link secret (shown once)",
    description = "The secret (`olsec_...`) is the HS256 key of the shop's order links, with \
        this secret's `id` as `kid`. The engine keeps it sealed with `ODR_ENCRYPTION_KEY` \
        (when set) and never shows it again.",
    request_body = NameCredential,
    params(
        ("id" = String, Path, description = "Retailer id."),
        crate::routes::openapi::IdempotencyHeader
    ),
    responses(
        (status = 201, description = "The secret, shown once.", body = CreatedLinkSecret, headers(("Location" = String, description = "Where the new resource is."))),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 413, response = super::openapi::PayloadTooLarge),
        (status = 415, response = super::openapi::UnsupportedMediaType),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn create_link_secret(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    JsonBody(body): JsonBody<NameCredential>,
) -> Result<HttpResponse, ApiError> {
    let retailer_id = path.into_inner();
    let (created, secret) = state
        .blocking(move |s| issue_link_secret(s, &caller, &retailer_id, body))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!(
                "/api/v1/retailers/{}/link-secrets/{}",
                created.retailer_id, created.id
            ),
        ))
        .json(CreatedLinkSecret {
            id: created.id,
            name: created.name,
            secret: Some(secret),
            created_at: created.created_at,
        }))
}

#[utoipa::path(
    get,
    path = "/api/v1/retailers/{id}/link-secrets",
    tag = "integration",
    summary = "The retailer's live order-link secrets (never the secrets themselves)",
    params(("id" = String, Path, description = "Retailer id.")),
    responses(
        (status = 200, description = "The live secrets, oldest first.", body = Credentials),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn list_link_secrets(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    listed(&state, caller, path.into_inner(), live_link_secrets).await
}

#[utoipa::path(
    delete,
    path = "/api/v1/retailers/{id}/link-secrets/{secret_id}",
    tag = "integration",
    summary = "Revoke an order-link secret: links signed with it stop working at once",
    params(
        ("id" = String, Path, description = "Retailer id."),
        ("secret_id" = String, Path, description = "Link secret id.")
    ),
    responses(
        (status = 204, description = "Revoked."),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 404, response = super::openapi::NotFound),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn revoke_link_secret(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    revoked(&state, caller, path.into_inner(), revoke_link_secret_of).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_long_random_and_prefixed() {
        let a = fresh_secret(API_KEY_PREFIX);
        let b = fresh_secret(API_KEY_PREFIX);
        assert!(a.starts_with("odr_sk_"));
        assert_eq!(a.len(), "odr_sk_".len() + 43);
        assert_ne!(a, b);
        assert!(fresh_secret(LINK_SECRET_PREFIX).starts_with("olsec_"));
        assert_eq!(key_hash(&a).len(), 64);
        assert_eq!(key_hash(&a), key_hash(&a));
    }
}
