//! The worker role of the pricing cluster, as a library: `pricing worker` runs it alone, and
//! `pricing serve` embeds it with the in-process broker and SQLite.
//!
//! [`run_worker`] consumes the lanes, prices each job with pricing-core and records the outcome
//! with its outbound events exactly once per message; [`run_worker_and_relay`] runs the
//! scheduler's outbox relay beside it, so a worker's completions are published by its own
//! process. The scheduler role's loops (relay, MES inbound, dead-letter watcher) live in
//! `scheduler::roles`.
//!
//! Layout:
//! - [`config`]: [`WorkerContext`] (store, blobs, broker, topology, rules) and [`WorkerConfig`].
//! - [`worker`]: the consume loop, slots and graceful drain; [`job`]: one delivery, start to
//!   settlement; [`activity`]: in-flight jobs and heartbeats.
//! - [`price`]: pricing-core on the blocking pool with a time limit and a panic net;
//!   [`compute`]: a rayon pool per run, so jobs in one process do not queue behind each other;
//!   [`request`]: run message → quote request; [`decide`]: run → outcome or retry (pure).
//! - [`rules`]: the pricing rules in force; [`signals`]: SIGTERM / Ctrl-C as a cancellation
//!   token.

pub mod activity;
pub mod compute;
pub mod config;
pub mod decide;
pub mod error;
pub mod job;
pub mod price;
pub mod request;
pub mod rules;
pub mod signals;
pub mod worker;

pub use config::{TimeLimit, WorkerConfig, WorkerContext, available_slots, default_worker_id};
pub use error::WorkerError;
pub use rules::{LoadRulesError, load_rules};
pub use signals::shutdown_on_signals;
pub use worker::{run_worker, run_worker_and_relay};
