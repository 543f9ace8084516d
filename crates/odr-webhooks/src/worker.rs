//! The delivery worker: claims due deliveries (a short transaction that
//! leases them), checks the endpoint's address again, posts the signed body
//! pinned to the addresses just checked, and records the attempt by id and
//! claim token. At least once: a crash between posting and recording posts
//! the same event (same id) again after the lease.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use odr_store::webhooks::{ClaimedDelivery, DeliveryOutcome, WebhookRetry};
use odr_store::{SecretKeeper, Store, StoreError};

use crate::address::{check_url, AddressPolicy, Target};
use crate::signature::sign;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorkerSettings {
    pub addresses: AddressPolicy,
    /// A 2xx within this long counts as delivered.
    pub timeout: Duration,
    /// Deliveries claimed at once.
    pub batch: i64,
    /// How long a claim is the worker's alone; longer than a whole batch.
    pub lease: Duration,
    /// How often to look for due deliveries.
    pub poll_every: Duration,
    pub retry: WebhookRetry,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            addresses: AddressPolicy::default(),
            timeout: Duration::from_secs(10),
            batch: 20,
            lease: Duration::from_secs(300),
            poll_every: Duration::from_secs(1),
            retry: WebhookRetry::default(),
        }
    }
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchReport {
    pub claimed: usize,
    pub delivered: usize,
    pub retrying: usize,
    pub dead: usize,
    /// Endpoints disabled by this pass.
    pub disabled: usize,
    /// Recorded by another worker that took over the lease.
    pub superseded: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a database task did not finish: {0}")]
    Task(String),
}

/// How one attempt went.
enum Attempt {
    Delivered(u16),
    Failed { status: Option<u16>, error: String },
}

pub struct DeliveryWorker {
    store: Store,
    keeper: SecretKeeper,
    settings: WorkerSettings,
}

impl DeliveryWorker {
    pub fn new(store: Store, keeper: SecretKeeper, settings: WorkerSettings) -> DeliveryWorker {
        DeliveryWorker {
            store,
            keeper,
            settings,
        }
    }

    /// One pass at `now`: claims what is due then and tries each once.
    /// An error means the database could not be reached.
    pub async fn run_batch(&self, now: DateTime<Utc>) -> Result<BatchReport, WorkerError> {
        let (lease, batch) = (self.settings.lease, self.settings.batch);
        let claimed = self
            .blocking(move |store| store.claim_webhook_deliveries(now, lease, batch))
            .await?;
        let mut report = BatchReport {
            claimed: claimed.len(),
            ..BatchReport::default()
        };
        for delivery in claimed {
            let attempt = self.attempt(&delivery, now).await;
            let retry = self.settings.retry;
            match attempt {
                Attempt::Delivered(code) => {
                    let d = delivery.clone();
                    let ours = self
                        .blocking(move |store| store.record_webhook_delivered(&d, code, now))
                        .await?;
                    if ours {
                        report.delivered += 1;
                    } else {
                        report.superseded += 1;
                    }
                }
                Attempt::Failed { status, error } => {
                    tracing::info!(delivery = %delivery.id, url = %delivery.url, %error, "webhook delivery failed");
                    let d = delivery.clone();
                    let recorded = self
                        .blocking(move |store| {
                            store.record_webhook_failed(&d, status, &error, now, &retry)
                        })
                        .await;
                    match recorded {
                        Ok(DeliveryOutcome::Retrying(_)) => report.retrying += 1,
                        Ok(DeliveryOutcome::Dead) => report.dead += 1,
                        Ok(DeliveryOutcome::EndpointDisabled) => {
                            tracing::warn!(endpoint = %delivery.endpoint_id, "webhook endpoint disabled after failing too long");
                            report.disabled += 1;
                            report.dead += 1;
                        }
                        Err(WorkerError::Store(StoreError::Conflict(_))) => report.superseded += 1,
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(report)
    }

    /// Checks the address, signs and posts; never follows a redirect.
    async fn attempt(&self, d: &ClaimedDelivery, now: DateTime<Utc>) -> Attempt {
        let failed = |error: String| Attempt::Failed {
            status: None,
            error,
        };
        let secret = match self.keeper.open(&d.sealed_secret) {
            Ok(secret) => secret,
            Err(e) => return failed(format!("the endpoint's secret cannot be opened: {e}")),
        };
        let target = match check_url(&d.url, self.settings.addresses).await {
            Ok(target) => target,
            Err(refusal) => return failed(format!("address refused: {refusal}")),
        };
        let client = match self.client(&target) {
            Ok(client) => client,
            Err(e) => return failed(format!("cannot prepare the request: {e}")),
        };
        let signature = sign(&secret, now.timestamp(), &d.body);
        let sent = client
            .post(target.url.clone())
            .header("Content-Type", "application/json")
            .header("User-Agent", "odr-webhooks/1")
            .header("ODR-Event-Id", &d.event_id)
            .header("ODR-Event-Type", &d.event_type)
            .header("ODR-Signature", signature)
            .body(d.body.clone())
            .send()
            .await;
        match sent {
            Ok(answer) => {
                let code = answer.status().as_u16();
                if answer.status().is_success() {
                    Attempt::Delivered(code)
                } else if answer.status().is_redirection() {
                    Attempt::Failed {
                        status: Some(code),
                        error: format!("answered {code}, a redirect; redirects are not followed"),
                    }
                } else {
                    Attempt::Failed {
                        status: Some(code),
                        error: format!("answered {code}"),
                    }
                }
            }
            Err(e) if e.is_timeout() => failed(format!(
                "no answer within {} s",
                self.settings.timeout.as_secs()
            )),
            Err(e) => failed(describe(&e)),
        }
    }

    /// A client that connects only to `target`'s checked addresses.
    fn client(&self, target: &Target) -> Result<reqwest::Client, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.settings.timeout)
            .no_proxy();
        if let Some(host) = &target.host {
            builder = builder.resolve_to_addrs(host, &target.addrs);
        }
        builder.build()
    }

    /// Delivers until `shutdown` completes, a pass every `poll_every` (at
    /// once again after a full batch), with the time from `clock`.
    pub async fn run(self, clock: impl Fn() -> DateTime<Utc>, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        tracing::info!("webhook worker started");
        loop {
            let busy = match self.run_batch(clock()).await {
                Ok(report) => report.claimed as i64 >= self.settings.batch,
                Err(error) => {
                    tracing::warn!(%error, "webhook worker cannot claim deliveries; trying again later");
                    false
                }
            };
            let pause = if busy {
                Duration::ZERO
            } else {
                self.settings.poll_every
            };
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
        tracing::info!("webhook worker stopped");
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T, WorkerError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| WorkerError::Task(e.to_string()))?
            .map_err(WorkerError::Store)
    }
}

/// An error with its causes (reqwest's own message alone says little).
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
