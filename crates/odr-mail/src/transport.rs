//! Where mail goes: an SMTP server named by `ODR_SMTP_URL`, or, when that is
//! unset, one `.eml` file per mail in a directory (the demo's mailbox).
//!
//! `smtp://host:port` is plain SMTP without TLS or authentication (a relay
//! on the same machine or a test sink); `smtp+starttls://user:pass@host:port`
//! upgrades with STARTTLS and refuses servers that cannot;
//! `smtps://user:pass@host:port` speaks TLS from the first byte. TLS is
//! rustls with Mozilla's roots. Connections are pooled and every SMTP
//! command has a timeout, so a hung server fails an attempt instead of
//! stalling the worker.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use percent_encoding::percent_decode_str;

/// SMTP connections kept open per process; also the worker's default
/// number of mails in flight (see `WorkerOptions::concurrency`).
pub(crate) const POOL_SIZE: u32 = 8;
/// An idle pooled connection is closed after this long.
const POOL_IDLE: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("ODR_SMTP_URL is not usable: {0}")]
    InvalidUrl(String),
    #[error("cannot create the mail directory {}: {source}", path.display())]
    MailDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the SMTP transport must be built inside a Tokio runtime (its pool runs a cleanup task)"
    )]
    NoRuntime,
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("writing the mail file failed: {0}")]
    File(#[from] lettre::transport::file::Error),
}

impl TransportError {
    /// The server refused this mail for good (a 5xx answer): sending it
    /// again will not help.
    pub fn is_permanent(&self) -> bool {
        matches!(self, TransportError::Smtp(e) if e.is_permanent())
    }
}

/// Each variant keeps what `describe` shows beside the transport.
pub enum MailTransport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>, SmtpEndpoint),
    Files(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

/// The SMTP server as `ODR_SMTP_URL` named it, without the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpEndpoint {
    pub scheme: String,
    pub user: Option<String>,
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for SmtpEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://", self.scheme)?;
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl MailTransport {
    /// From `ODR_SMTP_URL` (or none: files under `mail_dir`, created if
    /// missing). `timeout` bounds connecting and each SMTP command. An SMTP
    /// transport must be built inside the Tokio runtime that will use it.
    pub fn from_settings(
        smtp_url: Option<&str>,
        mail_dir: &Path,
        timeout: Duration,
    ) -> Result<MailTransport, TransportError> {
        match smtp_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => {
                if tokio::runtime::Handle::try_current().is_err() {
                    return Err(TransportError::NoRuntime);
                }
                let (transport, endpoint) = smtp(url, timeout)?;
                Ok(MailTransport::Smtp(transport, endpoint))
            }
            None => {
                std::fs::create_dir_all(mail_dir).map_err(|source| TransportError::MailDir {
                    path: mail_dir.to_owned(),
                    source,
                })?;
                let dir = std::path::absolute(mail_dir).unwrap_or_else(|_| mail_dir.to_owned());
                Ok(MailTransport::Files(AsyncFileTransport::new(&dir), dir))
            }
        }
    }

    pub async fn send(&self, message: Message) -> Result<(), TransportError> {
        match self {
            MailTransport::Smtp(smtp, _) => {
                smtp.send(message).await?;
            }
            MailTransport::Files(files, _) => {
                files.send(message).await?;
            }
        }
        Ok(())
    }

    /// For logs and the start-up banner; never contains a password.
    pub fn describe(&self) -> String {
        match self {
            MailTransport::Smtp(_, endpoint) => format!("SMTP server {endpoint}"),
            MailTransport::Files(_, dir) => format!(".eml files in {}", dir.display()),
        }
    }
}

fn decoded(text: &str, what: &str) -> Result<String, TransportError> {
    percent_decode_str(text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| TransportError::InvalidUrl(format!("the {what} is not UTF-8 once decoded")))
}

type Smtp = (AsyncSmtpTransport<Tokio1Executor>, SmtpEndpoint);

fn smtp(raw: &str, timeout: Duration) -> Result<Smtp, TransportError> {
    // Never echo `raw`: it may hold a password.
    let url =
        url::Url::parse(raw).map_err(|e| TransportError::InvalidUrl(format!("not a URL ({e})")))?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| TransportError::InvalidUrl("no host".into()))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let tls = |required: bool| -> Result<Tls, TransportError> {
        let parameters = TlsParameters::new(host.clone())?;
        Ok(if required {
            Tls::Required(parameters)
        } else {
            Tls::Wrapper(parameters)
        })
    };
    let (tls, default_port) = match url.scheme() {
        "smtp" => (Tls::None, 25),
        "smtp+starttls" => (tls(true)?, 587),
        "smtps" => (tls(false)?, 465),
        other => {
            return Err(TransportError::InvalidUrl(format!(
                "unknown scheme {other:?} (use smtp://, smtp+starttls:// or smtps://)"
            )))
        }
    };
    let has_user = !url.username().is_empty() || url.password().is_some();
    if has_user && matches!(tls, Tls::None) {
        return Err(TransportError::InvalidUrl(
            "smtp:// sends no credentials in clear text; use smtp+starttls:// or smtps://".into(),
        ));
    }
    let user = match url.username() {
        "" => None,
        user => Some(decoded(user, "user name")?),
    };
    let endpoint = SmtpEndpoint {
        scheme: url.scheme().to_owned(),
        user: user.clone(),
        host: host.clone(),
        port: url.port().unwrap_or(default_port),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(endpoint.port)
        .tls(tls)
        .timeout(Some(timeout))
        .pool_config(
            PoolConfig::new()
                .max_size(POOL_SIZE)
                .idle_timeout(POOL_IDLE),
        );
    if has_user {
        builder = builder.credentials(Credentials::new(
            user.unwrap_or_default(),
            decoded(url.password().unwrap_or_default(), "password")?,
        ));
    }
    Ok((builder.build(), endpoint))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(url: &str) -> Result<MailTransport, TransportError> {
        MailTransport::from_settings(Some(url), Path::new("/nonexistent"), Duration::from_secs(5))
    }

    #[tokio::test]
    async fn the_three_smtp_schemes_are_understood_and_passwords_never_shown() {
        for (url, shows) in [
            ("smtp://127.0.0.1:2525", ["127.0.0.1", "2525"]),
            (
                "smtp+starttls://me%40x:s%3Acr%2Fet@mail.example.org:587",
                ["smtp+starttls://me@x@mail.example.org", "587"],
            ),
            (
                "smtps://me:secret-pass@mail.example.org",
                ["smtps://me@mail.example.org:465", "465"],
            ),
        ] {
            let shown = build(url).expect(url).describe();
            for part in shows {
                assert!(shown.contains(part), "{url}: {shown}");
            }
            for secret in ["secret", "s:cr/et", "s%3Acr"] {
                assert!(!shown.contains(secret), "{url} leaks its password: {shown}");
            }
        }
    }

    #[tokio::test]
    async fn credentials_are_percent_decoded() {
        let shown = build("smtp+starttls://me%40x.org:pw@mail.example.org")
            .expect("url")
            .describe();
        assert!(shown.contains("me@x.org"), "{shown}");
    }

    #[test]
    fn outside_a_runtime_smtp_is_an_error_not_a_panic() {
        assert!(matches!(
            build("smtp://127.0.0.1:2525"),
            Err(TransportError::NoRuntime)
        ));
    }

    #[tokio::test]
    async fn unusable_urls_are_refused_without_echoing_them() {
        for url in [
            "http://mail.example.org",
            "smtp://",
            "not a url",
            "smtp://user:hunter2@mail.example.org",
        ] {
            let error = build(url).err().expect(url).to_string();
            assert!(!error.contains("hunter2"), "{error}");
        }
    }

    #[test]
    fn without_a_url_mail_goes_to_files_in_a_created_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mail_dir = dir.path().join("data/mail");
        for url in [None, Some(""), Some("  ")] {
            let transport = MailTransport::from_settings(url, &mail_dir, Duration::from_secs(1))
                .expect("files");
            assert!(matches!(transport, MailTransport::Files(..)));
            assert!(
                transport.describe().contains("data/mail"),
                "{}",
                transport.describe()
            );
        }
        assert!(mail_dir.is_dir());
    }
}
