//! The dead-letter watcher on the cluster (RabbitMQ + PostgreSQL) and embedded (in-process
//! broker + SQLite): a run message the broker dead-letters after its delivery limit (its workers
//! crashed on it before recording anything) ends its job FAILED, once; a job already final and a
//! stale message are left alone; the operators' retry still works.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use contracts::{Channel, Contract, PriceFailed, RunJob, routing};
use messaging::{Publish, Route};
use scheduler::{JobStatus, StartOutcome};
use support::{Backend, Harness, QUIET, WAIT, drain_quiet, recv};

/// Publishes `run` straight into the lane's dead-letter queue, as a copy of a dead letter.
async fn dead_letter_copy(h: &Harness, run: &RunJob) {
    let lane = h.topology.lane_queue(run.lane);
    let route = Route {
        exchange: h.topology.dead_letter_exchange(),
        routing_key: lane.name,
    };
    h.broker
        .publish(&Publish::contract(route, run).unwrap())
        .await
        .unwrap();
}

async fn dead_letter_queue_drained(h: &Harness) {
    let dead = h.topology.lane_dead_queue(contracts::Lane::Small).name;
    h.wait_ready("the dead letter to be taken", &dead, 0).await;
    // Taken is not yet settled: give the watcher time to act on it.
    tokio::time::sleep(QUIET).await;
}

async fn broker_dead_letter_fails_the_job_once(backend: Backend) {
    let h = Harness::new(backend).await;
    let mut mes = h.mes().await;
    let run = h.start();
    let watcher = h.start_dead_letter_watcher(&run);

    let torus = h.put_model(support::torus()).await;
    let job = h.submit(&torus, Channel::Partner, Some("PO-dead")).await;
    assert_eq!(job.lane, contracts::Lane::Small);
    run.wake.notify_one();

    // A worker that crashes on this message every time: it starts the job once, then never gets
    // as far as the store again. Each crash returns the message (a dropped delivery); the return
    // that takes it over the delivery limit makes the broker dead-letter it.
    let limit = h.topology.delivery_limit();
    let message = {
        let mut lane = h
            .consume(&h.topology.lane_queue(contracts::Lane::Small))
            .await;
        let mut message = None;
        for n in 0..=limit {
            let d = recv(&mut lane).await;
            assert_eq!(d.delivery_count(), n);
            let r = RunJob::from_json(d.payload()).unwrap();
            assert_eq!(r.job_id, job.id);
            if n == 0 {
                let started = h.store.start_job(job.id, "w-crashing").await.unwrap();
                assert!(matches!(started, StartOutcome::Started(_)), "{started:?}");
            }
            message = Some(r);
            drop(d);
        }
        message.unwrap()
    };
    assert_eq!(message.attempt, 1);

    let failed = h.wait_status(job.id, JobStatus::Failed, WAIT).await;
    let reason = failed.reason.clone().unwrap();
    assert_eq!(
        reason,
        format!(
            "dead_lettered: dead-lettered by the broker after {} deliveries",
            limit + 1
        )
    );
    // Exactly one failure: one transition, one price.failed for MES.
    let history = h.store.history(job.id).await.unwrap();
    let to_failed: Vec<_> = history
        .iter()
        .filter(|t| t.to_status == JobStatus::Failed)
        .collect();
    assert_eq!(to_failed.len(), 1, "{history:?}");
    assert_eq!(to_failed[0].from_status, Some(JobStatus::Calculating));
    assert_eq!(to_failed[0].actor, "worker:dead-letter-watcher");
    let d = recv(&mut mes).await;
    assert!(
        d.message_id().unwrap().starts_with(routing::PRICE_FAILED),
        "{d:?}"
    );
    let event = PriceFailed::from_json(d.payload()).unwrap();
    d.ack().await.unwrap();
    assert_eq!(event.job_id, job.id);
    assert_eq!(event.reason, reason);
    assert_eq!(event.partner_ref.as_deref(), Some("PO-dead"));

    // Another copy of the same dead letter: the job is final, nothing changes.
    dead_letter_copy(&h, &message).await;
    dead_letter_queue_drained(&h).await;
    let after = h.store.get_job(job.id).await.unwrap().job;
    assert_eq!(
        (after.status, after.version),
        (JobStatus::Failed, failed.version)
    );
    assert!(drain_quiet(&mut mes).await.is_empty(), "no second event");

    // The operators' retry queues it again (attempt 2). A late copy of the old message must not
    // fail the new attempt.
    let retried = h.store.retry_failed(job.id, "op").await.unwrap().job;
    assert_eq!(retried.status, JobStatus::Queued);
    dead_letter_copy(&h, &message).await;
    dead_letter_queue_drained(&h).await;
    assert_eq!(
        h.store.get_job(job.id).await.unwrap().job.status,
        JobStatus::Queued
    );
    // And a healthy worker prices it.
    let w = h.start_worker(&run, "w-healthy", 1);
    run.wake.notify_one();
    let priced = h.wait_priced(job.id).await;
    assert!(priced.reason.is_none());
    let events = drain_quiet(&mut mes).await;
    assert_eq!(events.len(), 1, "one price.calculated");
    assert!(events[0].0.starts_with(routing::PRICE_CALCULATED));

    run.shutdown([w, watcher]).await;
}

on_both!(broker_dead_letter_fails_the_job_once);

/// A job whose run message is rejected while it is still QUEUED (never started) is failed too,
/// and the watcher's own dead letters of unknown jobs are dropped without stopping it.
async fn rejected_while_queued_and_unknown_jobs(backend: Backend) {
    let h = Harness::new(backend).await;
    let run = h.start();
    let watcher = h.start_dead_letter_watcher(&run);
    let torus = h.put_model(support::torus()).await;

    let mut unknown = {
        let mut lane = h
            .consume(&h.topology.lane_queue(contracts::Lane::Small))
            .await;
        let job = h.submit(&torus, Channel::Website, None).await;
        run.wake.notify_one();
        let d = recv(&mut lane).await;
        let run = RunJob::from_json(d.payload()).unwrap();
        assert_eq!(run.job_id, job.id);
        // Rejected without requeue by some consumer: the broker dead-letters it as `rejected`.
        d.nack(false).await.unwrap();
        let failed = h.wait_status(job.id, JobStatus::Failed, WAIT).await;
        assert_eq!(
            failed.reason.as_deref(),
            Some("dead_lettered: dead-lettered by the broker (rejected)")
        );
        let history = h.store.history(job.id).await.unwrap();
        assert_eq!(history.last().unwrap().from_status, Some(JobStatus::Queued));
        run
    };
    unknown.job_id = uuid::Uuid::new_v4();
    dead_letter_copy(&h, &unknown).await;
    dead_letter_queue_drained(&h).await;
    assert!(!watcher.is_finished());

    run.shutdown([watcher]).await;
}

on_both!(rejected_while_queued_and_unknown_jobs);
