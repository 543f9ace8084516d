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

impl Caller {
    /// The person behind an access token (a bearer header or the web
    /// session cookie), loaded fresh: a disabled account or an ended
    /// session is refused.
    pub async fn from_token(state: &web::Data<AppState>, token: &str) -> Result<Caller, ApiError> {
        if token.starts_with(crate::routes::credentials::API_KEY_PREFIX) {
            return Caller::from_api_key(state, token).await;
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
        let user = state
            .blocking(move |s| Ok(s.store.user(&claims.sub)?.map(|u| (u, claims.sev))))
            .await?;
        // An API key's backing user is no person: it never holds a session.
        if user
            .as_ref()
            .is_some_and(|(u, _)| odr_store::api_keys::is_key_holder_address(&u.email))
        {
            return Err(ApiError::Unauthenticated(
                "This session has ended. Sign in again.".into(),
            ));
        }
        match user {
            // An order link's session is a customer's only.
            Some((user, _)) if access != Access::Full && user.role != Role::Customer => Err(
                ApiError::Unauthenticated("This session has ended. Sign in again.".into()),
            ),
            Some((user, sev)) if user.is_active() && user.session_epoch == sev => Ok(Caller {
                user,
                magic_link_at,
                access,
            }),
            _ => Err(ApiError::Unauthenticated(
                "This session has ended. Sign in again.".into(),
            )),
        }
    }
}

impl Caller {
    /// The backing user of a live API key; the key's last use is noted
    /// (at most once a minute). Unknown or revoked: 401.
    async fn from_api_key(state: &web::Data<AppState>, key: &str) -> Result<Caller, ApiError> {
        let key_hash = crate::routes::credentials::key_hash(key);
        let found = state
            .blocking(move |s| Ok(s.store.api_key_holder(&key_hash, s.clock.now())?))
            .await?;
        match found {
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
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer_token(req).map(str::to_owned);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("no app state".into()))?;
            let token = token.ok_or_else(|| {
                ApiError::Unauthenticated(
                    "Sign in first: send `Authorization: Bearer <access_token>` from /api/v1/auth/login."
                        .into(),
                )
            })?;
            Caller::from_token(&state, &token).await
        })
    }
}
