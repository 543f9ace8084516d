//! The outbox worker: claims due rows (a short transaction that leases
//! them), renders and sends each outside any transaction, then acknowledges
//! each by id and claim token. Delivery is at least once: a crash between
//! sending and acknowledging resends the mail after the lease, with the same
//! Message-ID.
//!
//! A failure that can pass (server down, timeout) is retried with backoff; a
//! permanent one (the server refused the mail with 5xx, the row cannot be
//! rendered or addressed) makes the row `dead` at once, for an admin to look
//! at and requeue.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use futures_util::{stream, StreamExt};
use odr_store::delivery::{ClaimedMail, MailStatus, RetryPolicy};
use odr_store::{Store, StoreError};
use tokio::sync::Notify;

use crate::message::Sender;
use crate::render::Renderer;
use crate::transport::MailTransport;

/// The current time; injected so that tests can move it.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorkerOptions {
    /// Rows claimed at once.
    pub batch: i64,
    /// How long a claim is the worker's alone; after that another worker
    /// may take the rows (so it must outlast sending a whole batch).
    pub lease: Duration,
    /// How often to look for due rows when nobody wakes the worker.
    pub poll_every: Duration,
    pub retry: RetryPolicy,
    /// Mails of a batch in flight at once. lettre writes a message's final
    /// `.` apart from its body without TCP_NODELAY, so each SMTP connection
    /// waits out the server's delayed ACK (40 ms on Linux) per mail; several
    /// pooled connections at once hide that wait.
    pub concurrency: usize,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            batch: 20,
            lease: Duration::from_secs(300),
            poll_every: Duration::from_secs(2),
            retry: RetryPolicy::default(),
            concurrency: crate::transport::POOL_SIZE as usize,
        }
    }
}

/// What one pass did with the rows it claimed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    pub claimed: usize,
    pub sent: usize,
    /// Failed and due again later.
    pub failed: usize,
    /// Failed for good (or for the last allowed time).
    pub dead: usize,
    /// Sent or failed, but the lease had passed to another worker meanwhile:
    /// that worker's outcome counts.
    pub superseded: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a database task did not finish: {0}")]
    Task(String),
}

enum Outcome {
    Sent,
    Failed(MailStatus),
    Superseded,
}

/// Why an attempt failed, and whether another attempt could succeed.
struct Failure {
    error: String,
    permanent: bool,
}

pub struct OutboxWorker {
    store: Store,
    renderer: Arc<Renderer>,
    transport: Arc<MailTransport>,
    sender: Sender,
    clock: Clock,
    options: WorkerOptions,
}

impl OutboxWorker {
    pub fn new(
        store: Store,
        renderer: Arc<Renderer>,
        transport: Arc<MailTransport>,
        sender: Sender,
        clock: Clock,
        options: WorkerOptions,
    ) -> OutboxWorker {
        OutboxWorker {
            store,
            renderer,
            transport,
            sender,
            clock,
            options,
        }
    }

    pub fn options(&self) -> &WorkerOptions {
        &self.options
    }

    /// Claims one batch and delivers it, up to `concurrency` mails at once.
    /// An error means the database could not be reached (to claim, or to
    /// record an outcome); failures of single mails are in the report.
    pub async fn run_once(&self) -> Result<DeliveryReport, WorkerError> {
        let (now, lease, batch) = ((self.clock)(), self.options.lease, self.options.batch);
        let claimed = self
            .blocking(move |store| store.claim_mail(now, lease, batch))
            .await?;
        let mut report = DeliveryReport {
            claimed: claimed.len(),
            ..DeliveryReport::default()
        };
        let outcomes: Vec<Result<Outcome, WorkerError>> = stream::iter(claimed)
            .map(|mail| self.deliver(mail))
            .buffer_unordered(self.options.concurrency.max(1))
            .collect()
            .await;
        // Every mail of the batch was tried before an acknowledgement error
        // is reported; an unacknowledged mail is sent again after its lease.
        let mut first_error = None;
        for outcome in outcomes {
            match outcome {
                Ok(Outcome::Sent) => report.sent += 1,
                Ok(Outcome::Failed(MailStatus::Dead)) => report.dead += 1,
                Ok(Outcome::Failed(_)) => report.failed += 1,
                Ok(Outcome::Superseded) => report.superseded += 1,
                Err(error) => {
                    tracing::error!(%error, "recording a delivery failed");
                    first_error.get_or_insert(error);
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(report),
        }
    }

    /// Delivers until `shutdown` completes: a pass, then a wait for `wake`
    /// (notified after a transition commits) or `poll_every`, whichever
    /// comes first. A full batch is followed by the next pass at once. The
    /// pass under way when `shutdown` fires is finished first.
    pub async fn run(self, wake: Arc<Notify>, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        tracing::info!(transport = %self.transport.describe(), "outbox worker started");
        loop {
            let busy = match self.run_once().await {
                Ok(report) => report.claimed as i64 >= self.options.batch,
                Err(error) => {
                    tracing::warn!(%error, "outbox worker cannot claim mail; trying again later");
                    false
                }
            };
            let pause = if busy {
                Duration::ZERO
            } else {
                self.options.poll_every
            };
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = wake.notified() => {}
                () = tokio::time::sleep(pause) => {}
            }
        }
        tracing::info!("outbox worker stopped");
    }

    async fn deliver(&self, mail: ClaimedMail) -> Result<Outcome, WorkerError> {
        let attempt = match self.compose(&mail) {
            Ok(message) => self.transport.send(message).await.map_err(|e| Failure {
                permanent: e.is_permanent(),
                error: e.to_string(),
            }),
            Err(failure) => Err(failure),
        };
        let now = (self.clock)();
        let (id, token) = (mail.id.clone(), mail.claim_token.clone());
        match attempt {
            Ok(()) => {
                let applied = self
                    .blocking(move |store| store.mark_sent(&id, &token, now))
                    .await?;
                if !applied {
                    tracing::warn!(outbox_id = %mail.id, "mail sent after its lease passed to another worker");
                    return Ok(Outcome::Superseded);
                }
                tracing::info!(
                    outbox_id = %mail.id,
                    template = %mail.facts.template,
                    recipient_role = %mail.facts.recipient_role,
                    "mail sent"
                );
                Ok(Outcome::Sent)
            }
            Err(failure) => {
                let policy = if failure.permanent {
                    // No further attempt can succeed: dead now.
                    RetryPolicy {
                        max_attempts: 1,
                        ..self.options.retry
                    }
                } else {
                    self.options.retry
                };
                let error = failure.error.clone();
                let marked = self
                    .blocking(move |store| store.mark_failed(&id, &token, now, &error, &policy))
                    .await;
                let status = match marked {
                    Ok(status) => status,
                    Err(WorkerError::Store(StoreError::Conflict(_))) => {
                        tracing::warn!(outbox_id = %mail.id, "mail failed after its lease passed to another worker");
                        return Ok(Outcome::Superseded);
                    }
                    Err(other) => return Err(other),
                };
                tracing::warn!(
                    outbox_id = %mail.id,
                    template = %mail.facts.template,
                    attempts = mail.attempts + 1,
                    status = status.as_str(),
                    error = %failure.error,
                    "mail not delivered"
                );
                Ok(Outcome::Failed(status))
            }
        }
    }

    fn compose(&self, mail: &ClaimedMail) -> Result<lettre::Message, Failure> {
        let permanent = |error: String| Failure {
            error,
            permanent: true,
        };
        let rendered = self
            .renderer
            .render(&mail.facts)
            .map_err(|e| permanent(format!("rendering failed: {e}")))?;
        let date = SystemTime::from((self.clock)());
        self.sender
            .message(mail, &rendered, date)
            .map_err(|e| permanent(e.to_string()))
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
