//! What every handler shares: the store, the token issuer, the password
//! hasher, the domain policy and the clock.

use std::sync::Arc;

use odr_domain::complaint::Policy;
use odr_store::{EngineRules, Store};

use crate::auth::password::PasswordHasher;
use crate::auth::token::TokenIssuer;
use crate::clock::Clock;
use crate::problem::ApiError;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub tokens: Arc<TokenIssuer>,
    pub passwords: Arc<PasswordHasher>,
    pub policy: Arc<Policy>,
    /// How the engine decides on its own (auto-assignment).
    pub rules: EngineRules,
    pub clock: Arc<dyn Clock>,
    /// Base URL for links and icon URLs, without a trailing slash.
    pub public_url: Arc<str>,
    /// Wakes the mail worker after a commit that queued mail, so that mail
    /// leaves at once instead of at the next poll.
    pub mail_queued: Arc<tokio::sync::Notify>,
}

impl AppState {
    /// Runs blocking store work off the async workers (diesel is blocking).
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let state = self.clone();
        actix_web::web::block(move || f(&state))
            .await
            .map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))?
    }

    pub fn icon_url(&self, path: &str) -> String {
        format!("{}{}", self.public_url, path)
    }
}
