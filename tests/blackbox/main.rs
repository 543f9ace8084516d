//! Black-box tests: the real actix app on real SQLite and PostgreSQL
//! databases (one throwaway database per test), and the real `odr` binary.

mod access;
mod journeys;
mod people;
mod races;
mod steps;
