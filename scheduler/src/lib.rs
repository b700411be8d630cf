//! Scheduler and job store for the pricing cluster: every pricing job's durable life, what it
//! will cost, which lane it runs in, and when it will be done.
//!
//! Layout (one concept per file):
//! - [`status`]: the lifecycle SUBMITTED → QUEUED → CALCULATING → PRICE_CALCULATED / REJECTED /
//!   FAILED and the allowed transitions (also enforced by a foreign key in the database).
//! - [`job`]: what a client submits ([`NewJob`]), what is stored ([`Job`]), a read with a fresh
//!   ETA ([`JobView`]), history rows ([`Transition`]).
//! - [`cost`]: the cost model (`fixed + per_triangle * triangles` per format), its default
//!   coefficients per format (measured by `cargo bench -p scheduler --bench cost_model`) and the
//!   least-squares fit used for online calibration.
//! - [`routing`]: size lanes (small / medium / large by predicted seconds) — a pure function —
//!   and [`Queueing`]: the lanes, or one FIFO queue as the baseline they are measured against.
//! - [`fairness`]: start-time fair queueing between tenants within a lane and the message
//!   priority that enforces it on the broker; what it does and does not guarantee.
//! - [`eta`]: work ahead / capacity + own cost.
//! - [`query`]: operators' listings (keyset cursor), counts, oldest per status.
//! - [`outbox`]: the finished messages a change calls for ([`outbox::compose`]), outbox rows and
//!   the publisher interface the relay uses.
//! - [`work`]: what workers report (start, completion exactly once per message, heartbeats).
//! - [`hashing`]: SHA-256, canonical options hash (quote cache), deterministic message ids.
//! - [`intake`]: a stored model becomes a job (probe, validate, submit), shared by the API and
//!   the MES inbound consumer.
//! - [`blob`]: content-addressed model storage over `object_store` (local dir or S3).
//! - [`store`]: the [`JobStore`] trait, [`connect`] by URL, and its PostgreSQL and SQLite
//!   implementations, expanded from one shared body (`store/common.rs`) with the SQL in
//!   `store/sql.rs`; migrations live in `migrations/postgres` and `migrations/sqlite`.
//! - [`backoff`]: the pause before a delivery that failed for a passing reason is returned.
//! - [`accounts`]: API keys' rows, daily quotas and console sessions; [`stats`]: lane counts and finished jobs, for
//!   operators and metrics — both through [`store::Db`], the small pool [`store::open`] opens
//!   beside the job store, so every table and statement lives in this crate.
//! - [`changes`]: the feed of status changes and takes operators watch live (by the
//!   `job_history` and `job_claims` sequences).
//! - [`eta_truth`]: promised against actual time to final per finished job, and its summary.
//! - [`simulation`]: the queues as a discrete-event model made of the same decisions;
//!   [`capacity`]: the plan drawn from it (cores per month, one worker's headroom, KEDA
//!   thresholds).
//! - [`overdue`]: unfinished jobs past a multiple of their promise (the stuck-jobs alert);
//!   [`outbox::backlog`]: what the relay has not sent yet, for the outbox alerts.
//! - [`telemetry`]: a job's OpenTelemetry spans, with the ids the messages' `traceparent` names.
//! - [`roles`]: the scheduler role's loops (outbox relay, MES inbound, dead-letter watcher).
//! - [`config`]: [`StoreConfig`], deserializable from the service's configuration file.
//! - [`error`]: [`StoreError`] and [`BlobError`].
//!
//! Tests: pure decision logic is tested with tables in each module; `tests/store_suite.rs` runs
//! one suite against real PostgreSQL (a fresh database per test) and SQLite (a temp file per
//! test); `benches/store_bench.rs` loads a million jobs into PostgreSQL and prints figures.

pub mod accounts;
pub mod backoff;
pub mod blob;
pub mod capacity;
pub mod changes;
pub mod config;
pub mod cost;
pub mod error;
pub mod eta;
pub mod eta_truth;
pub mod fairness;
pub mod hashing;
pub mod intake;
pub mod job;
pub mod lifecycle;
pub mod outbox;
pub mod overdue;
pub mod query;
pub mod roles;
pub mod routing;
pub mod simulation;
pub mod stats;
pub mod status;
pub mod store;
pub mod telemetry;
pub mod work;

pub use blob::{BlobConfig, BlobStore, StoredBlob};
pub use config::StoreConfig;
pub use cost::{CostModel, DEFAULT_COEFFICIENTS, FORMAT_DEFAULTS};
pub use error::{BlobError, StoreError};
pub use eta::Eta;
pub use job::{Job, JobView, NewJob, Submission, Transition};
pub use outbox::{Destination, Message, OutboxMessage, OutboxPublisher, PublishError, RelayReport};
pub use query::{Cursor, JobPage, JobQuery, OldestInStatus};
pub use routing::{LaneThresholds, Queueing, Routing};
pub use status::JobStatus;
pub use store::{DEFAULT_DATABASE_URL, JobStore, PgStore, SqliteStore, connect};
pub use work::{Completion, CompletionOutcome, Heartbeat, Outcome, StartOutcome, WorkerInfo};
