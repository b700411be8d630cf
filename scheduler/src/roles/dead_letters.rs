//! The dead-letter watcher: a run message the broker gave up on must not leave its job QUEUED or
//! CALCULATING forever.
//!
//! Lane queues dead-letter a message when it exceeds their delivery limit (a worker crashed, or
//! was killed, on it again and again before it could record anything) or when a consumer rejects
//! it. The worker records every failure it can see itself before it dead-letters a message, so
//! only the broker's own dead letters find their job unfinished. The watcher consumes each lane's
//! dead-letter queue and, for a run message that is still its job's current one and whose job
//! is not final, records the job FAILED through the same store call as a worker's last failed
//! attempt (`JobStore::complete_job`: the status, the reason and the MES/CRM events in one
//! transaction, deduplicated by a key derived from the message id), then acknowledges the dead
//! letter. A job already final, a stale message (the job was queued again since, e.g. by an
//! operator's retry) or a message naming no known job is acknowledged without an effect.
//!
//! Run it once or a few times per cluster (the scheduler role, or `pricing serve`): copies of the
//! watcher are safe (the store serialises the transition and dedups the effect), just useless.

use std::sync::Arc;
use std::time::Duration;

use crate::{Completion, CompletionOutcome, Job, JobStatus, Outcome, StoreError};
use contracts::{Contract, Lane, RunJob};
use futures::StreamExt;
use messaging::{DeadLetterInfo, Delivery};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{RoleContext, RoleError};
use crate::hashing as ids;

/// The reason code of a job failed by the watcher (see [`contracts::Reason`]).
pub const DEAD_LETTERED: &str = "dead_lettered";

#[derive(Debug, Clone)]
pub struct DeadLetterConfig {
    /// Dead letters held at once per lane.
    pub prefetch: u16,
    /// Pause before returning a dead letter after the job store failed.
    pub retry_after: Duration,
    /// Recorded as the actor of the transition (`worker:<id>` in the job history).
    pub watcher_id: String,
}

impl Default for DeadLetterConfig {
    fn default() -> Self {
        DeadLetterConfig {
            prefetch: 4,
            retry_after: Duration::from_millis(500),
            watcher_id: "dead-letter-watcher".into(),
        }
    }
}

/// What to do about a dead-lettered run message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Record the job FAILED with this reason.
    Fail(String),
    /// Nothing to record; acknowledge the dead letter.
    Leave(&'static str),
}

/// Decides from the job as it is now, how many times it has been queued (the `attempt` its
/// current run message carries), and the dead letter. Pure.
pub fn verdict(
    job: &Job,
    queued_count: u32,
    message_attempt: u32,
    death: Option<&DeadLetterInfo>,
    deliveries: u32,
) -> Verdict {
    if job.status.is_terminal() {
        return Verdict::Leave("job already final");
    }
    if message_attempt < queued_count {
        return Verdict::Leave("stale run message: the job was queued again since");
    }
    Verdict::Fail(reason(death, deliveries))
}

/// The failure reason recorded on the job (and sent to MES in `price.failed`).
pub fn reason(death: Option<&DeadLetterInfo>, deliveries: u32) -> String {
    let message = match death {
        Some(d) if d.reason == "delivery_limit" || d.reason.is_empty() => {
            format!("dead-lettered by the broker after {deliveries} deliveries")
        }
        Some(DeadLetterInfo {
            detail: Some(detail),
            ..
        }) => format!("dead-lettered by a consumer: {detail}"),
        Some(d) => format!("dead-lettered by the broker ({})", d.reason),
        None => "dead-lettered".to_owned(),
    };
    contracts::Reason::new(DEAD_LETTERED, &message).to_string()
}

/// How many times a message dead-lettered for its delivery limit was delivered: RabbitMQ's
/// `x-delivery-count` when the dead letter carries it (the returns counted by the source queue),
/// else what the limit implies — a message is dead-lettered on the return that takes its count
/// above the limit, so after `limit + 1` deliveries.
pub fn deliveries(delivery_count_header: Option<u32>, delivery_limit: u32) -> u32 {
    let implied = delivery_limit.saturating_add(1);
    delivery_count_header.map_or(implied, |n| n.max(implied))
}

/// Watches every lane's dead-letter queue until `shutdown`.
pub async fn run_dead_letter_watcher(
    ctx: RoleContext,
    shutdown: CancellationToken,
) -> Result<(), RoleError> {
    run_dead_letter_watcher_with(ctx, DeadLetterConfig::default(), shutdown).await
}

pub async fn run_dead_letter_watcher_with(
    ctx: RoleContext,
    config: DeadLetterConfig,
    shutdown: CancellationToken,
) -> Result<(), RoleError> {
    ctx.broker.declare(&ctx.topology).await?;
    let mut consumers = Vec::with_capacity(Lane::ALL.len());
    for lane in Lane::ALL {
        let queue = ctx.topology.lane_dead_queue(lane);
        consumers.push(ctx.broker.consume(&queue, config.prefetch).await?);
    }
    let mut dead_letters = futures::stream::select_all(consumers);
    tracing::info!(watcher = %config.watcher_id, "dead-letter watcher started");
    let ctx = Arc::new(ctx);
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            next = dead_letters.next() => match next {
                // One at a time: dead letters are rare, and a short store transaction each.
                Some(delivery) => handle(&ctx, &config, delivery).await,
                None => return Err(RoleError::SubscriptionsEnded),
            },
        }
    }
    tracing::info!(watcher = %config.watcher_id, "dead-letter watcher stopped");
    Ok(())
}

async fn handle(ctx: &RoleContext, config: &DeadLetterConfig, delivery: Delivery) {
    let run: RunJob = match delivery.decode() {
        Ok(run) => run,
        Err(error) => {
            // No job to fail; the worker logged it when it dead-lettered it.
            tracing::error!(%error, queue = delivery.queue(), message_id = ?delivery.message_id(),
                "undecodable dead letter dropped");
            settle(delivery.ack().await);
            return;
        }
    };
    let span = tracing::info_span!(
        "dead_letter",
        job_id = %run.job_id,
        attempt = run.attempt,
        queue = delivery.queue(),
        death = ?delivery.dead_letter().map(|d| d.reason.as_str()),
    );
    async {
        match record(ctx, config, &delivery, &run).await {
            Ok(()) => settle(delivery.ack().await),
            Err(error) => {
                tracing::warn!(%error, "job store failed; returning the dead letter");
                tokio::time::sleep(config.retry_after).await;
                settle(delivery.nack(true).await);
            }
        }
    }
    .instrument(span)
    .await;
}

async fn record(
    ctx: &RoleContext,
    config: &DeadLetterConfig,
    delivery: &Delivery,
    run: &RunJob,
) -> Result<(), StoreError> {
    let store = &ctx.store;
    let job = match store.get_job(run.job_id).await {
        Ok(view) => view.job,
        Err(StoreError::NotFound(_)) => {
            tracing::warn!("dead letter for an unknown job dropped");
            return Ok(());
        }
        Err(error) => return Err(error),
    };
    let queued = store
        .history(run.job_id)
        .await?
        .iter()
        .filter(|t| t.to_status == JobStatus::Queued)
        .count();
    let count_header = delivery
        .headers()
        .get("x-delivery-count")
        .and_then(|n| n.parse::<u32>().ok());
    let deliveries = deliveries(count_header, ctx.topology.delivery_limit());
    let queued = u32::try_from(queued).unwrap_or(u32::MAX);
    let reason = match verdict(
        &job,
        queued,
        run.attempt,
        delivery.dead_letter(),
        deliveries,
    ) {
        Verdict::Leave(why) => {
            tracing::info!(status = %job.status, why, "dead letter acknowledged without effect");
            return Ok(());
        }
        Verdict::Fail(reason) => reason,
    };
    let message_id = delivery
        .message_id()
        .filter(|id| !id.is_empty())
        .map_or_else(|| run.dedup_key(), str::to_owned);
    let completion = Completion {
        job_id: run.job_id,
        // Not the worker's key for this message: this is another effect of it.
        message_id: ids::completion_key(&format!("dead_letter/{message_id}")),
        worker_id: config.watcher_id.clone(),
        outcome: Outcome::Failed {
            reason: reason.clone(),
            retryable: false,
        },
        duration_seconds: 0.0,
    };
    match store.complete_job(completion).await {
        Ok(CompletionOutcome::Applied(job)) => {
            ctx.outbox_written.notify_one();
            tracing::warn!(status = %job.status, %reason, "dead-lettered job recorded as failed");
            Ok(())
        }
        Ok(CompletionOutcome::Duplicate) => {
            tracing::info!("dead letter already recorded");
            Ok(())
        }
        // Finished by someone else between the read and the write.
        Err(StoreError::IllegalTransition { from, .. }) if from.is_terminal() => Ok(()),
        Err(error) => Err(error),
    }
}

fn settle(result: messaging::Result<()>) {
    if let Err(error) = result {
        tracing::warn!(%error, "settling the dead letter failed; the broker will deliver it again");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn death(reason: &str, detail: Option<&str>) -> DeadLetterInfo {
        DeadLetterInfo {
            reason: reason.into(),
            queue: "p.jobs.small".into(),
            detail: detail.map(str::to_owned),
        }
    }

    /// A job in `status`; the verdict reads nothing else.
    fn job(status: JobStatus) -> Job {
        let new = crate::NewJob {
            tenant: "t".into(),
            channel: contracts::Channel::Website,
            idempotency_key: "k".into(),
            partner_ref: None,
            model_sha256: "0".repeat(64),
            format: contracts::Format::StlBinary,
            triangles: 1,
            alloys: vec!["au750".into()],
            options: serde_json::json!({}),
            rules_version: None,
        };
        let routing = crate::Routing {
            lane: contracts::Lane::Small,
            predicted_seconds: 0.1,
        };
        let now = chrono::Utc::now();
        Job {
            status,
            ..Job::submitted(&new, String::new(), &routing, now)
        }
    }

    #[test]
    fn verdicts() {
        let limit = death("delivery_limit", None);
        let cases = [
            (JobStatus::Queued, 1, 1, Some(&limit), None),
            (JobStatus::Calculating, 2, 2, Some(&limit), None),
            (JobStatus::Submitted, 1, 1, None, None),
            (
                JobStatus::Failed,
                1,
                1,
                Some(&limit),
                Some("job already final"),
            ),
            (
                JobStatus::PriceCalculated,
                1,
                1,
                None,
                Some("job already final"),
            ),
            (JobStatus::Rejected, 1, 1, None, Some("job already final")),
            (
                JobStatus::Queued,
                2,
                1,
                Some(&limit),
                Some("stale run message: the job was queued again since"),
            ),
        ];
        for (status, queued, attempt, d, leave) in cases {
            let v = verdict(&job(status), queued, attempt, d, 4);
            match leave {
                Some(why) => assert_eq!(v, Verdict::Leave(why), "{status}"),
                None => assert!(matches!(v, Verdict::Fail(_)), "{status}: {v:?}"),
            }
        }
    }

    #[test]
    fn reasons() {
        let cases = [
            (
                Some(death("delivery_limit", None)),
                4,
                "dead_lettered: dead-lettered by the broker after 4 deliveries",
            ),
            (
                Some(death("rejected", Some("undecodable_message: x"))),
                1,
                "dead_lettered: dead-lettered by a consumer: undecodable_message: x",
            ),
            (
                Some(death("expired", None)),
                1,
                "dead_lettered: dead-lettered by the broker (expired)",
            ),
            (None, 1, "dead_lettered: dead-lettered"),
        ];
        for (d, n, want) in cases {
            assert_eq!(reason(d.as_ref(), n), want);
        }
        assert_eq!(
            contracts::Reason::parse(&reason(None, 1), "x").code,
            DEAD_LETTERED
        );
    }

    #[test]
    fn delivery_counts() {
        assert_eq!(deliveries(None, 3), 4);
        assert_eq!(deliveries(Some(2), 3), 4);
        assert_eq!(deliveries(Some(6), 3), 6);
        assert_eq!(deliveries(None, u32::MAX), u32::MAX);
    }
}
