//! The ODR engine's domain: the complaint state machine, the structured
//! vocabulary (taxonomy), money, roles and the deadline policy.
//!
//! This crate is pure: no IO, no async, no database, no HTTP. Time comes in as
//! a parameter. Adapters (storage, mail, HTTP) depend on it; it depends on
//! nothing of theirs.

pub mod actor;
pub mod complaint;
pub mod locale;
pub mod money;
pub mod taxonomy;
pub mod validation;

pub use actor::{Actor, Role};
pub mod reference;
