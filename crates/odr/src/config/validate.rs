//! What the loaded values must satisfy, beyond their types.

use std::net::SocketAddr;

use figment::Figment;

use super::layers::origin;
use super::{env_name, parse_rate, redact_url, Problem, Settings};

impl Settings {
    pub(super) fn normalise(&mut self) {
        for value in [
            &mut self.smtp_url,
            &mut self.jwt_secret,
            &mut self.encryption_key,
            &mut self.metrics_token,
            &mut self.admin_email,
            &mut self.admin_password,
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                *value = None;
            }
        }
        self.public_url = self.public_url.trim().trim_end_matches('/').to_owned();
    }

    /// Everything wrong with the values, each named as the operator set it.
    pub(super) fn problems(&self, figment: &Figment) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut check = |key: &str, result: Result<(), String>| {
            if let Err(message) = result {
                problems.push(Problem {
                    setting: origin(figment, key),
                    message,
                });
            }
        };

        check("database_url", {
            let url = &self.database_url;
            match ["sqlite://", "postgres://", "postgresql://"]
                .iter()
                .find_map(|scheme| url.strip_prefix(scheme))
            {
                Some("") => Err(format!("`{url}` names no database")),
                Some(_) => Ok(()),
                None => Err(format!(
                    "`{}` is not a database URL: expected sqlite://PATH or postgres://...",
                    redact_url(url)
                )),
            }
        });
        check(
            "listen",
            self.listen.parse::<SocketAddr>().map(drop).map_err(|_| {
                format!(
                    "`{}` is not an address:port like 127.0.0.1:8080",
                    self.listen
                )
            }),
        );
        check("public_url", {
            let rest = ["http://", "https://"]
                .iter()
                .find_map(|scheme| self.public_url.strip_prefix(scheme));
            match rest {
                Some(host) if !host.is_empty() => Ok(()),
                _ => Err(format!(
                    "`{}` is not a URL starting with http:// or https://",
                    self.public_url
                )),
            }
        });
        if let Some(url) = &self.smtp_url {
            let schemes = ["smtp://", "smtp+starttls://", "smtps://"];
            check(
                "smtp_url",
                match schemes.iter().find_map(|scheme| url.strip_prefix(scheme)) {
                    Some(rest) if !rest.is_empty() => Ok(()),
                    _ => Err(format!(
                        "`{}` is not a mail server URL: expected smtp://, smtp+starttls:// or smtps://",
                        redact_url(url)
                    )),
                },
            );
        }
        check(
            "mail_from",
            if self.mail_from.contains('@') {
                Ok(())
            } else {
                Err(format!("`{}` is not a mail address", self.mail_from))
            },
        );
        if let Some(secret) = &self.jwt_secret {
            check(
                "jwt_secret",
                if secret.len() >= 32 {
                    Ok(())
                } else {
                    Err(format!("must be at least 32 bytes, is {}", secret.len()))
                },
            );
        }
        if let Some(key) = &self.encryption_key {
            check("encryption_key", check_base64_key(key));
        }
        match (&self.admin_email, &self.admin_password) {
            (Some(_), None) => check(
                "admin_email",
                Err(format!(
                    "is set, so {} must be too",
                    env_name("admin_password")
                )),
            ),
            (None, Some(_)) => check(
                "admin_password",
                Err(format!(
                    "is set, so {} must be too",
                    env_name("admin_email")
                )),
            ),
            _ => {}
        }
        check(
            "rate_limit_login",
            parse_rate(&self.rate_limit_login).map(drop),
        );
        check(
            "rate_limit_magic",
            parse_rate(&self.rate_limit_magic).map(drop),
        );

        for (key, value) in [
            ("token_ttl", self.token_ttl),
            ("magic_link_ttl", self.magic_link_ttl),
            ("deadline_acknowledge", self.deadline_acknowledge),
            ("deadline_offer", self.deadline_offer),
            ("deadline_reoffer", self.deadline_reoffer),
            ("deadline_offer_expiry", self.deadline_offer_expiry),
            ("deadline_fulfil", self.deadline_fulfil),
            ("deadline_decide", self.deadline_decide),
            ("scheduler_interval", self.scheduler_interval),
            ("mail_retry_base", self.mail_retry_base),
            ("mail_retry_max", self.mail_retry_max),
            ("mail_lease", self.mail_lease),
            ("mail_poll_interval", self.mail_poll_interval),
            ("idempotency_ttl", self.idempotency_ttl),
            ("shutdown_timeout", self.shutdown_timeout),
        ] {
            check(
                key,
                if value.is_zero() {
                    Err("must be longer than 0s".into())
                } else {
                    Ok(())
                },
            );
        }
        for (key, value) in [
            ("pool_size", u64::from(self.pool_size)),
            ("max_offers", u64::from(self.max_offers)),
            ("mail_max_attempts", u64::from(self.mail_max_attempts)),
            ("attachment_max_bytes", self.attachment_max_bytes),
        ] {
            check(
                key,
                if value == 0 {
                    Err("must be at least 1".into())
                } else {
                    Ok(())
                },
            );
        }
        problems
    }
}

/// 32 bytes in base64 are 43 symbols plus one `=` of padding.
fn check_base64_key(key: &str) -> Result<(), String> {
    let symbols = key.trim().trim_end_matches('=');
    let base64 = symbols
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_'));
    if base64 && symbols.len() == 43 {
        Ok(())
    } else {
        Err("must be 32 bytes in base64, e.g. the output of `openssl rand -base64 32`".into())
    }
}
