//! The HTTP edge of the ODR engine (actix-web): request decoding, auth
//! primitives, request ids, and the one place errors become RFC 9457
//! problem documents.
//!
//! It translates between HTTP and the domain and store; it owns no business
//! rules (those live in `odr-domain`) and no SQL (that lives in `odr-store`).

pub mod app;
pub mod auth;
pub mod body;
pub mod caller;
pub mod clock;
pub mod framework_errors;
pub mod idempotency;
pub mod metrics;
pub mod pages;
pub mod preconditions;
pub mod problem;
pub mod rate_limit;
pub mod request_id;
pub mod routes;
pub mod security_headers;
pub mod state;
mod translate;
mod views;

pub use app::build as build_app;
pub use body::{BodyLimit, JsonBody, QueryParams};
pub use caller::Caller;
pub use clock::{Clock, ManualClock, SystemClock};
pub use metrics::Metrics;
pub use problem::{ApiError, FieldError};
pub use request_id::RequestId;
pub use state::{AppState, HttpSettings};
