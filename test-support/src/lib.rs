//! What the workspace's integration tests and benches share: each test gets its own PostgreSQL
//! database ([`PgDatabase`]) or SQLite file ([`sqlite_url`]) and its own broker names
//! ([`unique_name`]), so tests stay isolated and run in parallel against the real services.
//! Crate-specific fixtures (an API router, a worker harness) stay in each crate's `tests/`.
//!
//! Failing loudly is the point of a test helper, hence the panics.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test helpers fail the test that called them"
)]

mod cleanup;
mod models;
mod names;
mod postgres;
pub mod proxy;
mod rabbit;
pub mod rabbitmqctl;
mod sqlite;
mod wait;

pub use cleanup::on_own_runtime;
pub use models::fixture;
pub use names::unique_name;
pub use postgres::{PgDatabase, admin_url, with_database};
pub use rabbit::delete_queue;
pub use sqlite::sqlite_url;
pub use wait::{poll, wait_until};
