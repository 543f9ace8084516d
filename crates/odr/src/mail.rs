//! Wiring of the mail worker from the settings.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::SubsecRound;
use odr_mail::message::Sender;
use odr_mail::render::Renderer;
use odr_mail::transport::MailTransport;
use odr_mail::worker::{OutboxWorker, WorkerOptions};
use odr_store::delivery::RetryPolicy;
use odr_store::Store;

use crate::config::Settings;
use crate::serve::Failure;

pub fn outbox_worker(settings: &Settings, store: Store) -> Result<OutboxWorker, Failure> {
    let transport = MailTransport::from_settings(
        settings.smtp_url.as_deref(),
        Path::new(&settings.mail_dir),
        Duration::from_secs(30),
    )?;
    match &transport {
        MailTransport::Files(..) => tracing::warn!(
            "ODR_SMTP_URL is not set: mail is NOT sent; it is written as {}",
            transport.describe()
        ),
        MailTransport::Smtp(..) => {
            tracing::info!(transport = %transport.describe(), "mail goes out by SMTP")
        }
    }
    let options = WorkerOptions {
        lease: settings.mail_lease,
        poll_every: settings.mail_poll_interval,
        retry: RetryPolicy {
            max_attempts: settings.mail_max_attempts,
            base: settings.mail_retry_base,
            max: settings.mail_retry_max,
            ..RetryPolicy::default()
        },
        ..WorkerOptions::default()
    };
    Ok(OutboxWorker::new(
        store,
        Arc::new(Renderer::new(&settings.public_url)?),
        Arc::new(transport),
        Sender::new(&settings.mail_from, &settings.public_url)?,
        Arc::new(|| chrono::Utc::now().trunc_subsecs(6)),
        options,
    ))
}
