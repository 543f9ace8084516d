//! Register, login, logout.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use odr_domain::locale::Locale;
use odr_domain::validation::limits;
use odr_domain::Role;
use odr_store::{NewUser, StoreError};
use serde::Deserialize;

use super::input::Checks;
use crate::auth::password::{normalize_email, validate_password};
use crate::body::JsonBody;
use crate::caller::Caller;
use crate::problem::ApiError;
use crate::rate_limit::{client_key, limited};
use crate::state::AppState;
use crate::views::MeView;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ana@example.com", "password": "correct horse battery", "display_name": "Ana Example", "locale": "en"}))]
pub struct Register {
    pub(crate) email: String,
    pub(crate) password: String,
    pub(crate) display_name: String,
    pub(crate) locale: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "customer@demo.odr.test", "password": "demo-customer-pass"}))]
pub struct Login {
    email: String,
    password: String,
}

/// Who a new account is for, as a request or a form names them.
pub(crate) struct Newcomer<'a> {
    pub email: &'a str,
    /// `None`: invited by mail to choose one.
    pub password: Option<&'a str>,
    pub display_name: &'a str,
}

/// Creates a person's account; shared by every route that creates people.
/// `checks` may already hold the caller's own findings: every bad field is
/// named at once. The password is hashed; without one the person is
/// invited by mail. A taken email is 409 `email_taken`.
pub(crate) fn create_account(
    s: &AppState,
    mut checks: Checks,
    who: Newcomer<'_>,
    role: Role,
    retailer_id: Option<String>,
    locale: Locale,
    time_zone: String,
) -> Result<odr_store::User, ApiError> {
    let email = match normalize_email(who.email) {
        Ok(e) => Some(e),
        Err(e) => {
            checks.field(e);
            None
        }
    };
    if let Some(p) = who.password {
        if let Err(e) = validate_password(p) {
            checks.field(e);
        }
    }
    checks.text("display_name", who.display_name, limits::NAME);
    checks.finish()?;
    let password_hash = match who.password {
        Some(p) => Some(
            s.passwords
                .hash(p)
                .map_err(|e| ApiError::Internal(e.to_string()))?,
        ),
        None => None,
    };
    let new = NewUser {
        email: email.unwrap_or_default(),
        password_hash,
        display_name: who.display_name.trim().to_owned(),
        role,
        retailer_id,
        locale,
        time_zone,
    };
    let id = uuid::Uuid::new_v4().to_string();
    s.store
        .create_person(new, id, who.password.is_none(), s.clock.now())
        .map_err(email_taken)
}

/// Maps a taken email to 409 `email_taken`.
fn email_taken(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::EmailTaken,
        other => other.into(),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/register",
    tag = "auth",
    summary = "Create a customer account",
    request_body = Register,
    params(
        crate::routes::openapi::IdempotencyHeader
    ),
    responses(
        (status = 201, description = "The new account.", body = crate::views::MeView, headers(("Location" = String, description = "Where the new resource is."))),
        (status = 400, response = super::openapi::Malformed),
        (status = 409, response = super::openapi::EmailTaken),
        (status = 413, response = super::openapi::PayloadTooLarge),
        (status = 415, response = super::openapi::UnsupportedMediaType),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 429, response = super::openapi::RateLimited),
        (status = 503, response = super::openapi::Unavailable)
    )
)]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    JsonBody(body): JsonBody<Register>,
) -> Result<HttpResponse, ApiError> {
    let peer = req.peer_addr();
    let user = state
        .blocking(move |s| register_customer(s, peer, body))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, "/api/v1/me"))
        .json(MeView::from(&user)))
}

/// Creates a customer account (the API's register and the web's register
/// page): rate limited per client address, every bad field named at once.
pub(crate) fn register_customer(
    s: &AppState,
    peer: Option<std::net::SocketAddr>,
    body: Register,
) -> Result<odr_store::User, ApiError> {
    limited(
        s.rate_limits
            .register_by_address
            .hit(&client_key(peer), s.clock.now()),
    )?;
    let mut checks = Checks::default();
    let locale = checks.locale("locale", body.locale.as_deref());
    let who = Newcomer {
        email: &body.email,
        password: Some(&body.password),
        display_name: &body.display_name,
    };
    let locale = locale.unwrap_or_default();
    create_account(s, checks, who, Role::Customer, None, locale, "UTC".into())
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    summary = "Sign in with email and password",
    request_body = Login,
    params(
        crate::routes::openapi::IdempotencyHeader
    ),
    responses(
        (status = 200, description = "A bearer token.", body = crate::auth::IssuedToken),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 413, response = super::openapi::PayloadTooLarge),
        (status = 415, response = super::openapi::UnsupportedMediaType),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 429, response = super::openapi::RateLimited),
        (status = 503, response = super::openapi::Unavailable)
    )
)]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    JsonBody(body): JsonBody<Login>,
) -> Result<HttpResponse, ApiError> {
    let peer = req.peer_addr();
    let token = state
        .blocking(move |s| password_sign_in(s, peer, &body.email, &body.password))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(token))
}

/// Checks an email and password (the API's login and the web's sign-in
/// page) under the per-address and per-account limits.
pub(crate) fn password_sign_in(
    s: &AppState,
    peer: Option<std::net::SocketAddr>,
    email: &str,
    password: &str,
) -> Result<crate::auth::IssuedToken, ApiError> {
    limited(
        s.rate_limits
            .login_by_address
            .hit(&client_key(peer), s.clock.now()),
    )?;
    // Only a wrong password counts against the account, and only a
    // wrong password is refused once it is over the limit: the
    // right one always signs in (no lock-out by someone guessing).
    let account = normalize_email(email)
        .unwrap_or_else(|_| email.trim().to_lowercase().chars().take(254).collect());
    let failed = |s: &AppState| -> ApiError {
        match limited(
            s.rate_limits
                .login_failures_by_account
                .hit(&account, s.clock.now()),
        ) {
            Err(throttled) => throttled,
            Ok(()) => ApiError::Unauthenticated(
                "That email and password do not match an account. Check both and try again.".into(),
            ),
        }
    };
    let user = match normalize_email(email) {
        Ok(email) => s.store.user_by_email(&email)?,
        Err(_) => None,
    };
    let Some(user) = user.filter(|u| u.is_active()) else {
        s.passwords.dummy_verify();
        return Err(failed(s));
    };
    let Some(hash) = user.password_hash.as_deref() else {
        s.passwords.dummy_verify();
        return Err(failed(s));
    };
    if !s.passwords.verify(password, hash) {
        return Err(failed(s));
    }
    new_session(s, &user)
}

/// A fresh access token (a session) for someone who just proved who they
/// are.
pub(crate) fn new_session(
    s: &AppState,
    user: &odr_store::User,
) -> Result<crate::auth::IssuedToken, ApiError> {
    s.tokens
        .issue(
            &user.id,
            user.role.code(),
            user.session_epoch,
            s.clock.now(),
        )
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Ends every session of the caller, this one included.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    summary = "End every session of the caller",
    params(
        crate::routes::openapi::IdempotencyHeader
    ),
    responses(
        (status = 204, description = "Signed out everywhere."),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 403, response = super::openapi::Forbidden),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 503, response = super::openapi::Unavailable)
    ),
    security(("bearer" = []))
)]
pub async fn logout(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    // An API key has no session to end: it is revoked instead.
    if caller.api_key_id().is_some() {
        return Err(ApiError::Forbidden(
            "An API key has no session to end; revoke the key instead.".into(),
        ));
    }
    state
        .blocking(move |s| Ok(s.store.end_sessions(caller.id(), s.clock.now())?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ana@example.com", "locale": "en"}))]
pub struct MagicLinkRequest {
    email: String,
    /// The mail's language when the email has no account yet.
    locale: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c"}))]
pub struct MagicLinkRedeem {
    token: String,
}

/// The hex SHA-256 of a magic-link token: all the store keeps of it.
pub(crate) fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/magic-link",
    tag = "auth",
    summary = "Mail a single-use sign-in link",
    description = "202 for every well-formed address, whether or not it has an account (nothing tells which); the link is valid `ODR_MAGIC_LINK_TTL` and works once. It is also the password reset.",
    request_body = MagicLinkRequest,
    params(
        crate::routes::openapi::IdempotencyHeader
    ),
    responses(
        (status = 202, description = "A sign-in link is on its way if the address can receive it."),
        (status = 400, response = super::openapi::Malformed),
        (status = 413, response = super::openapi::PayloadTooLarge),
        (status = 415, response = super::openapi::UnsupportedMediaType),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 429, response = super::openapi::RateLimited),
        (status = 503, response = super::openapi::Unavailable)
    )
)]
pub async fn magic_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    JsonBody(body): JsonBody<MagicLinkRequest>,
) -> Result<HttpResponse, ApiError> {
    let peer = req.peer_addr();
    state
        .blocking(move |s| send_magic_link(s, peer, &body.email, body.locale.as_deref()))
        .await?;
    state.mail_queued.notify_one();
    Ok(HttpResponse::Accepted().finish())
}

/// Queues a single-use sign-in link for an email (the API's magic-link
/// route and the web's sign-in page), alike whether it has an account.
/// The caller wakes the mail worker.
pub(crate) fn send_magic_link(
    s: &AppState,
    peer: Option<std::net::SocketAddr>,
    email: &str,
    locale: Option<&str>,
) -> Result<(), ApiError> {
    let mut checks = Checks::default();
    let locale = checks.locale("locale", locale);
    let email = match normalize_email(email) {
        Ok(e) => Some(e),
        Err(e) => {
            checks.field(e);
            None
        }
    };
    checks.finish()?;
    let email = email.unwrap_or_default();
    let new = fresh_link(s, peer, email, locale.unwrap_or_default())?;
    // An API key's backing user never signs in: no link is issued for its
    // address, and the answer is the same as for any other.
    if odr_store::api_keys::is_key_holder_address(&new.email) {
        return Ok(());
    }
    s.store.create_magic_link(new, s.clock.now())?;
    Ok(())
}

/// A new single-use link for a checked email, valid `ODR_MAGIC_LINK_TTL`,
/// under the magic-link rate limits (per address and per email). The
/// mailed token is in `url`; only its hash is kept.
pub(crate) fn fresh_link(
    s: &AppState,
    peer: Option<std::net::SocketAddr>,
    email: String,
    locale: Locale,
) -> Result<odr_store::NewMagicLink, ApiError> {
    let now = s.clock.now();
    limited(s.rate_limits.magic_by_address.hit(&client_key(peer), now))?;
    limited(s.rate_limits.magic_by_email.hit(&email, now))?;
    use base64::Engine as _;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let ttl = chrono::Duration::from_std(s.http.magic_link_ttl)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(odr_store::NewMagicLink {
        email,
        token_hash: token_hash(&token),
        url: format!("{}/sign-in?token={token}", s.public_url),
        locale,
        expires_at: now + ttl,
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/magic-link/redeem",
    tag = "auth",
    summary = "Sign in with a magic link's token",
    description = "The login answer; a new email becomes a customer without password. The token works once; an unknown, used or expired one is 401. A link mailed for a complaint filed without an account (`POST /api/v1/complaints/guest`) files it now, in the same transaction that uses the link, and the answer names it (`complaint_id`).",
    request_body = MagicLinkRedeem,
    params(
        crate::routes::openapi::IdempotencyHeader
    ),
    responses(
        (status = 200, description = "A bearer token, and the complaint the link filed, if any.", body = MagicLinkLogin),
        (status = 400, response = super::openapi::Malformed),
        (status = 401, response = super::openapi::Unauthenticated),
        (status = 413, response = super::openapi::PayloadTooLarge),
        (status = 415, response = super::openapi::UnsupportedMediaType),
        (status = 422, response = super::openapi::Unprocessable),
        (status = 429, response = super::openapi::RateLimited),
        (status = 503, response = super::openapi::Unavailable)
    )
)]
pub async fn redeem_magic_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    JsonBody(body): JsonBody<MagicLinkRedeem>,
) -> Result<HttpResponse, ApiError> {
    let peer = req.peer_addr();
    let login = state
        .blocking(move |s| redeem_magic_token(s, peer, &body.token))
        .await?;
    if login.complaint_id.is_some() {
        state.mail_queued.notify_one();
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(login))
}

/// The login answer of a magic link, and the complaint it filed.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct MagicLinkLogin {
    #[serde(flatten)]
    pub token: crate::auth::IssuedToken,
    /// The complaint filed without an account that this link carried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complaint_id: Option<String>,
}

/// Signs in with a magic link's token (once); a new email becomes a
/// customer without password. A link that carries a complaint filed
/// without an account files it in the same transaction.
pub(crate) fn redeem_magic_token(
    s: &AppState,
    peer: Option<std::net::SocketAddr>,
    token: &str,
) -> Result<MagicLinkLogin, ApiError> {
    let now = s.clock.now();
    limited(s.rate_limits.login_by_address.hit(&client_key(peer), now))?;
    let hash = token_hash(token.trim());
    let prepared = match s.store.magic_link_filing(&hash)? {
        Some(json) => Some(super::guest::kept_filing(s, &json)?),
        None => None,
    };
    let locale = prepared
        .as_ref()
        .and_then(|(filing, _)| filing.locale)
        .unwrap_or_default();
    let redeemed = s
        .store
        .redeem_magic_link_filing(&hash, now, locale, |user, _| {
            prepared
                .as_ref()
                .map(|(filing, retailer)| super::complaints::filed_by(s, filing, retailer, user))
                .transpose()
        })?;
    let Some(redeemed) = redeemed else {
        return Err(ApiError::Unauthenticated(
            "This sign-in link is not valid: it was used already, has expired, or was never sent. Ask for a new one."
                .into(),
        ));
    };
    if redeemed.filed.is_some() {
        s.metrics
            .transition(odr_domain::complaint::EventKind::File.code());
    }
    let user = redeemed.user;
    let token = s
        .tokens
        .issue_magic(&user.id, user.role.code(), user.session_epoch, now)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(MagicLinkLogin {
        token,
        complaint_id: redeemed.filed.map(|c| c.complaint.facts().id.clone()),
    })
}
