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
    pub http: Arc<HttpSettings>,
    /// Login and register limits, shared by every worker of the process.
    pub rate_limits: Arc<crate::rate_limit::RateLimits>,
    /// What `GET /metrics` reports; shared with the scheduler.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Seals and opens stored webhook and link secrets
    /// (`ODR_ENCRYPTION_KEY`).
    pub secrets: odr_store::SecretKeeper,
}

/// The settings the HTTP edge reads (from the binary's configuration).
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Where uploaded evidence is kept, outside any web root.
    pub attachment_dir: std::path::PathBuf,
    pub attachment_max_bytes: u64,
    /// How long an `Idempotency-Key` and its first answer are kept.
    pub idempotency_ttl: std::time::Duration,
    /// Origins allowed by CORS; empty turns CORS off.
    pub cors_allowed_origins: Vec<String>,
    /// Login and register attempts allowed per client address and per
    /// account: `count` per `per`.
    pub login_rate: (u32, std::time::Duration),
    /// How long a magic link stays valid (`ODR_MAGIC_LINK_TTL`).
    pub magic_link_ttl: std::time::Duration,
    /// `ODR_WEBHOOK_ALLOW_PRIVATE`: webhooks may name loopback, private
    /// and link-local addresses.
    pub webhook_allow_private: bool,
    /// `Authorization: Bearer <token>` that opens `GET /metrics` to callers
    /// other than loopback; None: loopback only.
    pub metrics_token: Option<String>,
}

impl HttpSettings {
    /// The documented defaults (config/default.toml), with attachments
    /// under `dir`.
    pub fn defaults_in(dir: &std::path::Path) -> HttpSettings {
        HttpSettings {
            attachment_dir: dir.join("attachments"),
            attachment_max_bytes: 10 * 1024 * 1024,
            idempotency_ttl: std::time::Duration::from_secs(24 * 3600),
            cors_allowed_origins: Vec::new(),
            login_rate: (10, std::time::Duration::from_secs(60)),
            magic_link_ttl: std::time::Duration::from_secs(15 * 60),
            webhook_allow_private: false,
            metrics_token: None,
        }
    }
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

    /// Runs `f` on a blocking thread for the caller behind `credential`,
    /// loaded there first, with all of the request's store work on one
    /// pooled connection (`Store::on_one_connection`): one hop off the
    /// async worker and one checkout, where a `Caller` extractor and a
    /// `blocking` call take two of each.
    pub async fn blocking_for<T, F>(
        &self,
        credential: crate::caller::Credential,
        f: F,
    ) -> Result<T, ApiError>
    where
        F: FnOnce(&AppState, &crate::caller::Caller) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.blocking(move |s| {
            s.store.on_one_connection(|| {
                let caller = credential.load(s)?;
                f(s, &caller)
            })
        })
        .await
    }

    pub fn icon_url(&self, path: &str) -> String {
        format!("{}{}", self.public_url, path)
    }
}
