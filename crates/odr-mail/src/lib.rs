//! Mail: rendering a notification (templates, the recipient's locale and
//! time zone) and delivering it (SMTP through lettre, or `.eml` files), and
//! the outbox worker that claims, sends and acknowledges outbox rows.
//!
//! It reads what happened from the outbox rows the store wrote in each
//! transition; it never decides business rules and never changes a
//! complaint.

pub mod message;
pub mod render;
pub mod transport;
pub mod worker;
