//! The job store: one async trait, two implementations (PostgreSQL for the cluster, SQLite as
//! the embedded default) generated from the same code by [`impl_job_store!`](common).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::config::StoreConfig;
use crate::cost::CostModel;
use crate::error::StoreError;
use crate::job::{Job, JobView, NewJob, Submission, Transition};
use crate::outbox::{OutboxMessage, OutboxPublisher, RelayReport};
use crate::query::{JobPage, JobQuery, OldestInStatus};
use crate::routing::Routing;
use crate::status::JobStatus;
use crate::work::{Completion, CompletionOutcome, Heartbeat, StartOutcome, WorkerInfo};
use contracts::Channel;

#[macro_use]
mod common;
mod db;
mod pg;
mod rows;
pub(crate) mod sql;
mod sqlite;

pub(crate) use db::on_db;
pub use db::{Db, open};
pub use pg::PgStore;
pub use sqlite::SqliteStore;

/// The embedded default: a SQLite file under `.data/`, created if missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://.data/pricing.db?mode=rwc";

/// The single source of truth for pricing jobs.
///
/// Every status change is checked against [`JobStatus::can_transition_to`], bumps `version`,
/// writes a `job_history` row, adjusts the status counters and writes its outbox rows, all in
/// one transaction.
#[async_trait::async_trait]
pub trait JobStore: Send + Sync + std::fmt::Debug {
    /// Routes, estimates and queues a job, writing its "run" outbox message in the same
    /// transaction. The same `(tenant, idempotency_key)` returns the existing job
    /// (`created: false`), also under concurrent submissions; reusing a key for a different
    /// model or options is [`StoreError::IdempotencyKeyReused`]. With `rules_version` set and a
    /// cached quote for the same model/options/rules, the job is PRICE_CALCULATED at once.
    async fn submit(&self, job: NewJob) -> Result<Submission, StoreError> {
        let routing = self.route(&job);
        self.submit_routed(job, routing).await
    }

    /// [`Self::submit`] with the routing already decided by [`Self::route`] (the intake decides
    /// it once, before its admission checks, and the job is queued on that decision).
    async fn submit_routed(&self, job: NewJob, routing: Routing) -> Result<Submission, StoreError>;

    /// The job's predicted cost and lane with the cost model, thresholds and queueing in force.
    /// Pure.
    fn route(&self, job: &NewJob) -> Routing {
        let config = self.config();
        crate::routing::route_queued(
            job.triangles,
            job.format,
            &self.cost_model(),
            &config.lanes,
            config.queueing,
        )
    }

    /// A job with a freshly computed ETA.
    async fn get_job(&self, id: Uuid) -> Result<JobView, StoreError>;

    /// The job a tenant submitted under an idempotency key.
    async fn find_by_idempotency_key(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<Option<Job>, StoreError>;

    /// The status history, oldest first.
    async fn history(&self, id: Uuid) -> Result<Vec<Transition>, StoreError>;

    /// Newest first, filtered by status and/or tenant, keyset-paged.
    async fn list_jobs(&self, query: &JobQuery) -> Result<JobPage, StoreError>;

    /// Jobs per status, from counters maintained in each transition's transaction.
    async fn status_counts(&self) -> Result<BTreeMap<JobStatus, u64>, StoreError>;

    /// For each status with any job, the one that has been in it longest.
    async fn oldest_per_status(&self) -> Result<Vec<OldestInStatus>, StoreError>;

    /// A checked transition by an operator or a test: fails with
    /// [`StoreError::VersionConflict`] if the job is not at `expected_version`, and with
    /// [`StoreError::IllegalTransition`] if `to` is not allowed from its status.
    async fn transition(
        &self,
        id: Uuid,
        expected_version: i64,
        to: JobStatus,
        actor: &str,
        reason: Option<String>,
    ) -> Result<Job, StoreError>;

    /// Atomic claim: exactly one of several concurrent operators wins; the others get
    /// [`StoreError::ClaimConflict`]. Claiming a job one already holds succeeds.
    async fn claim(&self, id: Uuid, operator: &str) -> Result<Job, StoreError>;

    /// Gives a claim back ([`StoreError::NotClaimant`] if `operator` does not hold it).
    async fn release_claim(&self, id: Uuid, operator: &str) -> Result<Job, StoreError>;

    /// Re-queues a FAILED job (attempts reset) with a new run message.
    async fn retry_failed(&self, id: Uuid, operator: &str) -> Result<JobView, StoreError>;

    /// A worker starts a job: QUEUED (or CALCULATING, after a lost worker) -> CALCULATING with
    /// attempts + 1; dead-letters it as FAILED when its attempts are used up.
    async fn start_job(&self, id: Uuid, worker_id: &str) -> Result<StartOutcome, StoreError>;

    /// Records a run's outcome exactly once per message id, in one transaction with its outbox
    /// events (MES and CRM), the quote cache and the duration observation.
    async fn complete_job(&self, completion: Completion) -> Result<CompletionOutcome, StoreError>;

    /// A cached quote for the same model, sales channel, alloys+options hash
    /// ([`crate::hashing::options_hash`]) and rules version.
    async fn cached_quote(
        &self,
        model_sha256: &str,
        channel: Channel,
        options_hash: &str,
        rules_version: &str,
    ) -> Result<Option<serde_json::Value>, StoreError>;

    /// The coefficients in force (cached in memory).
    fn cost_model(&self) -> CostModel;

    /// Refits every format from its window of observations, persists and returns the model.
    async fn recalibrate(&self) -> Result<CostModel, StoreError>;

    /// Reloads the persisted coefficients (another instance may have refitted).
    async fn reload_cost_model(&self) -> Result<CostModel, StoreError>;

    /// Notifies `wake` whenever any process commits outbox rows, until `stop`: on PostgreSQL
    /// through `LISTEN` on the channel the outbox's insert trigger notifies (migration 0008), so
    /// a relay in another process publishes a submission at once rather than at its next poll.
    /// Under SQLite (one process, woken directly) it only waits for `stop`.
    async fn watch_outbox(
        &self,
        wake: std::sync::Arc<tokio::sync::Notify>,
        stop: tokio_util::sync::CancellationToken,
    );

    /// Unsent outbox rows in order, without taking them.
    async fn pending_outbox(&self, limit: u32) -> Result<Vec<OutboxMessage>, StoreError>;

    /// Publishes up to `limit` unsent rows in order and marks the published ones sent. On
    /// PostgreSQL the rows are locked `FOR UPDATE SKIP LOCKED` for the pass, so several relays
    /// may run; it stops at the first publish error.
    async fn relay_outbox(
        &self,
        limit: u32,
        publisher: &dyn OutboxPublisher,
    ) -> Result<RelayReport, StoreError>;

    /// Records a worker's sign of life.
    async fn heartbeat(&self, heartbeat: &Heartbeat) -> Result<(), StoreError>;

    /// Workers seen within `within`.
    async fn workers_alive(&self, within: Duration) -> Result<Vec<WorkerInfo>, StoreError>;

    /// The configuration the store decides with.
    fn config(&self) -> &StoreConfig;
}

/// Opens the store named by `database_url` (`postgres://`/`postgresql://` or `sqlite:`) and
/// applies its migrations.
pub async fn connect(
    database_url: &str,
    config: StoreConfig,
) -> Result<Arc<dyn JobStore>, StoreError> {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(database_url, config).await?))
    } else if database_url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(database_url, config).await?))
    } else {
        Err(StoreError::UnsupportedUrl(database_url.to_owned()))
    }
}
