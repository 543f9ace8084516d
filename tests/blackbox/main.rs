//! Black-box tests: the real actix app on real SQLite and PostgreSQL
//! databases (one throwaway database per test), and the real `odr` binary.

// A failing unwrap in a test is a failing test, with its message.
#![allow(clippy::unwrap_used)]

mod access;
mod account_pages;
mod api_keys;
mod browsing;
mod contract;
mod deadlines;
mod evidence;
mod export;
mod feedback;
mod guest_filing;
mod integration_docs;
mod integration_pages;
mod journeys;
mod limits;
mod magic_links;
mod mail;
mod metrics;
mod order_links;
mod pages;
mod people;
mod races;
mod staff_pages;
mod stats;
mod steps;
mod webhooks;
