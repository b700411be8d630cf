//! Issue 5's scenarios, each on the cluster (RabbitMQ + PostgreSQL) and embedded (in-process
//! broker + SQLite): results reach MES and the CRM once in effect through redeliveries,
//! duplicates, poison models and crashes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use contracts::{
    Channel, Contract, JobOptions, ModelRef, OrderReady, PriceCalculated, PriceFailed,
    PriceRejected, SchemaVersion, SubmitJob, routing,
};
use messaging::Publish;
use scheduler::roles::BrokerPublisher;
use scheduler::{JobStatus, OutboxPublisher};
use support::{Backend, Harness, QUIET, WAIT, drain_quiet, receive, recv, worker_config};
use tokio_util::sync::CancellationToken;
use worker::TimeLimit;

fn price_events(events: &[(String, Vec<u8>, Option<String>)], prefix: &str) -> usize {
    events
        .iter()
        .filter(|(id, _, _)| id.starts_with(prefix))
        .count()
}

async fn priced_once_with_mes_and_crm_events(backend: Backend) {
    let h = Harness::new(backend).await;
    let mut mes = h.mes().await;
    let mut crm = h.consume(&h.topology.crm_results_queue()).await;
    let run = h.start();
    let w = h.start_worker(&run, "w-once", 2);

    let torus = h.put_model(support::torus()).await;
    let open = h
        .put_model(support::stl_bytes(
            &fixtures::open_box([10.0, 8.0, 6.0], [0.0; 3]).0,
        ))
        .await;
    let partner = h.submit(&torus, Channel::Partner, Some("PO-1")).await;
    let website = h.submit(&torus, Channel::Website, None).await;
    let rejected = h.submit(&open, Channel::Partner, Some("PO-2")).await;
    run.wake.notify_one();

    for job in [&partner, &website] {
        let done = h.wait_priced(job.id).await;
        assert_eq!(done.worker_id.as_deref(), Some("w-once"));
        assert_eq!(done.attempts, 1);
    }
    let done = h.wait_status(rejected.id, JobStatus::Rejected, WAIT).await;
    assert!(done.reason.unwrap().starts_with("not_watertight: "));

    let events = receive(&mut mes, 3).await;
    assert_eq!(events.len(), 3, "one MES event per job");
    for (id, payload, correlation) in &events {
        if id.starts_with(routing::PRICE_CALCULATED) {
            let e = PriceCalculated::from_json(payload).unwrap();
            let job = if e.job_id == partner.id {
                &partner
            } else {
                &website
            };
            assert_eq!(e.job_id, job.id);
            assert_eq!(correlation.as_deref(), Some(job.idempotency_key.as_str()));
            assert_eq!(
                e.correlation_id.as_deref(),
                Some(job.idempotency_key.as_str())
            );
            assert_eq!(e.quote["measurements"]["triangles"], 2304);
            assert!(!e.rules_version.is_empty());
        } else {
            let e = PriceRejected::from_json(payload).unwrap();
            assert_eq!(e.job_id, rejected.id);
            assert_eq!(e.reason_code, "not_watertight");
            assert_eq!(e.partner_ref.as_deref(), Some("PO-2"));
        }
    }
    assert_eq!(price_events(&events, routing::PRICE_CALCULATED), 2);

    // The CRM hears only of the priced partner order, once.
    let d = recv(&mut crm).await;
    let order = OrderReady::from_json(d.payload()).unwrap();
    assert_eq!(
        (order.job_id, order.partner_ref.as_str()),
        (partner.id, "PO-1")
    );
    assert_eq!(order.quote.alloys.len(), 1);
    assert!(order.quote.alloys[0].total.is_some());
    d.ack().await.unwrap();
    assert!(drain_quiet(&mut crm).await.is_empty());

    // Operators see the worker.
    let alive = h
        .store
        .workers_alive(Duration::from_secs(30))
        .await
        .unwrap();
    assert!(alive.iter().any(|w| w.worker_id == "w-once"), "{alive:?}");

    run.shutdown([w]).await;
    assert!(h.store.pending_outbox(10).await.unwrap().is_empty());
}

on_both!(priced_once_with_mes_and_crm_events);

async fn same_message_twice_one_effect(backend: Backend) {
    let h = Harness::new(backend).await;
    let mut mes = h.mes().await;
    let mut crm = h.consume(&h.topology.crm_results_queue()).await;
    let torus = h.put_model(support::torus()).await;
    let job = h.submit(&torus, Channel::Partner, Some("PO-7")).await;

    // The run row published twice (a relay that crashed before marking it sent), then once more
    // by the relay itself.
    let rows = h.store.pending_outbox(10).await.unwrap();
    assert_eq!(rows.len(), 1);
    let publisher = BrokerPublisher::new(h.broker.clone(), h.topology.clone());
    publisher.publish(&rows[0]).await.unwrap();
    publisher.publish(&rows[0]).await.unwrap();

    let run = h.start();
    let w = h.start_worker(&run, "w-dup", 2);
    h.wait_priced(job.id).await;
    h.wait_small_lane_empty().await;
    tokio::time::sleep(QUIET).await;

    assert_eq!(
        h.transitions_to(job.id, JobStatus::PriceCalculated).await,
        1,
        "{:?}",
        h.store.history(job.id).await.unwrap()
    );
    let events = drain_quiet(&mut mes).await;
    assert_eq!(events.len(), 1, "one price.calculated");
    assert_eq!(drain_quiet(&mut crm).await.len(), 1, "one crm.order.ready");

    // The results themselves published twice keep their message id: consumers can drop the copy.
    let sent = h.store.pending_outbox(10).await.unwrap();
    assert!(sent.is_empty());

    run.shutdown([w]).await;
}

on_both!(same_message_twice_one_effect);

async fn poison_model_is_dead_lettered_and_the_lane_flows(backend: Backend) {
    let h = Harness::new(backend).await;
    let mut mes = h.mes().await;
    let mut dead = h
        .consume(&h.topology.lane_dead_queue(contracts::Lane::Small))
        .await;
    let run = h.start();
    // A limit the torus meets easily (a few ms: the test build's pricing-core is optimised) and
    // the million-triangle ring never does (about a second on two idle cores; still a
    // small-lane job).
    let cfg =
        worker_config("w-poison", 2).with_time_limit(TimeLimit::fixed(Duration::from_millis(150)));
    let w = h.worker(cfg, run.wake.clone(), &run.stop);

    let poison = h.put_model(support::ring(1_000_000)).await;
    let torus = h.put_model(support::torus()).await;
    let bad = h.submit(&poison, Channel::Website, None).await;
    assert_eq!(bad.lane, contracts::Lane::Small);
    let mut good = Vec::new();
    for _ in 0..6 {
        good.push(h.submit(&torus, Channel::Website, None).await);
    }
    run.wake.notify_one();

    for job in &good {
        h.wait_priced(job.id).await;
    }
    let failed = h.wait_status(bad.id, JobStatus::Failed, WAIT).await;
    let reason = failed.reason.unwrap();
    assert!(reason.starts_with("pricing_timed_out: "), "{reason}");
    assert!(reason.contains("attempt 3 of 3"), "{reason}");
    assert_eq!(failed.attempts, 3);

    let d = recv(&mut dead).await;
    let info = d.dead_letter().expect("dead-letter info").clone();
    assert_eq!(info.reason, "rejected");
    assert_eq!(info.detail.as_deref(), Some(reason.as_str()));
    assert_eq!(
        contracts::RunJob::from_json(d.payload()).unwrap().job_id,
        bad.id
    );
    d.ack().await.unwrap();

    let events = drain_quiet(&mut mes).await;
    assert_eq!(events.len(), 7);
    let failed_events: Vec<PriceFailed> = events
        .iter()
        .filter(|(id, _, _)| id.starts_with(routing::PRICE_FAILED))
        .map(|(_, p, _)| PriceFailed::from_json(p).unwrap())
        .collect();
    assert_eq!(failed_events.len(), 1);
    assert_eq!(failed_events[0].job_id, bad.id);
    assert_eq!(failed_events[0].reason, reason);

    run.shutdown([w]).await;
}

on_both!(poison_model_is_dead_lettered_and_the_lane_flows);

async fn two_workers_share_a_lane(backend: Backend) {
    let h = Harness::new(backend).await;
    let mut mes = h.mes().await;
    let run = h.start();
    let a = h.start_worker(&run, "w-a", 1);
    let b = h.start_worker(&run, "w-b", 1);
    let model = h.put_model(support::ring(20_000)).await;
    let mut jobs = Vec::new();
    for _ in 0..8 {
        jobs.push(h.submit(&model, Channel::Website, None).await);
    }
    run.wake.notify_one();
    let mut by = std::collections::BTreeMap::<String, usize>::new();
    for job in &jobs {
        let done = h.wait_priced(job.id).await;
        *by.entry(done.worker_id.unwrap()).or_default() += 1;
        assert_eq!(done.attempts, 1);
    }
    assert_eq!(by.len(), 2, "both workers priced jobs: {by:?}");
    assert_eq!(drain_quiet(&mut mes).await.len(), 8);
    run.shutdown([a, b]).await;
}

on_both!(two_workers_share_a_lane);

fn submit_job(request_id: &str, sha256: &str) -> SubmitJob {
    SubmitJob {
        schema_version: SchemaVersion,
        request_id: request_id.into(),
        tenant: "mes-plant".into(),
        partner_ref: Some("WO-1".into()),
        model: ModelRef::Stored {
            sha256: sha256.into(),
        },
        format: None,
        options: JobOptions {
            alloys: vec!["au750y".into()],
            units: Some("mm".into()),
            channel: None,
        },
    }
}

async fn mes_submission_is_answered_on_the_results_exchange(backend: Backend) {
    let h = Harness::new(backend).await;
    let mut mes = h.mes().await;
    let run = h.start();
    let w = h.start_worker(&run, "w-mes", 2);
    let inbound = h.start_mes_inbound(&run);
    let torus = h.put_model(support::torus()).await;

    // Sent twice (MES retried): one job, one answer.
    let request = submit_job("REQ-42", &torus);
    for _ in 0..2 {
        let publish = Publish::contract(h.topology.inbound_route(), &request)
            .unwrap()
            .with_correlation_id("REQ-42")
            .with_trace_context(
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                None,
            );
        h.broker.publish(&publish).await.unwrap();
    }
    let unknown = submit_job("REQ-43", &"0".repeat(64));
    h.broker
        .publish(&Publish::contract(h.topology.inbound_route(), &unknown).unwrap())
        .await
        .unwrap();

    let answers = receive(&mut mes, 2).await;
    assert_eq!(answers.len(), 2, "{answers:?}");
    for (id, payload, correlation) in answers {
        if id.starts_with(routing::PRICE_CALCULATED) {
            let e = PriceCalculated::from_json(&payload).unwrap();
            assert_eq!(correlation.as_deref(), Some("REQ-42"));
            assert_eq!(e.correlation_id.as_deref(), Some("REQ-42"));
            assert_eq!(e.channel, contracts::Channel::Mes);
            assert_eq!(e.partner_ref.as_deref(), Some("WO-1"));
            let job = h
                .store
                .find_by_idempotency_key("mes-plant", "REQ-42")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(job.id, e.job_id);
            assert_eq!(job.options["units"], "mm");
        } else {
            let e = PriceRejected::from_json(&payload).unwrap();
            assert_eq!(correlation.as_deref(), Some("REQ-43"));
            assert_eq!(e.reason_code, "model_not_found");
        }
    }
    let page = h
        .store
        .list_jobs(&scheduler::JobQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.jobs.len(), 1, "the retried request made no second job");
    // Submitted under the rules this process prices with.
    assert_eq!(
        page.jobs[0].rules_version.as_deref(),
        Some(h.rules.version())
    );

    // The same model and options again under another request id: answered from the quote
    // cache (MES jobs carry the rules version), not priced again.
    let request = submit_job("REQ-44", &torus);
    h.broker
        .publish(&Publish::contract(h.topology.inbound_route(), &request).unwrap())
        .await
        .unwrap();
    let d = recv(&mut mes).await;
    let e = PriceCalculated::from_json(d.payload()).unwrap();
    d.ack().await.unwrap();
    assert_eq!(e.correlation_id.as_deref(), Some("REQ-44"));
    let cached = h
        .store
        .find_by_idempotency_key("mes-plant", "REQ-44")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cached.id, e.job_id);
    assert_eq!(
        (cached.status, cached.attempts),
        (JobStatus::PriceCalculated, 0)
    );
    assert_eq!(cached.rules_version.as_deref(), Some(h.rules.version()));
    let history = h.store.history(cached.id).await.unwrap();
    assert_eq!(
        history.last().and_then(|t| t.note.as_deref()),
        Some("served from the quote cache")
    );

    run.shutdown([w, inbound]).await;
}

on_both!(mes_submission_is_answered_on_the_results_exchange);

async fn aborted_worker_task_job_completes_once(backend: Backend) {
    let h = Harness::new(backend).await;
    let mut mes = h.mes().await;
    let run = h.start();
    let first = h.start_worker(&run, "w-doomed", 1);
    // Long enough (seconds in a debug build) to be caught mid-job.
    let model = h.put_model(support::ring(100_000)).await;
    let job = h.submit(&model, Channel::Website, None).await;
    run.wake.notify_one();
    h.wait_started_by(job.id, "w-doomed").await;
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());

    let second = h.start_worker(&run, "w-survivor", 1);
    let done = h.wait_priced(job.id).await;
    assert_eq!(done.worker_id.as_deref(), Some("w-survivor"));
    assert_eq!(done.attempts, 2);
    assert_eq!(drain_quiet(&mut mes).await.len(), 1);
    run.shutdown([second]).await;
}

on_both!(aborted_worker_task_job_completes_once);

async fn shutdown_drains_in_flight_work(backend: Backend) {
    let h = Harness::new(backend).await;
    let stop_worker = CancellationToken::new();
    let run = h.start();
    let model = h.put_model(support::ring(50_000)).await;

    // With time to finish: the job in flight completes, the worker stops cleanly.
    let w = h.worker(worker_config("w-drain", 1), run.wake.clone(), &stop_worker);
    let job = h.submit(&model, Channel::Website, None).await;
    run.wake.notify_one();
    h.wait_status(job.id, JobStatus::Calculating, WAIT).await;
    stop_worker.cancel();
    w.await.unwrap().unwrap();
    let done = h.wait_priced(job.id).await;
    assert_eq!(done.attempts, 1);

    // Without: the job goes back to its queue and the next worker prices it.
    let stop_impatient = CancellationToken::new();
    let mut cfg = worker_config("w-impatient", 1);
    cfg.drain_grace = Duration::ZERO;
    let w = h.worker(cfg, run.wake.clone(), &stop_impatient);
    let job = h.submit(&model, Channel::Website, None).await;
    run.wake.notify_one();
    h.wait_status(job.id, JobStatus::Calculating, WAIT).await;
    stop_impatient.cancel();
    w.await.unwrap().unwrap();
    let lane = h.topology.lane_queue(contracts::Lane::Small).name;
    h.wait_ready("the job to be back in its queue", &lane, 1)
        .await;
    let w = h.start_worker(&run, "w-next", 1);
    let done = h.wait_priced(job.id).await;
    assert_eq!(done.worker_id.as_deref(), Some("w-next"));
    run.shutdown([w]).await;
}

on_both!(shutdown_drains_in_flight_work);
