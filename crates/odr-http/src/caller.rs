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
        let user = state
            .blocking(move |s| Ok(s.store.user(&claims.sub)?.map(|u| (u, claims.sev))))
            .await?;
        match user {
            Some((user, sev)) if user.is_active() && user.session_epoch == sev => Ok(Caller {
                user,
                magic_link_at,
                access: Access::Full,
            }),
            _ => Err(ApiError::Unauthenticated(
                "This session has ended. Sign in again.".into(),
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
