//! The test kit: the real actix app on a throwaway SQLite file or
//! PostgreSQL database, a clock the test sets, and people to act as.

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::test::TestRequest;
use chrono::{DateTime, TimeZone, Utc};
use odr_domain::complaint::Policy;
use odr_domain::locale::Locale;
use odr_domain::money::Currency;
use odr_domain::Role;
use odr_http::auth::password::PasswordHasher;
use odr_http::auth::token::TokenIssuer;
use odr_http::{AppState, ManualClock};
use odr_store::testing::TestDatabase;
use odr_store::{Backend, NewRetailer, NewUser, Store};
use serde_json::Value;

pub mod smtp;

pub use odr_store::Backend as Db;

/// Runs a test body once on each backend, as `sqlite::name` and
/// `postgres::name`, so that the output says how many ran on each.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[actix_web::test] async fn $name() { super::$name($crate::Db::Sqlite).await })+
        }
        mod postgres {
            $(#[actix_web::test] async fn $name() { super::$name($crate::Db::Postgres).await })+
        }
    };
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
        .single()
        .expect("valid instant")
}

/// A signed-in person: id and bearer token.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub token: String,
}

pub struct World {
    pub retailer_id: String,
    pub other_retailer_id: String,
    pub admin: Person,
    pub staff: Person,
    pub other_staff: Person,
    pub mediator: Person,
    pub other_mediator: Person,
    pub customer: Person,
    pub other_customer: Person,
}

pub struct TestApp {
    pub db: TestDatabase,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    /// A throwaway folder for the files the app keeps (attachments).
    pub files: tempfile::TempDir,
}

impl TestApp {
    pub fn new(backend: Backend) -> TestApp {
        let db = TestDatabase::for_backend(backend);
        let files = tempfile::tempdir().expect("a temporary folder");
        let store = db.migrated_store();
        let clock = Arc::new(ManualClock::new(t0()));
        let tokens = TokenIssuer::new(
            b"test-secret-test-secret-test-secret!",
            "odr",
            "odr-api",
            // Long enough for tests that move the clock by weeks.
            std::time::Duration::from_secs(400 * 24 * 3600),
        )
        .expect("token issuer");
        let state = AppState {
            store,
            tokens: Arc::new(tokens),
            passwords: Arc::new(PasswordHasher::fast_for_tests()),
            policy: Arc::new(Policy::default()),
            rules: odr_store::EngineRules::default(),
            clock: clock.clone(),
            public_url: Arc::from("http://odr.test"),
            mail_queued: Arc::new(tokio::sync::Notify::new()),
            http: Arc::new(odr_http::HttpSettings::defaults_in(files.path())),
            rate_limits: Arc::new(odr_http::rate_limit::RateLimits::new(
                odr_http::HttpSettings::defaults_in(files.path()).login_rate,
            )),
            metrics: Arc::new(odr_http::Metrics::new()),
            secrets: odr_store::SecretKeeper::new(Some(
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            ))
            .expect("test encryption key"),
        };
        TestApp {
            db,
            state,
            clock,
            files,
        }
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Creates a person directly in the store and signs them in.
    pub fn person(&self, email: &str, role: Role, retailer_id: Option<&str>) -> Person {
        let user = self
            .store()
            .create_user(
                NewUser {
                    email: email.into(),
                    password_hash: Some(
                        self.state
                            .passwords
                            .hash("correct horse battery")
                            .expect("hash"),
                    ),
                    display_name: email.split('@').next().unwrap_or("someone").into(),
                    role,
                    retailer_id: retailer_id.map(str::to_owned),
                    locale: Locale::En,
                    time_zone: "UTC".into(),
                },
                format!("{}-{}", role.code(), email.replace(['@', '.'], "-")),
                self.clock_now(),
            )
            .expect("create person");
        let token = self
            .state
            .tokens
            .issue(&user.id, role.code(), user.session_epoch, self.clock_now())
            .expect("token")
            .access_token;
        Person { id: user.id, token }
    }

    pub fn retailer(&self, name: &str) -> String {
        self.store()
            .create_retailer(
                NewRetailer {
                    name: name.into(),
                    support_email: format!(
                        "support@{}.test",
                        name.to_lowercase().replace(' ', "-")
                    ),
                    locale: Locale::De,
                    currency: Currency::default(),
                    time_zone: "UTC".into(),
                },
                format!("retailer-{}", name.to_lowercase().replace(' ', "-")),
                self.clock_now(),
            )
            .expect("create retailer")
            .id
    }

    pub fn world(&self) -> World {
        let retailer_id = self.retailer("Teapot Shop");
        let other_retailer_id = self.retailer("Other Shop");
        World {
            admin: self.person("admin@odr.test", Role::Admin, None),
            staff: self.person("staff@teapot.test", Role::RetailerStaff, Some(&retailer_id)),
            other_staff: self.person(
                "staff@other.test",
                Role::RetailerStaff,
                Some(&other_retailer_id),
            ),
            mediator: self.person("mia@odr.test", Role::Mediator, None),
            other_mediator: self.person("max@odr.test", Role::Mediator, None),
            customer: self.person("chris@example.test", Role::Customer, None),
            other_customer: self.person("eve@example.test", Role::Customer, None),
            retailer_id,
            other_retailer_id,
        }
    }

    fn clock_now(&self) -> DateTime<Utc> {
        use odr_http::Clock;
        self.clock.now()
    }
}

/// An answer: status, JSON body (Null when empty) and headers.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub headers: header::HeaderMap,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Panics with the whole answer when the status is not `expected`.
    #[track_caller]
    pub fn expect(self, expected: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            expected,
            "expected {expected}, got {} with {}",
            self.status,
            self.body
        );
        self.body
    }
}

pub async fn call<S, B>(
    app: &S,
    method: Method,
    path: &str,
    who: Option<&Person>,
    body: Option<Value>,
) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    call_with_headers(app, method, path, who, body, &[]).await
}

/// [`call`] with extra request headers (`Idempotency-Key`, `If-Match`, ...).
pub async fn call_with_headers<S, B>(
    app: &S,
    method: Method,
    path: &str,
    who: Option<&Person>,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let mut req = TestRequest::default().method(method).uri(path);
    for (name, value) in headers {
        req = req.insert_header((*name, *value));
    }
    if let Some(p) = who {
        req = req.insert_header((header::AUTHORIZATION, format!("Bearer {}", p.token)));
    }
    if let Some(b) = body {
        req = req.set_json(b);
    }
    send(app, req).await
}

/// Sends a request built by hand (a raw body, a peer address, ...).
pub async fn send<S, B>(app: &S, req: TestRequest) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let res = match actix_web::test::try_call_service(app, req.to_request()).await {
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => {
            let res = e.error_response();
            let status = res.status();
            let headers = res.headers().clone();
            let bytes = actix_web::body::to_bytes(res.into_body())
                .await
                .unwrap_or_default();
            return answer(status, headers, &bytes);
        }
    };
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = actix_web::test::read_body(res).await;
    answer(status, headers, &bytes)
}

fn answer(status: StatusCode, headers: header::HeaderMap, bytes: &[u8]) -> Answer {
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
    };
    Answer {
        status,
        body,
        headers,
    }
}
