use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A config file that is removed when the test ends.
struct TempFile(PathBuf);
impl TempFile {
    fn new(name: &str, text: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("odr-config-{}-{name}.toml", std::process::id()));
        std::fs::write(&path, text).expect("temp dir is writable");
        TempFile(path)
    }
}
impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn problems(result: Result<Settings, ConfigError>) -> Vec<String> {
    match result {
        Err(ConfigError::Invalid { problems }) => problems.iter().map(Problem::to_string).collect(),
        other => panic!("expected invalid settings, got {other:?}"),
    }
}

const DAY: u64 = 24 * 3600;

#[test]
fn defaults_are_the_documented_ones() {
    let s = load_from(None, env(&[])).expect("built-in defaults load");
    assert_eq!(s.database_url, "sqlite://data/odr.db");
    assert_eq!(s.listen, "127.0.0.1:8080");
    assert_eq!(s.public_url, "http://127.0.0.1:8080");
    assert_eq!(s.smtp_url, None);
    assert_eq!(s.mail_from, "ODR <no-reply@localhost>");
    assert_eq!(s.jwt_secret, None);
    assert_eq!(s.encryption_key, None);
    assert_eq!(s.token_ttl, Duration::from_secs(3600));
    assert_eq!(s.magic_link_ttl, Duration::from_secs(15 * 60));
    assert_eq!(s.sqlite_synchronous, SqliteSynchronous::Full);
    assert_eq!(s.reminder_lead, Duration::from_secs(DAY));
    assert_eq!(
        (s.admin_email.as_deref(), s.admin_password.as_deref()),
        (None, None)
    );
    assert_eq!(s.deadline_acknowledge, Duration::from_secs(2 * DAY));
    assert_eq!(s.deadline_offer, Duration::from_secs(14 * DAY));
    assert_eq!(s.deadline_reoffer, Duration::from_secs(7 * DAY));
    assert_eq!(s.deadline_offer_expiry, Duration::from_secs(7 * DAY));
    assert_eq!(s.deadline_fulfil, Duration::from_secs(14 * DAY));
    assert_eq!(s.deadline_decide, Duration::from_secs(30 * DAY));
    assert_eq!(s.scheduler_interval, Duration::from_secs(30));
    assert_eq!(s.max_offers, 3);
    assert!(!s.auto_assign);
    assert_eq!(
        s.login_rate(),
        Rate {
            count: 10,
            per: Duration::from_secs(60)
        }
    );
    assert_eq!(
        s.magic_link_rate(),
        Rate {
            count: 5,
            per: Duration::from_secs(3600)
        }
    );
    assert_eq!(s.pool_size, 10);
    assert_eq!(s.log, "info");
    assert_eq!(s.attachment_max_bytes, 10 * 1024 * 1024);
    assert!(!s.webhook_allow_private);
    assert_eq!(s.metrics_token, None);
}

#[test]
fn default_toml_documents_every_setting() {
    for key in setting_names() {
        let documented = DEFAULTS.lines().any(|line| {
            let line = line.trim_start_matches('#').trim_start();
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        });
        assert!(documented, "config/default.toml does not mention `{key}`");
    }
}

#[test]
fn file_overrides_defaults() {
    let file = TempFile::new(
        "file-overrides",
        "deadline_acknowledge = \"36h\"\nmax_offers = 5\npublic_url = \"https://odr.example.org/\"\n",
    );
    let s = load_from(Some(&file.0), env(&[])).expect("file loads");
    assert_eq!(s.deadline_acknowledge, Duration::from_secs(36 * 3600));
    assert_eq!(s.max_offers, 5);
    assert_eq!(
        s.public_url, "https://odr.example.org",
        "trailing slash is trimmed"
    );
    assert_eq!(
        s.deadline_offer,
        Duration::from_secs(14 * DAY),
        "untouched keys keep defaults"
    );
}

#[test]
fn environment_overrides_file() {
    let file = TempFile::new("env-overrides", "token_ttl = \"2h\"\nmax_offers = 5\n");
    let vars = env(&[
        ("ODR_TOKEN_TTL", "1h 30m"),
        ("ODR_MAX_OFFERS", "7"),
        ("ODR_AUTO_ASSIGN", "true"),
        ("ODR_DEADLINE_OFFER_EXPIRY", "5s"),
        ("ODR_DEADLINE_REOFFER", "3d"),
        ("ODR_SQLITE_SYNCHRONOUS", "normal"),
        ("ODR_DATABASE_URL", "postgres://odr:pw@db:5432/odr"),
        ("ODR_JWT_SECRET", "0123456789abcdef0123456789abcdef"),
        ("ODR_POOL_SIZE", "4"),
    ]);
    let s = load_from(Some(&file.0), vars).expect("env loads");
    assert_eq!(s.token_ttl, Duration::from_secs(90 * 60));
    assert_eq!(s.max_offers, 7);
    assert!(s.auto_assign);
    assert_eq!(s.deadline_offer_expiry, Duration::from_secs(5));
    assert_eq!(s.deadline_reoffer, Duration::from_secs(3 * DAY));
    assert_eq!(s.sqlite_synchronous, SqliteSynchronous::Normal);
    assert_eq!(s.database_url, "postgres://odr:pw@db:5432/odr");
    assert_eq!(s.pool_size, 4);
}

#[test]
fn bad_duration_in_environment_names_the_variable() {
    let result = load_from(None, env(&[("ODR_TOKEN_TTL", "banana")]));
    assert_eq!(
        problems(result),
        ["ODR_TOKEN_TTL: invalid duration `banana`: expected a number followed by a unit like 1h or 30m"]
    );
}

#[test]
fn bad_duration_in_file_names_key_and_file() {
    let file = TempFile::new("bad-duration", "deadline_decide = \"soon\"\n");
    let message = problems(load_from(Some(&file.0), env(&[]))).join("\n");
    assert!(message.starts_with("deadline_decide in "), "{message}");
    assert!(message.contains(&file.0.display().to_string()), "{message}");
    assert!(message.contains("invalid duration `soon`"), "{message}");
}

#[test]
fn unknown_environment_variables_are_ignored() {
    let vars = env(&[
        (
            "ODR_TEST_POSTGRES_URL",
            "postgres://postgres@127.0.0.1/postgres",
        ),
        ("ODR_NOT_A_SETTING", "x"),
        ("odr_token_ttl", "banana"),
        ("PATH", "/usr/bin"),
    ]);
    let s = load_from(None, vars.clone()).expect("unknown variables are ignored");
    assert_eq!(s.token_ttl, Duration::from_secs(3600));
    assert_eq!(
        unrecognised_env(vars),
        ["ODR_TEST_POSTGRES_URL", "ODR_NOT_A_SETTING"]
    );
}

#[test]
fn unknown_key_in_file_is_an_error() {
    let file = TempFile::new("unknown-key", "token_tll = \"1h\"\n");
    let message = problems(load_from(Some(&file.0), env(&[]))).join("\n");
    assert!(message.starts_with("token_tll in "), "{message}");
    assert!(message.contains("not a setting"), "{message}");
}

#[test]
fn missing_config_file_is_an_error() {
    let path = Path::new("/nonexistent/odr.toml");
    let error = load_from(Some(path), env(&[])).expect_err("missing file");
    assert!(
        error
            .to_string()
            .starts_with("cannot read config file /nonexistent/odr.toml"),
        "{error}"
    );
}

#[test]
fn bad_number_and_bad_choice_name_the_variable() {
    let message = problems(load_from(None, env(&[("ODR_MAX_OFFERS", "many")]))).join("\n");
    assert_eq!(message, "ODR_MAX_OFFERS: `many` is not a whole number");
    let message = problems(load_from(None, env(&[("ODR_SQLITE_SYNCHRONOUS", "off")]))).join("\n");
    assert!(message.starts_with("ODR_SQLITE_SYNCHRONOUS: "), "{message}");
    assert!(
        message.contains("full") && message.contains("normal"),
        "{message}"
    );
}

#[test]
fn invalid_values_are_all_reported_with_their_variables() {
    let vars = env(&[
        ("ODR_JWT_SECRET", "too-short"),
        ("ODR_DATABASE_URL", "mysql://db/odr"),
        ("ODR_LISTEN", "localhost"),
        ("ODR_PUBLIC_URL", "odr.example.org"),
        ("ODR_RATE_LIMIT_LOGIN", "lots"),
        ("ODR_SCHEDULER_INTERVAL", "0s"),
        ("ODR_ADMIN_EMAIL", "admin@example.org"),
    ]);
    let found = problems(load_from(None, vars));
    for expected in [
        "ODR_DATABASE_URL: ",
        "ODR_LISTEN: ",
        "ODR_PUBLIC_URL: ",
        "ODR_JWT_SECRET: must be at least 32 bytes",
        "ODR_ADMIN_EMAIL: is set, so ODR_ADMIN_PASSWORD must be too",
        "ODR_RATE_LIMIT_LOGIN: invalid rate `lots`",
        "ODR_SCHEDULER_INTERVAL: ",
    ] {
        assert!(
            found.iter().any(|p| p.starts_with(expected)),
            "no `{expected}` in {found:#?}"
        );
    }
    assert_eq!(found.len(), 7, "{found:#?}");
}

#[test]
fn empty_variable_leaves_an_optional_setting_unset() {
    let s = load_from(None, env(&[("ODR_SMTP_URL", ""), ("ODR_JWT_SECRET", " ")])).expect("loads");
    assert_eq!(s.smtp_url, None);
    assert_eq!(s.jwt_secret, None);
}

#[test]
fn encryption_key_must_be_32_bytes_of_base64() {
    let good = "q2W0r5Zf0l2QmXyP0m1nX3b8sV7cJ9tKfLr4HdE6YgA=";
    assert!(load_from(None, env(&[("ODR_ENCRYPTION_KEY", good)])).is_ok());
    let message = problems(load_from(None, env(&[("ODR_ENCRYPTION_KEY", "c2hvcnQ=")]))).join("\n");
    assert!(
        message.starts_with("ODR_ENCRYPTION_KEY: must be 32 bytes in base64"),
        "{message}"
    );
}

#[test]
fn rates_read_count_and_period() {
    assert_eq!(
        parse_rate("10/min"),
        Ok(Rate {
            count: 10,
            per: Duration::from_secs(60)
        })
    );
    assert_eq!(
        parse_rate("5/h"),
        Ok(Rate {
            count: 5,
            per: Duration::from_secs(3600)
        })
    );
    assert_eq!(
        parse_rate("100/15m"),
        Ok(Rate {
            count: 100,
            per: Duration::from_secs(900)
        })
    );
    assert!(parse_rate("0/min").is_err());
    assert!(parse_rate("10").is_err());
    assert!(parse_rate("ten/min").is_err());
}

#[test]
fn debug_output_hides_secrets() {
    let vars = env(&[
        ("ODR_JWT_SECRET", "0123456789abcdef0123456789abcdef"),
        ("ODR_ADMIN_EMAIL", "admin@example.org"),
        ("ODR_ADMIN_PASSWORD", "hunter2-hunter2"),
        (
            "ODR_SMTP_URL",
            "smtps://mailer:mailpass@mail.example.org:465",
        ),
        ("ODR_DATABASE_URL", "postgres://odr:dbpass@db/odr"),
    ]);
    let shown = format!("{:?}", load_from(None, vars).expect("loads"));
    for secret in ["0123456789abcdef", "hunter2", "mailpass", "dbpass"] {
        assert!(!shown.contains(secret), "`{secret}` leaked into {shown}");
    }
    assert!(
        shown.contains("smtps://mailer:***@mail.example.org:465"),
        "{shown}"
    );
}

#[test]
fn every_setting_has_its_environment_name() {
    let names: Vec<String> = setting_names().iter().map(|k| env_name(k)).collect();
    for expected in [
        "ODR_DATABASE_URL",
        "ODR_DEADLINE_ACKNOWLEDGE",
        "ODR_DEADLINE_OFFER_EXPIRY",
        "ODR_DEADLINE_REOFFER",
        "ODR_TOKEN_TTL",
        "ODR_SQLITE_SYNCHRONOUS",
        "ODR_MAX_OFFERS",
        "ODR_AUTO_ASSIGN",
        "ODR_POOL_SIZE",
        "ODR_LOG",
        "ODR_MAIL_DIR",
        "ODR_MAIL_MAX_ATTEMPTS",
        "ODR_MAIL_LEASE",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    assert_eq!(names.len(), 39);
}

#[test]
fn list_settings_take_comma_separated_values_from_the_environment() {
    let s = load_from(
        None,
        [(
            "ODR_CORS_ALLOWED_ORIGINS".to_owned(),
            "https://a.example, https://b.example".to_owned(),
        )],
    )
    .expect("loads");
    assert_eq!(
        s.cors_allowed_origins,
        vec!["https://a.example", "https://b.example"]
    );
}
