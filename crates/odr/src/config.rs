//! The binary's settings, layered: the built-in `config/default.toml`, then an
//! optional file named by `--config`, then `ODR_*` environment variables, later
//! winning. Keys are flat, so a key `k` is always the variable `ODR_` + `K` in
//! upper case; the names come from `Settings` itself, so they cannot drift.
//!
//! Values are checked here, once, and every error names the variable or the
//! file key the operator has to fix.

mod layers;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Format, Toml};
use figment::{Figment, Metadata};
use serde::Deserialize;

use layers::{problem_of, setting_names, EnvLayer, Named};

/// The documented defaults, compiled in so the binary runs from any directory.
const DEFAULTS: &str = include_str!("../../../config/default.toml");
const ENV_PREFIX: &str = "ODR_";
const ENV_SOURCE: &str = "environment";
const DEFAULTS_SOURCE: &str = "built-in config/default.toml";

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub database_url: String,
    pub listen: String,
    /// Without a trailing slash.
    pub public_url: String,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub jwt_secret: Option<String>,
    pub encryption_key: Option<String>,
    #[serde(deserialize_with = "duration")]
    pub token_ttl: Duration,
    #[serde(deserialize_with = "duration")]
    pub magic_link_ttl: Duration,
    pub rate_limit_login: String,
    pub rate_limit_magic: String,
    pub metrics_token: Option<String>,
    pub sqlite_synchronous: SqliteSynchronous,
    pub pool_size: u32,
    pub log: String,
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    #[serde(deserialize_with = "duration")]
    pub deadline_acknowledge: Duration,
    #[serde(deserialize_with = "duration")]
    pub deadline_offer: Duration,
    #[serde(deserialize_with = "duration")]
    pub deadline_reoffer: Duration,
    #[serde(deserialize_with = "duration")]
    pub deadline_offer_expiry: Duration,
    #[serde(deserialize_with = "duration")]
    pub deadline_fulfil: Duration,
    #[serde(deserialize_with = "duration")]
    pub deadline_decide: Duration,
    #[serde(deserialize_with = "duration")]
    pub reminder_lead: Duration,
    #[serde(deserialize_with = "duration")]
    pub scheduler_interval: Duration,
    pub mail_dir: String,
    pub mail_max_attempts: u32,
    #[serde(deserialize_with = "duration")]
    pub mail_retry_base: Duration,
    #[serde(deserialize_with = "duration")]
    pub mail_retry_max: Duration,
    #[serde(deserialize_with = "duration")]
    pub mail_lease: Duration,
    #[serde(deserialize_with = "duration")]
    pub mail_poll_interval: Duration,
    pub max_offers: u32,
    pub auto_assign: bool,
    pub attachment_max_bytes: u64,
    pub attachment_dir: String,
    #[serde(deserialize_with = "duration")]
    pub idempotency_ttl: Duration,
    /// Origins (scheme://host[:port]) allowed by CORS; empty: CORS off.
    pub cors_allowed_origins: Vec<String>,
    #[serde(deserialize_with = "duration")]
    pub shutdown_timeout: Duration,
    pub webhook_allow_private: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSynchronous {
    Full,
    Normal,
}

/// A rate limit such as `10/min`: `count` events per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

// The login and magic-link rate limits read these (api.md); loading
// already checks that both parse.
#[cfg_attr(not(test), allow(dead_code))]
impl Settings {
    pub fn login_rate(&self) -> Rate {
        parse_rate(&self.rate_limit_login).expect("validated when loaded")
    }

    pub fn magic_link_rate(&self) -> Rate {
        parse_rate(&self.rate_limit_magic).expect("validated when loaded")
    }
}

/// One thing wrong with the settings, and where it was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `ODR_TOKEN_TTL`, or `token_ttl in FILE`.
    pub setting: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", problems.iter().map(Problem::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid { problems: Vec<Problem> },
}

/// Settings from the defaults, `config_file` and the process environment.
pub fn load(config_file: Option<&Path>) -> Result<Settings, ConfigError> {
    let env = std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)));
    load_from(config_file, env)
}

/// Like [`load`], with the environment given, so tests need not touch the
/// process's own.
pub fn load_from(
    config_file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Settings, ConfigError> {
    let mut figment = Figment::new().merge(Named {
        inner: Toml::string(DEFAULTS),
        metadata: Metadata::named(DEFAULTS_SOURCE),
    });
    if let Some(path) = config_file {
        // Read it ourselves: figment silently skips a missing file, and an
        // operator who names one means it.
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        figment = figment.merge(Named {
            inner: Toml::string(&text),
            metadata: Metadata::from("config file", path),
        });
    }
    figment = figment.merge(EnvLayer::new(env));

    // Lossy: environment values are all text, so `ODR_MAX_OFFERS=5` and
    // `ODR_AUTO_ASSIGN=true` must be read as a number and a bool.
    let mut settings: Settings = figment
        .extract_lossy()
        .map_err(|error| ConfigError::Invalid {
            problems: error.into_iter().map(|e| problem_of(&figment, e)).collect(),
        })?;
    settings.normalise();
    let problems = settings.problems(&figment);
    if problems.is_empty() {
        Ok(settings)
    } else {
        Err(ConfigError::Invalid { problems })
    }
}

/// The `ODR_*` variables in `env` that are not settings (often a typo); the
/// caller may warn about them. They are ignored when loading.
pub fn unrecognised_env(env: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
    let names = setting_names();
    env.into_iter()
        .map(|(name, _)| name)
        .filter(|name| {
            name.strip_prefix(ENV_PREFIX)
                .is_some_and(|rest| !names.iter().any(|k| k.to_ascii_uppercase() == rest))
        })
        .collect()
}

/// The environment variable of a setting: `token_ttl` -> `ODR_TOKEN_TTL`.
pub fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.to_ascii_uppercase())
}

/// `COUNT/PERIOD`, the period a humantime duration whose count may be left
/// out: `10/min`, `5/h`, `100/15m`.
pub fn parse_rate(text: &str) -> Result<Rate, String> {
    let wrong = || format!("invalid rate `{text}`: expected COUNT/PERIOD like 10/min or 5/h");
    let (count, period) = text.trim().split_once('/').ok_or_else(wrong)?;
    let count: u32 = count.trim().parse().map_err(|_| wrong())?;
    let period = period.trim();
    let per = if period.starts_with(|c: char| c.is_ascii_digit()) {
        humantime::parse_duration(period)
    } else {
        humantime::parse_duration(&format!("1{period}"))
    }
    .map_err(|_| wrong())?;
    if count == 0 || per.is_zero() {
        return Err(format!(
            "invalid rate `{text}`: count and period must be above zero"
        ));
    }
    Ok(Rate { count, per })
}

/// Secrets stay out of logs: `Debug` shows only whether they are set.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured without `..` so a new field cannot be forgotten here.
        let Settings {
            database_url,
            listen,
            public_url,
            smtp_url,
            mail_from,
            jwt_secret,
            encryption_key,
            token_ttl,
            magic_link_ttl,
            rate_limit_login,
            rate_limit_magic,
            metrics_token,
            sqlite_synchronous,
            pool_size,
            log,
            admin_email,
            admin_password,
            deadline_acknowledge,
            deadline_offer,
            deadline_reoffer,
            deadline_offer_expiry,
            deadline_fulfil,
            deadline_decide,
            reminder_lead,
            scheduler_interval,
            mail_dir,
            mail_max_attempts,
            mail_retry_base,
            mail_retry_max,
            mail_lease,
            mail_poll_interval,
            max_offers,
            auto_assign,
            attachment_max_bytes,
            attachment_dir,
            idempotency_ttl,
            cors_allowed_origins,
            shutdown_timeout,
            webhook_allow_private,
        } = self;
        let hidden = |secret: &Option<String>| secret.as_ref().map(|_| "<redacted>");
        let human = |d: &Duration| humantime::format_duration(*d).to_string();
        f.debug_struct("Settings")
            .field("database_url", &redact_url(database_url))
            .field("listen", listen)
            .field("public_url", public_url)
            .field("smtp_url", &smtp_url.as_deref().map(redact_url))
            .field("mail_from", mail_from)
            .field("jwt_secret", &hidden(jwt_secret))
            .field("encryption_key", &hidden(encryption_key))
            .field("token_ttl", &human(token_ttl))
            .field("magic_link_ttl", &human(magic_link_ttl))
            .field("rate_limit_login", rate_limit_login)
            .field("rate_limit_magic", rate_limit_magic)
            .field("metrics_token", &hidden(metrics_token))
            .field("sqlite_synchronous", sqlite_synchronous)
            .field("pool_size", pool_size)
            .field("log", log)
            .field("admin_email", admin_email)
            .field("admin_password", &hidden(admin_password))
            .field("deadline_acknowledge", &human(deadline_acknowledge))
            .field("deadline_offer", &human(deadline_offer))
            .field("deadline_reoffer", &human(deadline_reoffer))
            .field("deadline_offer_expiry", &human(deadline_offer_expiry))
            .field("deadline_fulfil", &human(deadline_fulfil))
            .field("deadline_decide", &human(deadline_decide))
            .field("reminder_lead", &human(reminder_lead))
            .field("scheduler_interval", &human(scheduler_interval))
            .field("mail_dir", mail_dir)
            .field("mail_max_attempts", mail_max_attempts)
            .field("mail_retry_base", &human(mail_retry_base))
            .field("mail_retry_max", &human(mail_retry_max))
            .field("mail_lease", &human(mail_lease))
            .field("mail_poll_interval", &human(mail_poll_interval))
            .field("max_offers", max_offers)
            .field("auto_assign", auto_assign)
            .field("attachment_max_bytes", attachment_max_bytes)
            .field("attachment_dir", attachment_dir)
            .field("idempotency_ttl", &human(idempotency_ttl))
            .field("cors_allowed_origins", cors_allowed_origins)
            .field("shutdown_timeout", &human(shutdown_timeout))
            .field("webhook_allow_private", webhook_allow_private)
            .finish()
    }
}

/// `scheme://user:password@host` -> `scheme://user:***@host`.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

fn duration<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    struct HumanDuration;
    impl serde::de::Visitor<'_> for HumanDuration {
        type Value = Duration;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration in quotes, like \"1h\" or \"30m\"")
        }
        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Duration, E> {
            humantime::parse_duration(text.trim()).map_err(|_| {
                E::custom(format!(
                    "invalid duration `{text}`: expected a number followed by a unit like 1h or 30m"
                ))
            })
        }
    }
    deserializer.deserialize_str(HumanDuration)
}

#[cfg(test)]
mod tests;
