//! Access tokens: HS256 JWTs issued at login and checked on every request.
//!
//! The algorithm is pinned (no `alg` negotiation), every registered claim is
//! required, and time is passed in so that expiry can be tested exactly.

use std::time::Duration;

use actix_web::{http::header, HttpRequest};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::problem::ApiError;

/// Shortest accepted signing secret: HS256 keys below 256 bits are guessable.
pub const MIN_SECRET_BYTES: usize = 32;

/// How far in the future `iat` may lie (clock skew between instances).
pub const MAX_IAT_SKEW_SECS: i64 = 60;

/// What an access token says. `sev` is the user's session epoch at login:
/// bumping the stored epoch (logout, password change) ends older tokens.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    pub role: String,
    pub sev: i64,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    pub jti: String,
    /// How the session began: `["magic_link"]` for a magic link; absent for
    /// a password (older tokens have none and stay valid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// A session from a shop's order link reaches this one order only;
    /// absent for a full session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ord: Option<OrderScope>,
}

/// The order an order-link session is scoped to (claim `ord`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct OrderScope {
    /// The retailer id.
    pub rid: String,
    /// The order reference.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The order's items as the shop named them, for the filing form
    /// (at most `MAX_SCOPE_ITEMS`: the token lives in a cookie).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<crate::routes::order_links::OrderItem>>,
}

/// The most items an order-link session carries.
pub const MAX_SCOPE_ITEMS: usize = 20;

/// The `amr` value of a session that began with a magic link.
pub const AMR_MAGIC_LINK: &str = "magic_link";

/// The `amr` value of a session that began with a shop's order link.
pub const AMR_ORDER_LINK: &str = "order_link";

/// The login answer of api.md.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, utoipa::ToSchema)]
pub struct IssuedToken {
    /// `null` when an `Idempotency-Key` replays the answer (tokens are never
    /// kept).
    #[schema(value_type = Option<String>)]
    pub access_token: String,
    /// Always `"Bearer"`.
    pub token_type: String,
    /// Seconds until `exp`.
    pub expires_in: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token secret must be at least {MIN_SECRET_BYTES} bytes")]
    WeakSecret,
    #[error("the token ttl must be between 1 second and 10 years")]
    BadTtl,
    #[error("the token has expired")]
    Expired,
    #[error("the token was issued in the future")]
    IssuedInFuture,
    #[error("the token is not valid: {0}")]
    Invalid(String),
    #[error("the token could not be signed: {0}")]
    Signing(String),
}

impl From<TokenError> for ApiError {
    fn from(err: TokenError) -> ApiError {
        match err {
            TokenError::Expired => {
                ApiError::Unauthenticated("The access token has expired. Sign in again.".to_owned())
            }
            TokenError::IssuedInFuture | TokenError::Invalid(_) => ApiError::Unauthenticated(
                "The access token is not valid. Sign in again.".to_owned(),
            ),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// Signs and checks access tokens with one shared secret.
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl std::fmt::Debug for TokenIssuer {
    // Never print key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    pub fn new(
        secret: &[u8],
        issuer: impl Into<String>,
        audience: impl Into<String>,
        ttl: Duration,
    ) -> Result<TokenIssuer, TokenError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(TokenError::WeakSecret);
        }
        if ttl.as_secs() == 0 || ttl.as_secs() > 10 * 366 * 24 * 3600 {
            return Err(TokenError::BadTtl);
        }
        let issuer = issuer.into();
        let audience = audience.into();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&[&audience]);
        // `exp` is checked against the injected clock in `verify`.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        Ok(TokenIssuer {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer,
            audience,
            ttl,
        })
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(
        &self,
        user_id: &str,
        role: &str,
        session_epoch: i64,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken, TokenError> {
        self.issue_with(user_id, role, session_epoch, now, None)
    }

    /// A token for a session begun by a magic link: it says so in `amr`,
    /// and `iat` says when.
    pub fn issue_magic(
        &self,
        user_id: &str,
        role: &str,
        session_epoch: i64,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken, TokenError> {
        self.issue_with(
            user_id,
            role,
            session_epoch,
            now,
            Some(vec![AMR_MAGIC_LINK.to_owned()]),
        )
    }

    /// A token for a session begun by a shop's order link: it reaches one
    /// order only (`ord`) and says how it began in `amr`.
    pub fn issue_order(
        &self,
        user_id: &str,
        role: &str,
        session_epoch: i64,
        now: DateTime<Utc>,
        scope: OrderScope,
    ) -> Result<IssuedToken, TokenError> {
        self.issue_claims(
            user_id,
            role,
            session_epoch,
            now,
            Some(vec![AMR_ORDER_LINK.to_owned()]),
            Some(scope),
        )
    }

    fn issue_with(
        &self,
        user_id: &str,
        role: &str,
        session_epoch: i64,
        now: DateTime<Utc>,
        amr: Option<Vec<String>>,
    ) -> Result<IssuedToken, TokenError> {
        self.issue_claims(user_id, role, session_epoch, now, amr, None)
    }

    fn issue_claims(
        &self,
        user_id: &str,
        role: &str,
        session_epoch: i64,
        now: DateTime<Utc>,
        amr: Option<Vec<String>>,
        ord: Option<OrderScope>,
    ) -> Result<IssuedToken, TokenError> {
        let ttl_secs = self.ttl.as_secs();
        let iat = now.timestamp();
        // `new` bounds the ttl well inside i64.
        let exp = iat + i64::try_from(ttl_secs).map_err(|_| TokenError::BadTtl)?;
        let claims = Claims {
            sub: user_id.to_owned(),
            role: role.to_owned(),
            sev: session_epoch,
            iat,
            exp,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: uuid::Uuid::new_v4().to_string(),
            amr,
            ord,
        };
        let access_token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
                .map_err(|e| TokenError::Signing(e.to_string()))?;
        Ok(IssuedToken {
            access_token,
            token_type: "Bearer".to_owned(),
            expires_in: ttl_secs,
        })
    }

    /// The claims of a token this issuer signed that is valid at `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        let claims = data.claims;
        let now = now.timestamp();
        if claims.exp <= now {
            return Err(TokenError::Expired);
        }
        if claims.iat > now + MAX_IAT_SKEW_SECS {
            return Err(TokenError::IssuedInFuture);
        }
        Ok(claims)
    }
}

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive).
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' '))
        .then_some(token)
}
