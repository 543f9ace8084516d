//! `Caller`: the signed-in person behind a request, loaded fresh from the
//! store so that a disabled account or an ended session stops at once.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use odr_domain::{Actor, Role};
use odr_store::User;

use crate::auth::token::bearer_token;
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    /// When the session began by a magic link (the token's `iat`); `None`
    /// for a password session.
    pub magic_link_at: Option<chrono::DateTime<chrono::Utc>>,
    /// What the credential behind the request allows.
    pub access: Access,
}

/// How far a request's credential reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// A person signed in by password or magic link: everything their role
    /// allows.
    Full,
    /// A shop's API key (`Authorization: Bearer odr_sk_...`): staff of its
    /// retailer for that retailer's complaints, acting as the key's backing
    /// user, but no credentials or people (`Caller::may_manage_credentials`).
    ApiKey { key_id: String },
    /// A customer signed in by a shop's order link: files for that order,
    /// sees and acts on the complaints of that order, nothing else.
    Order {
        retailer_id: String,
        order_reference: String,
    },
}

impl Caller {
    pub fn id(&self) -> &str {
        &self.user.id
    }

    pub fn role(&self) -> Role {
        self.user.role
    }

    pub fn actor(&self) -> Actor {
        Actor {
            id: Some(self.user.id.clone()),
            role: self.user.role,
            retailer_id: self.user.retailer_id.clone(),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }

    /// Staff of this retailer, or an admin: who manages a retailer.
    pub fn manages_retailer(&self, retailer_id: &str) -> bool {
        self.is_admin()
            || (self.user.role == Role::RetailerStaff
                && self.user.retailer_id.as_deref() == Some(retailer_id))
    }

    /// The order this session is scoped to, if it came from an order link.
    pub fn order_scope(&self) -> Option<(&str, &str)> {
        match &self.access {
            Access::Order {
                retailer_id,
                order_reference,
            } => Some((retailer_id, order_reference)),
            _ => None,
        }
    }

    /// Whether the caller may manage credentials and people (API keys,
    /// link secrets, webhooks, staff, its own password and profile, its
    /// sessions): only a person's full session. An API key, for one, may
    /// not: those need a signed-in person.
    pub fn may_manage_credentials(&self) -> bool {
        matches!(self.access, Access::Full)
    }

    /// 403 unless [`Caller::may_manage_credentials`].
    pub fn require_person(&self, what: &str) -> Result<(), ApiError> {
        if self.may_manage_credentials() {
            return Ok(());
        }
        Err(ApiError::Forbidden(format!(
            "Only a signed-in person can {what}; an API key or an order link's session cannot."
        )))
    }

    /// The API key behind the request, if it came with one.
    pub fn api_key_id(&self) -> Option<&str> {
        match &self.access {
            Access::ApiKey { key_id } => Some(key_id),
            _ => None,
        }
    }

    pub fn require(&self, roles: &[Role], what: &str) -> Result<(), ApiError> {
        if roles.contains(&self.user.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "Your account ({}) cannot {what}.",
                self.user.role.code().replace('_', " ")
            )))
        }
    }
}

/// What a request's credential claims, checked without the store: a
/// session token's signature and expiry, or an API key's hash.
/// [`Credential::load`] turns it into the [`Caller`], reading the store:
/// a disabled account, an ended session or a revoked key is refused there.
/// A handler that takes a `Credential` (instead of a `Caller`) loads it on
/// the blocking thread that does its store work ([`AppState::blocking_for`]):
/// one hop off the async worker instead of two.
pub enum Credential {
    Session {
        claims: Box<crate::auth::token::Claims>,
        /// When the session began by a magic link (the token's `iat`).
        magic_link_at: Option<chrono::DateTime<chrono::Utc>>,
        access: Access,
    },
    ApiKey {
        key_hash: String,
    },
}

impl Credential {
    /// Checks an access token (a bearer header or the web session cookie)
    /// or an API key as far as it can be checked without the store.
    pub fn verify(state: &AppState, token: &str) -> Result<Credential, ApiError> {
        if token.starts_with(crate::routes::credentials::API_KEY_PREFIX) {
            return Ok(Credential::ApiKey {
                key_hash: crate::routes::credentials::key_hash(token),
            });
        }
        let claims = state.tokens.verify(token, state.clock.now()).map_err(|e| {
            ApiError::Unauthenticated(format!(
                "The access token is not accepted: {e}. Sign in again."
            ))
        })?;
        let magic_link_at = claims
            .amr
            .as_ref()
            .is_some_and(|amr| amr.iter().any(|m| m == crate::auth::token::AMR_MAGIC_LINK))
            .then(|| chrono::DateTime::from_timestamp(claims.iat, 0))
            .flatten();
        let access = match claims.ord.clone() {
            Some(scope) => Access::Order {
                retailer_id: scope.rid,
                order_reference: scope.reference,
            },
            None => Access::Full,
        };
        Ok(Credential::Session {
            claims: Box::new(claims),
            magic_link_at,
            access,
        })
    }

    /// The person behind the credential, loaded fresh (blocking: run it on
    /// a blocking thread).
    pub fn load(self, s: &AppState) -> Result<Caller, ApiError> {
        match self {
            Credential::ApiKey { key_hash } => {
                match s.store.api_key_holder(&key_hash, s.clock.now())? {
                    // The key's last use is noted there (at most once a minute).
                    Some((key, user)) => Ok(Caller {
                        user,
                        magic_link_at: None,
                        access: Access::ApiKey { key_id: key.id },
                    }),
                    None => Err(ApiError::Unauthenticated(
                        "This API key is not valid (revoked or never issued).".into(),
                    )),
                }
            }
            Credential::Session {
                claims,
                magic_link_at,
                access,
            } => {
                let ended =
                    || ApiError::Unauthenticated("This session has ended. Sign in again.".into());
                let user = s.store.user(&claims.sub)?.ok_or_else(ended)?;
                // An API key's backing user is no person: it never holds a
                // session. An order link's session is a customer's only.
                if odr_store::api_keys::is_key_holder_address(&user.email)
                    || (access != Access::Full && user.role != Role::Customer)
                    || !user.is_active()
                    || user.session_epoch != claims.sev
                {
                    return Err(ended());
                }
                Ok(Caller {
                    user,
                    magic_link_at,
                    access,
                })
            }
        }
    }
}

impl Caller {
    /// The person behind an access token or API key, loaded fresh: a
    /// disabled account, an ended session or a revoked key is refused.
    pub async fn from_token(state: &web::Data<AppState>, token: &str) -> Result<Caller, ApiError> {
        let credential = Credential::verify(state, token)?;
        state.blocking(move |s| credential.load(s)).await
    }
}

impl FromRequest for Credential {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Credential, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(credential_of(req).map(|(credential, _)| credential))
    }
}

/// The request's credential, checked as far as it can be without the
/// store, and the app state to load it with.
fn credential_of(req: &HttpRequest) -> Result<(Credential, web::Data<AppState>), ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal("no app state".into()))?;
    let token = bearer_token(req).ok_or_else(|| {
        ApiError::Unauthenticated(
            "Sign in first: send `Authorization: Bearer <access_token>` from /api/v1/auth/login."
                .into(),
        )
    })?;
    Ok((Credential::verify(state, token)?, state.clone()))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = credential_of(req);
        Box::pin(async move {
            let (credential, state) = found?;
            state.blocking(move |s| credential.load(s)).await
        })
    }
}
