//! One delivery of a run message, from start to settlement.
//!
//! Order matters for "once in effect": the job is started in the store, priced, and its outcome
//! recorded together with its outbound events and the message's id (one transaction, see
//! `JobStore::complete_job`); only then is the message acknowledged. A crash anywhere before the
//! commit redelivers the message and the job is started again; a crash after it redelivers a
//! message the store recognises (the job is finished, or the message id was already processed),
//! which is acknowledged without a second effect.

use std::time::Instant;

use contracts::{Contract, RunJob};
use messaging::Delivery;
use opentelemetry::KeyValue;
use opentelemetry::trace::{FutureExt, SpanKind, TraceContextExt};
use scheduler::telemetry;
use scheduler::{BlobError, Completion, CompletionOutcome, Outcome, StartOutcome, StoreError};
use tracing::Instrument;

use crate::activity::Activity;
use crate::config::{WorkerConfig, WorkerContext};
use crate::decide::{self, Attempt, Decision};
use crate::price;
use crate::request;

/// How a delivery was settled (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Outcome recorded (or already recorded) and acknowledged.
    Completed,
    /// Duplicate of a finished job: acknowledged with no effect.
    Duplicate,
    /// Returned to the queue for another attempt.
    Returned,
    /// Sent to the dead-letter queue.
    DeadLettered,
}

/// Handles one delivery. Never fails: every path settles the message one way or another.
pub async fn handle(
    ctx: &WorkerContext,
    cfg: &WorkerConfig,
    delivery: Delivery,
    activity: &Activity,
) -> Settled {
    let job: RunJob = match delivery.decode() {
        Ok(job) => job,
        Err(error) => {
            tracing::error!(%error, queue = delivery.queue(), "undecodable run message");
            return dead_letter(
                delivery,
                &decide::reason("undecodable_message", &error.to_string()),
            )
            .await;
        }
    };
    let message_id = delivery
        .message_id()
        .filter(|id| !id.is_empty())
        .map_or_else(|| job.dedup_key(), str::to_owned);
    let span = tracing::info_span!(
        "run_job",
        job_id = %job.job_id,
        %message_id,
        lane = %job.lane,
        delivery_count = delivery.delivery_count(),
        trace_id = delivery.traceparent().and_then(contracts::trace::trace_id).unwrap_or(""),
    );
    // The job's trace continues from the run message's publish span.
    let trace = telemetry::start(
        "job.run",
        &telemetry::remote_parent(delivery.traceparent()),
        SpanKind::Consumer,
        vec![
            KeyValue::new("job.id", job.job_id.to_string()),
            KeyValue::new("job.lane", job.lane.as_str()),
            KeyValue::new(
                "job.triangles",
                i64::try_from(job.triangles).unwrap_or(i64::MAX),
            ),
            KeyValue::new("worker.id", cfg.worker_id.clone()),
            KeyValue::new("messaging.message.id", message_id.clone()),
            KeyValue::new(
                "messaging.rabbitmq.delivery_count",
                i64::from(delivery.delivery_count()),
            ),
        ],
    );
    let settled = Run {
        ctx,
        cfg,
        job,
        message_id,
        activity,
    }
    .handle(delivery)
    .instrument(span)
    .with_context(trace.clone())
    .await;
    trace
        .span()
        .set_attribute(KeyValue::new("pricing.settled", format!("{settled:?}")));
    telemetry::end(&trace, None);
    settled
}

struct Run<'a> {
    ctx: &'a WorkerContext,
    cfg: &'a WorkerConfig,
    job: RunJob,
    message_id: String,
    activity: &'a Activity,
}

impl Run<'_> {
    async fn handle(self, delivery: Delivery) -> Settled {
        // The slot is held from here: what the cost model learns (`Completion::duration_seconds`).
        let held = Instant::now();
        let store = &self.ctx.store;
        let started = match store.start_job(self.job.job_id, &self.cfg.worker_id).await {
            Ok(StartOutcome::Started(job)) => job,
            Ok(StartOutcome::AlreadyFinished(job)) => {
                tracing::info!(status = %job.status, "job already finished; duplicate message dropped");
                return ack(delivery, Settled::Duplicate).await;
            }
            Ok(StartOutcome::DeadLettered(job)) => {
                self.ctx.outbox_written.notify_one();
                let reason = job.reason.unwrap_or_else(|| "attempts exhausted".into());
                tracing::warn!(%reason, "job failed by the store after its last attempt");
                return dead_letter(delivery, &reason).await;
            }
            Err(StoreError::NotFound(_)) => {
                return dead_letter(
                    delivery,
                    &decide::reason("unknown_job", "no such job in the store"),
                )
                .await;
            }
            Err(error) => return self.store_trouble(delivery, &error).await,
        };
        let _busy = self.activity.begin(self.job.job_id);
        let attempt = Attempt {
            delivery_count: delivery.delivery_count(),
            delivery_limit: self.ctx.topology.delivery_limit(),
            job_attempts: started.attempts,
            max_attempts: store.config().max_attempts,
        };
        let clock = Instant::now();
        let decision = self.price(attempt).await;
        let seconds = clock.elapsed().as_secs_f64();
        match decision {
            Decision::Complete(outcome) => self.complete(delivery, outcome, seconds, held).await,
            Decision::Retry { reason } => {
                let pause =
                    scheduler::backoff::retry_pause(self.cfg.retry_backoff, attempt.job_attempts);
                tracing::warn!(%reason, ?pause, "pricing failed; returning the message for another attempt");
                tokio::time::sleep(pause).await;
                nack(delivery).await
            }
            Decision::GiveUp { reason } => {
                tracing::error!(%reason, "pricing failed on its last attempt; failing the job");
                let outcome = Outcome::Failed {
                    reason: reason.clone(),
                    retryable: false,
                };
                match self.record(outcome, held).await {
                    Ok(_) => dead_letter(delivery, &reason).await,
                    Err(error) => self.store_trouble(delivery, &error).await,
                }
            }
        }
    }

    async fn price(&self, attempt: Attempt) -> Decision {
        let request = request::quote_request(&self.job);
        let bytes = match self.ctx.blobs.get(&self.job.model_sha256).await {
            Ok(bytes) => bytes,
            Err(BlobError::NotFound(_) | BlobError::BadHash(_)) => {
                return Decision::Complete(Outcome::Failed {
                    reason: decide::reason(
                        "model_not_found",
                        &format!("no model {} in blob storage", self.job.model_sha256),
                    ),
                    retryable: false,
                });
            }
            Err(error) => {
                return decide::failure(
                    decide::reason("blob_unavailable", &error.to_string()),
                    attempt,
                );
            }
        };
        let limit = self.cfg.time_limit.for_triangles(self.job.triangles);
        let run = price::price(
            bytes,
            self.ctx.rules.clone(),
            request,
            limit,
            self.ctx.compute.clone(),
        )
        .await;
        decide::decide(run, attempt)
    }

    async fn record(
        &self,
        outcome: Outcome,
        held: Instant,
    ) -> Result<CompletionOutcome, StoreError> {
        let completion = Completion {
            job_id: self.job.job_id,
            message_id: scheduler::hashing::completion_key(&self.message_id),
            worker_id: self.cfg.worker_id.clone(),
            outcome,
            duration_seconds: held.elapsed().as_secs_f64(),
        };
        // The outcome and its MES/CRM messages, in one transaction.
        let span = telemetry::start(
            "record",
            &opentelemetry::Context::current(),
            SpanKind::Internal,
            vec![],
        );
        let done = self.ctx.store.complete_job(completion).await;
        telemetry::end(
            &span,
            done.as_ref().err().map(|e| e as &dyn std::fmt::Display),
        );
        match done {
            Ok(done) => {
                if matches!(done, CompletionOutcome::Applied(_)) {
                    self.ctx.outbox_written.notify_one();
                }
                Ok(done)
            }
            // Another copy of the work order (a republished row, an operator's retry racing a
            // stale message) finished the job first: nothing left to record.
            Err(StoreError::IllegalTransition { from, .. }) if from.is_terminal() => {
                Ok(CompletionOutcome::Duplicate)
            }
            Err(error) => Err(error),
        }
    }

    async fn complete(
        &self,
        delivery: Delivery,
        outcome: Outcome,
        seconds: f64,
        held: Instant,
    ) -> Settled {
        let kind = match &outcome {
            Outcome::Priced { .. } => "priced",
            Outcome::Rejected { .. } => "rejected",
            Outcome::Failed { .. } => "failed",
        };
        match self.record(outcome, held).await {
            Ok(CompletionOutcome::Applied(job)) => {
                tracing::info!(outcome = kind, status = %job.status, seconds, "job completed");
                ack(delivery, Settled::Completed).await
            }
            Ok(CompletionOutcome::Duplicate) => {
                tracing::info!("completion already recorded for this message; acknowledged");
                ack(delivery, Settled::Duplicate).await
            }
            Err(error) => self.store_trouble(delivery, &error).await,
        }
    }

    /// The store failed: the work is not recorded, so the message goes back (after a pause, as
    /// the database is likely unavailable for a moment) and will be priced again.
    async fn store_trouble(&self, delivery: Delivery, error: &StoreError) -> Settled {
        tracing::warn!(%error, "job store failed; returning the message");
        tokio::time::sleep(self.cfg.store_retry_backoff).await;
        nack(delivery).await
    }
}

async fn ack(delivery: Delivery, settled: Settled) -> Settled {
    if let Err(error) = delivery.ack().await {
        // The broker will deliver it again; the store recognises it then.
        tracing::warn!(%error, "acknowledgement failed");
    }
    settled
}

async fn nack(delivery: Delivery) -> Settled {
    if let Err(error) = delivery.nack(true).await {
        tracing::warn!(%error, "negative acknowledgement failed; the broker returns the message anyway");
    }
    Settled::Returned
}

async fn dead_letter(delivery: Delivery, reason: &str) -> Settled {
    if let Err(error) = delivery.reject_to_dead_letter(reason).await {
        tracing::warn!(%error, "dead-lettering failed; the broker will deliver the message again");
    }
    Settled::DeadLettered
}
