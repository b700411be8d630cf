//! The worker role of the pricing cluster, as a library: `pricing worker` runs it alone, and
//! `pricing serve` embeds it with the in-process broker and SQLite.
//!
//! Roles (each runs until its cancellation token is cancelled):
//! - [`run_worker`]: consumes the lanes, prices each job with pricing-core and records the
//!   outcome with its outbound events exactly once per message;
//! - [`run_relay`]: publishes the job store's outbox to the broker (at least once, confirmed,
//!   deterministic message ids);
//! - [`run_mes_inbound`]: turns MES `SubmitJob` messages into jobs;
//! - [`run_dead_letter_watcher`]: records as FAILED the jobs whose run message the broker
//!   dead-lettered (delivery limit hit) before any worker could record an outcome.
//!
//! Layout:
//! - [`config`]: [`WorkerContext`] (store, blobs, broker, topology, rules) and [`WorkerConfig`].
//! - [`worker`]: the consume loop, slots and graceful drain; [`job`]: one delivery, start to
//!   settlement; [`activity`]: in-flight jobs and heartbeats.
//! - [`price`]: pricing-core on the blocking pool with a time limit and a panic net;
//!   [`compute`]: a rayon pool per run, so jobs in one process do not queue behind each other;
//!   [`request`]: run message → quote request; [`decide`]: run → outcome or retry (pure).
//! - [`relay`]: outbox rows → the broker, as written; [`inbound`]: MES requests;
//!   [`dead_letters`]: the lanes' dead-letter queues → FAILED jobs.
//!   [`ids`]: deterministic keys; [`rules`]: the pricing rules in force;
//!   [`signals`]: SIGTERM / Ctrl-C as a cancellation token.

pub mod activity;
pub mod compute;
pub mod config;
pub mod dead_letters;
pub mod decide;
pub mod error;
pub mod ids;
pub mod inbound;
pub mod job;
pub mod price;
pub mod relay;
pub mod request;
pub mod rules;
pub mod signals;
pub mod worker;

pub use config::{TimeLimit, WorkerConfig, WorkerContext, available_slots, default_worker_id};
pub use dead_letters::{DeadLetterConfig, run_dead_letter_watcher, run_dead_letter_watcher_with};
pub use error::WorkerError;
pub use inbound::{InboundConfig, run_mes_inbound, run_mes_inbound_with};
pub use relay::{BrokerPublisher, RelayConfig, relay_once, run_relay, run_relay_with};
pub use rules::{LoadRulesError, load_rules};
pub use signals::shutdown_on_signals;
pub use worker::{run_worker, run_worker_and_relay};
