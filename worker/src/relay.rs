//! The outbox relay: publishes what the job store wrote in its transactions, at least once.
//!
//! A pass takes unsent rows in order (on PostgreSQL locked `FOR UPDATE SKIP LOCKED`, so several
//! relays may run), publishes each with a publisher confirm, and marks it sent only after the
//! confirm: a crash in between republishes the row, with the same `message_id`, and consumers
//! drop the duplicate. Passes run when woken ([`RelayConfig::wake`], notified by submits and
//! completions in this process) and at least every [`RelayConfig::poll_every`] (rows written by
//! other processes).

use std::sync::Arc;
use std::time::Duration;

use messaging::{Broker, Topology};
use scheduler::{
    Destination, JobStatus, JobStore, OutboxMessage, OutboxPublisher, PublishError, RelayReport,
    StoreError,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::translate::{self, JobFacts};

#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Rows per pass.
    pub batch: u32,
    /// Longest wait between passes when nobody wakes the relay.
    pub poll_every: Duration,
    /// Pause after a failed pass (broker or database unavailable).
    pub retry_after: Duration,
    /// Notified by whoever writes outbox rows in this process.
    pub wake: Arc<Notify>,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            batch: 100,
            poll_every: Duration::from_millis(500),
            retry_after: Duration::from_secs(1),
            wake: Arc::new(Notify::new()),
        }
    }
}

impl RelayConfig {
    pub fn with_wake(mut self, wake: Arc<Notify>) -> Self {
        self.wake = wake;
        self
    }
}

/// Publishes outbox rows to the broker as the message contracts say ([`translate`]).
pub struct BrokerPublisher {
    store: Arc<dyn JobStore>,
    broker: Broker,
    topology: Topology,
}

impl BrokerPublisher {
    pub fn new(store: Arc<dyn JobStore>, broker: Broker, topology: Topology) -> Self {
        BrokerPublisher {
            store,
            broker,
            topology,
        }
    }

    /// What the row's message needs from its job. `None` when the job is gone.
    async fn facts(&self, row: &OutboxMessage) -> Result<Option<JobFacts>, StoreError> {
        // Two independent reads: issued together, they cost one round trip of waiting.
        let attempt = async {
            match row.destination {
                Destination::Run => self.queued_count(row).await,
                Destination::Mes | Destination::Crm => Ok(1),
            }
        };
        let (job, attempt) = tokio::join!(self.store.get_job(row.job_id), attempt);
        let job = match job {
            Ok(view) => view.job,
            Err(StoreError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(Some(JobFacts::of(&job, attempt?)))
    }

    /// How many times the job had been queued when this run row was written: deterministic for
    /// the row, so a republished row gets the same `message_id`. The row carries it; only rows
    /// written before the job counted its queueings are counted from the history.
    async fn queued_count(&self, row: &OutboxMessage) -> Result<u32, StoreError> {
        if let Some(attempt) = row
            .payload
            .get("attempt")
            .and_then(serde_json::Value::as_u64)
        {
            return Ok(u32::try_from(attempt).unwrap_or(u32::MAX).max(1));
        }
        let version = row
            .payload
            .get("version")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(i64::MAX);
        let history = self.store.history(row.job_id).await?;
        let n = history
            .iter()
            .filter(|t| t.to_status == JobStatus::Queued && t.version <= version)
            .count();
        Ok(u32::try_from(n).unwrap_or(u32::MAX).max(1))
    }
}

#[async_trait::async_trait]
impl OutboxPublisher for BrokerPublisher {
    async fn publish(&self, row: &OutboxMessage) -> Result<(), PublishError> {
        if translate::is_silent(row) {
            return Ok(());
        }
        let facts = self
            .facts(row)
            .await
            .map_err(|e| PublishError(e.to_string()))?;
        let Some(facts) = facts else {
            tracing::error!(seq = row.seq, job_id = %row.job_id, "outbox row for a job that does not exist; skipped");
            return Ok(());
        };
        // A row that can never be published must not stop every row after it: it is logged
        // and marked sent. Broker failures, on the other hand, stop the pass (retried later).
        let publish = match translate::translate(row, &facts, &self.topology) {
            Ok(Some(publish)) => publish,
            Ok(None) => return Ok(()),
            Err(e) => {
                tracing::error!(error = %e, job_id = %row.job_id, "outbox row cannot be published; skipped");
                return Ok(());
            }
        };
        self.broker
            .publish(&publish)
            .await
            .map_err(|e| PublishError(e.to_string()))?;
        tracing::debug!(seq = row.seq, message_id = %publish.message_id, route = %publish.route.routing_key, "published");
        Ok(())
    }
}

/// One pass: publishes up to `batch` rows.
pub async fn relay_once(
    store: &dyn JobStore,
    publisher: &BrokerPublisher,
    batch: u32,
) -> Result<RelayReport, StoreError> {
    store.relay_outbox(batch, publisher).await
}

/// Relays until `shutdown`, with the default configuration.
pub async fn run_relay(
    store: Arc<dyn JobStore>,
    broker: Broker,
    topology: Topology,
    shutdown: CancellationToken,
) -> Result<(), crate::WorkerError> {
    run_relay_with(store, broker, topology, RelayConfig::default(), shutdown).await
}

/// Relays until `shutdown`. Failures are logged and retried: the outbox keeps the rows.
pub async fn run_relay_with(
    store: Arc<dyn JobStore>,
    broker: Broker,
    topology: Topology,
    config: RelayConfig,
    shutdown: CancellationToken,
) -> Result<(), crate::WorkerError> {
    let publisher = BrokerPublisher::new(store.clone(), broker, topology);
    let batch = config.batch.max(1);
    loop {
        let pause = match relay_once(store.as_ref(), &publisher, batch).await {
            Ok(report) if report.stopped_on_error => Some(config.retry_after),
            // A full batch: there may be more right now.
            Ok(report) if report.published >= batch => None,
            Ok(_) => Some(config.poll_every),
            Err(error) => {
                tracing::warn!(%error, "outbox relay pass failed");
                Some(config.retry_after)
            }
        };
        let Some(pause) = pause else {
            if shutdown.is_cancelled() {
                break;
            }
            continue;
        };
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = config.wake.notified() => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
    // What was written while stopping (the last completions of a draining worker) goes out now
    // rather than at the next start.
    if let Err(error) = relay_once(store.as_ref(), &publisher, batch).await {
        tracing::warn!(%error, "final outbox relay pass failed; the rows stay for the next start");
    }
    Ok(())
}
