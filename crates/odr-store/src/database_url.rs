//! The configured database, parsed once. The scheme alone decides the backend:
//! diesel's `MultiConnection::establish` tries backends in order and SQLite
//! accepts any string as a file name, so a mistyped PostgreSQL URL would
//! silently become a new empty SQLite file.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::connection::Backend;
use crate::error::StoreError;

const SQLITE_SCHEME: &str = "sqlite://";
const POSTGRES_SCHEMES: [&str; 2] = ["postgres://", "postgresql://"];

/// A database URL: `sqlite://PATH` (relative paths are resolved against the
/// working directory at parse time; `sqlite:///abs/path` is absolute) or
/// `postgres://…` / `postgresql://…` (handed to libpq as written).
///
/// `Display` and `Debug` hide the password, so the value is safe to log.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    target: Target,
}

#[derive(Clone, PartialEq, Eq)]
enum Target {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let url = url.trim();
        if let Some(path) = url.strip_prefix(SQLITE_SCHEME) {
            if path.is_empty() {
                return Err(StoreError::InvalidUrl(
                    "sqlite:// needs a file path, e.g. sqlite://data/odr.db".into(),
                ));
            }
            let path = Path::new(path);
            let path = if path.is_absolute() {
                path.to_path_buf()
            } else {
                let cwd = std::env::current_dir().map_err(|e| {
                    StoreError::InvalidUrl(format!("cannot resolve relative SQLite path: {e}"))
                })?;
                cwd.join(path)
            };
            return Ok(Self {
                target: Target::Sqlite(path),
            });
        }
        if POSTGRES_SCHEMES
            .iter()
            .any(|scheme| url.starts_with(scheme))
        {
            return Ok(Self {
                target: Target::Postgres(url.to_owned()),
            });
        }
        let shown = mask_password(url);
        Err(StoreError::InvalidUrl(format!(
            "`{shown}` has no known scheme; use sqlite://PATH or postgres://USER@HOST/DB"
        )))
    }

    pub fn backend(&self) -> Backend {
        match self.target {
            Target::Sqlite(_) => Backend::Sqlite,
            Target::Postgres(_) => Backend::Postgres,
        }
    }

    /// The absolute path of the SQLite file; `None` for PostgreSQL.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.target {
            Target::Sqlite(path) => Some(path),
            Target::Postgres(_) => None,
        }
    }

    /// The URL with any password replaced by `***`; SQLite shows its absolute path.
    pub fn display_safe(&self) -> String {
        match &self.target {
            Target::Sqlite(path) => format!("{SQLITE_SCHEME}{}", path.display()),
            Target::Postgres(url) => mask_password(url),
        }
    }

    /// What the driver is given. For PostgreSQL a libpq `connect_timeout` is
    /// added unless the URL has one, so an unreachable host cannot hang a
    /// pool thread forever (libpq's default is to wait indefinitely).
    pub(crate) fn driver_url(&self, connect_timeout: Duration) -> String {
        match &self.target {
            Target::Sqlite(path) => path.to_string_lossy().into_owned(),
            Target::Postgres(url) if url.contains("connect_timeout=") => url.clone(),
            Target::Postgres(url) => {
                // libpq rounds anything below 2 seconds up to 2.
                let seconds = connect_timeout.as_secs_f64().ceil().max(2.0) as u64;
                let separator = if url.contains('?') { '&' } else { '?' };
                format!("{url}{separator}connect_timeout={seconds}")
            }
        }
    }
}

impl FromStr for DatabaseUrl {
    type Err = StoreError;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        Self::parse(url)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_safe())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl")
            .field(&self.display_safe())
            .finish()
    }
}

/// Hides the password in `scheme://user:password@host/...` and in a
/// `password=` query parameter.
fn mask_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let mut masked = url[..scheme_end].to_owned();
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            match userinfo.find(':') {
                Some(colon) => {
                    masked.push_str(&userinfo[..colon]);
                    masked.push_str(":***");
                }
                None => masked.push_str(userinfo),
            }
            masked.push_str(&authority[at..]);
        }
        None => masked.push_str(authority),
    }
    let tail = &rest[authority_end..];
    match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                    _ => pair.to_owned(),
                })
                .collect();
            masked.push_str(path);
            masked.push('?');
            masked.push_str(&query.join("&"));
        }
        None => masked.push_str(tail),
    }
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> DatabaseUrl {
        DatabaseUrl::parse(url).expect("the URL should parse")
    }

    #[test]
    fn scheme_chooses_the_backend() {
        assert_eq!(parse("sqlite://odr.db").backend(), Backend::Sqlite);
        assert_eq!(parse("postgres://db/odr").backend(), Backend::Postgres);
        assert_eq!(parse("postgresql://db/odr").backend(), Backend::Postgres);
    }

    #[test]
    fn unknown_or_missing_schemes_are_refused_instead_of_becoming_sqlite_files() {
        for url in [
            "odr.db",
            "mysql://db/odr",
            "postgre://db/odr",
            "sqlite://",
            "",
        ] {
            let error = DatabaseUrl::parse(url).expect_err(url);
            assert!(
                matches!(error, StoreError::InvalidUrl(_)),
                "{url}: {error:?}"
            );
        }
    }

    #[test]
    fn relative_sqlite_paths_resolve_against_the_working_directory() {
        let cwd = std::env::current_dir().expect("working directory");
        let url = parse("sqlite://data/odr.db");
        assert_eq!(url.sqlite_path(), Some(cwd.join("data/odr.db").as_path()));
        let absolute = parse("sqlite:///var/lib/odr/odr.db");
        assert_eq!(
            absolute.sqlite_path(),
            Some(Path::new("/var/lib/odr/odr.db"))
        );
        assert_eq!(absolute.display_safe(), "sqlite:///var/lib/odr/odr.db");
    }

    #[test]
    fn passwords_never_reach_logs() {
        let url = parse("postgres://odr:s3cr%40t@db.example:5432/odr?sslmode=require");
        assert_eq!(
            url.display_safe(),
            "postgres://odr:***@db.example:5432/odr?sslmode=require"
        );
        assert!(!format!("{url} {url:?}").contains("s3cr"));
        let url = parse("postgresql://db/odr?user=odr&password=hunter2");
        assert_eq!(
            url.display_safe(),
            "postgresql://db/odr?user=odr&password=***"
        );
        assert_eq!(
            parse("postgres://odr@db/odr").display_safe(),
            "postgres://odr@db/odr"
        );
        let error = DatabaseUrl::parse("mysql://root:hunter2@db/odr").expect_err("mysql");
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }

    #[test]
    fn postgres_gets_a_connect_timeout_unless_it_has_one() {
        let timeout = Duration::from_millis(300);
        assert_eq!(
            parse("postgres://db/odr").driver_url(timeout),
            "postgres://db/odr?connect_timeout=2"
        );
        assert_eq!(
            parse("postgres://db/odr?sslmode=disable").driver_url(Duration::from_secs(5)),
            "postgres://db/odr?sslmode=disable&connect_timeout=5"
        );
        assert_eq!(
            parse("postgres://db/odr?connect_timeout=9").driver_url(timeout),
            "postgres://db/odr?connect_timeout=9"
        );
    }
}
