//! Signed webhook deliveries to shops (api.md, "Shop integration").
//!
//! This crate owns what leaves the engine towards a shop's endpoint: which
//! addresses may be called (`address`), how a body is signed
//! (`signature`), and the worker that claims due deliveries from the store,
//! posts them and records each attempt (`worker`). It must not decide what
//! an event means or which events exist: the store writes the deliveries in
//! the event's own transaction; this crate only carries them out.

pub mod address;
pub mod secret;
pub mod signature;
pub mod worker;

pub use address::{check_url, AddressPolicy, AddressRefusal};
pub use worker::{DeliveryWorker, WorkerSettings};
