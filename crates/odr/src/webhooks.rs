//! Wiring of the webhook delivery worker from the settings.

use chrono::SubsecRound;
use odr_store::{SecretKeeper, Store};
use odr_webhooks::address::AddressPolicy;
use odr_webhooks::{DeliveryWorker, WorkerSettings};

use crate::config::Settings;
use crate::serve::Failure;

pub fn delivery_worker(settings: &Settings, store: Store) -> Result<DeliveryWorker, Failure> {
    let keeper = SecretKeeper::new(settings.encryption_key.as_deref())
        .map_err(|e| format!("ODR_ENCRYPTION_KEY: {e}"))?;
    if settings.webhook_allow_private {
        tracing::warn!(
            "ODR_WEBHOOK_ALLOW_PRIVATE=true: webhooks may call loopback and private addresses"
        );
    }
    Ok(DeliveryWorker::new(
        store,
        keeper,
        WorkerSettings {
            addresses: AddressPolicy {
                allow_private: settings.webhook_allow_private,
            },
            ..WorkerSettings::default()
        },
    ))
}

/// The clock of the worker outside tests.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now().trunc_subsecs(6)
}
