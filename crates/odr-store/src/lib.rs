//! Persistence of the dispute domain over SQLite and PostgreSQL.
//!
//! This crate owns the schema (migrations for both backends, diesel's
//! `schema`), the connection pool, transactions and the mapping between rows
//! and `odr-domain` types. It must not speak HTTP, send mail or decide
//! business rules: the domain decides, this crate writes down what it decided
//! (in one transaction) and reads it back.
//!
//! Everything here is blocking; call it from a blocking thread.

pub mod api_keys;
pub mod attachments;
pub mod complaints;
pub mod connection;
mod database_url;
pub mod deadlines;
pub mod delivery;
pub mod error;
pub mod export;
pub mod feedback;
pub mod idempotency;
pub mod link_secrets;
pub mod magic_links;
pub mod mail_facts;
pub mod migrate;
pub mod order_links;
pub mod outbox;
pub mod page;
pub mod pool;
pub mod retailers;
pub mod schema;
pub mod sealed;
pub mod settings;
pub mod stats;
#[cfg(feature = "testing")]
pub mod testing;
mod time;
pub mod transitions;
pub mod users;
pub mod webhooks;

pub use connection::{Backend, DatabaseUrl, DbConnection, SqliteSynchronous};
pub use error::{classify, StoreError};
pub use pool::{Connector, PoolConnection, PoolOptions, PooledDbConnection, Store};

pub use api_keys::{ApiKey, NewApiKey};
pub use attachments::StoredAttachment;
pub use complaints::{
    ComplaintQuery, ComplaintSort, StoredComplaint, StoredEvent, StoredMessage, Visibility,
};
pub use deadlines::Tick;
pub use export::{CaseRecord, PeriodComplaint};
pub use feedback::StoredFeedback;
pub use idempotency::{KeptResponse, KeyClaim};
pub use link_secrets::{LinkSecret, NewLinkSecret};
pub use magic_links::NewMagicLink;
pub use outbox::OutboxEntry;
pub use page::{clamp_limit, Cursor, DueCursor, Page, SeqCursor};
pub use retailers::{NewRetailer, Retailer, RetailerChange};
pub use sealed::{SealError, SecretKeeper};
pub use stats::RetailerStats;
pub use transitions::{Committed, EngineRules, TransitionError};
pub use users::{NewUser, ProfileChange, User};
pub use webhooks::{NewWebhookEndpoint, WebhookDelivery, WebhookEndpoint};
