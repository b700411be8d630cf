//! The outbox relay: publishes what the job store wrote in its transactions, at least once.
//!
//! A pass takes unsent rows in order (on PostgreSQL locked `FOR UPDATE SKIP LOCKED`, so several
//! relays may run), publishes each with a publisher confirm, and marks it sent only after the
//! confirm: a crash in between republishes the row, with the same `message_id`, and consumers
//! drop the duplicate. Passes run when woken ([`RelayConfig::wake`], notified by submits and
//! completions in this process and, for the scheduler's relay, by PostgreSQL's notices of rows
//! other processes committed) and at least every [`RelayConfig::poll_every`].

use std::sync::Arc;
use std::time::Duration;

use super::RoleError;
use crate::telemetry;
use crate::{JobStore, OutboxMessage, OutboxPublisher, PublishError, RelayReport, StoreError};
use messaging::{Broker, Publish, Route, Topology};
use opentelemetry::KeyValue;
use opentelemetry::trace::SpanKind;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

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

/// Publishes outbox rows to the broker as they were written: the row is the message, the
/// topology only names the deployment's exchange.
pub struct BrokerPublisher {
    broker: Broker,
    topology: Topology,
}

impl BrokerPublisher {
    pub fn new(broker: Broker, topology: Topology) -> Self {
        BrokerPublisher { broker, topology }
    }

    /// What the broker is given for `row`.
    pub fn publish_of(&self, row: &OutboxMessage) -> Publish {
        let m = &row.message;
        Publish {
            route: Route {
                exchange: self.topology.exchange(m.exchange),
                routing_key: m.routing_key.clone(),
            },
            message_id: m.message_id.clone(),
            message_type: Some(m.message_type.clone()),
            correlation_id: m.correlation_id.clone(),
            headers: m.headers.clone(),
            payload: m.body.clone(),
        }
    }
}

#[async_trait::async_trait]
impl OutboxPublisher for BrokerPublisher {
    async fn publish(&self, row: &OutboxMessage) -> Result<(), PublishError> {
        let publish = self.publish_of(row);
        // The span the message's `traceparent` names, under the job's root: the consumer's
        // span becomes its child.
        let attributes = vec![
            KeyValue::new("messaging.system", "rabbitmq"),
            KeyValue::new("messaging.destination.name", publish.route.exchange.clone()),
            KeyValue::new(
                "messaging.rabbitmq.destination.routing_key",
                publish.route.routing_key.clone(),
            ),
            KeyValue::new("messaging.message.id", publish.message_id.clone()),
            KeyValue::new("outbox.seq", row.seq),
            KeyValue::new("job.id", row.job_id.to_string()),
        ];
        let parent = telemetry::under_root(row.job_id);
        let span = match publish.headers.get(contracts::trace::TRACEPARENT) {
            Some(tp) => telemetry::start_as("publish", tp, &parent, SpanKind::Producer, attributes),
            None => telemetry::start("publish", &parent, SpanKind::Producer, attributes),
        };
        let sent = self.broker.publish(&publish).await;
        telemetry::end(
            &span,
            sent.as_ref().err().map(|e| e as &dyn std::fmt::Display),
        );
        sent.map_err(|e| PublishError(e.to_string()))?;
        tracing::debug!(seq = row.seq, job_id = %row.job_id, trace_id = %row.job_id.simple(), message_id = %publish.message_id, route = %publish.route.routing_key, "published");
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

/// Relays until `shutdown`, with the default configuration, woken by other processes' outbox rows.
pub async fn run_relay(
    store: Arc<dyn JobStore>,
    broker: Broker,
    topology: Topology,
    shutdown: CancellationToken,
) -> Result<(), RoleError> {
    let config = RelayConfig::default();
    // The scheduler's relay publishes what API processes submit: the database's notices wake
    // it (JobStore::watch_outbox), so a job waits for its poll only when they are lost.
    let watch = tokio::spawn({
        let (store, wake, stop) = (store.clone(), config.wake.clone(), shutdown.child_token());
        async move { store.watch_outbox(wake, stop).await }
    });
    let relayed = run_relay_with(store, broker, topology, config, shutdown).await;
    watch.abort();
    relayed
}

/// Relays until `shutdown`. Failures are logged and retried: the outbox keeps the rows.
pub async fn run_relay_with(
    store: Arc<dyn JobStore>,
    broker: Broker,
    topology: Topology,
    config: RelayConfig,
    shutdown: CancellationToken,
) -> Result<(), RoleError> {
    let publisher = BrokerPublisher::new(broker, topology);
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
