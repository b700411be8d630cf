//! Router-level tests of every endpoint on real SQLite files and real PostgreSQL databases.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod auth;
mod authz_matrix;
mod bad_clients;
mod changes;
mod console;
mod estimate;
mod jobs;
mod observability;
mod ops;
mod quotas;
mod uploads;
