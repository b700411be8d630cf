//! RabbitMQ-only: a worker keeps working when the broker closes its connection (what a broker
//! restart does to clients) or cancels its consumer (its queue deleted and declared again),
//! without a process restart, and MES still hears of every job once.
//!
//! The connection is closed with `rabbitmqctl close_connection`, which touches only this test's
//! connection; stopping the machine's shared broker is left to messaging's ignored restart test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use contracts::{Channel, Lane};
use messaging::Broker;
use scheduler::JobStatus;
use support::{Backend, Harness, WAIT, drain_quiet};
use test_support::rabbitmqctl;

/// MES listens on a connection of its own, so only the worker's connection is closed.
async fn mes_listener(h: &Harness) -> messaging::Consumer {
    let broker = Broker::rabbit(support::rabbit_config("mes-listener"))
        .await
        .unwrap();
    broker
        .consume(&h.topology.mes_results_queue(), 0)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_survives_its_connection_being_closed_mid_job() {
    let h = Harness::new(Backend::Cluster).await;
    let mut mes = mes_listener(&h).await;
    let run = h.start();
    let w = h.start_worker(&run, "w-reconnect", 1);

    let model = h.put_model(support::ring(50_000)).await;
    let first = h.submit(&model, Channel::Website, None).await;
    run.wake.notify_one();
    h.wait_status(first.id, JobStatus::Calculating, WAIT).await;

    let pids = rabbitmqctl::connection_pids(h.topology.prefix());
    assert_eq!(
        pids.len(),
        1,
        "expected exactly the worker's connection: {pids:?}"
    );
    rabbitmqctl::close_connection(&pids[0]);

    // The job in flight is recorded; its acknowledgement died with the connection, so the
    // message comes back and is recognised as done.
    h.wait_priced(first.id).await;
    let second = h.submit(&model, Channel::Website, None).await;
    run.wake.notify_one();
    h.wait_priced(second.id).await;
    h.wait_small_lane_empty().await;

    let events = drain_quiet(&mut mes).await;
    let mut ids: Vec<&str> = events.iter().map(|(id, _, _)| id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 2, "one event per job: {events:?}");
    for job in [&first, &second] {
        assert_eq!(
            h.transitions_to(job.id, JobStatus::PriceCalculated).await,
            1
        );
    }
    assert!(!w.is_finished(), "the worker carried on");
    run.shutdown([w]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_resubscribes_after_the_broker_cancels_its_consumer() {
    let h = Harness::new(Backend::Cluster).await;
    let mut mes = mes_listener(&h).await;
    let run = h.start();
    let w = h.start_worker(&run, "w-cancelled", 1);
    let model = h.put_model(support::torus()).await;
    let before = h.submit(&model, Channel::Website, None).await;
    run.wake.notify_one();
    h.wait_priced(before.id).await;

    // Deleting the lane queue makes RabbitMQ cancel the worker's consumer.
    test_support::delete_queue(
        &support::rabbit_config("admin").url,
        &h.topology.lane_queue(Lane::Small).name,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    h.broker.declare(&h.topology).await.unwrap();

    let after = h.submit(&model, Channel::Website, None).await;
    run.wake.notify_one();
    let done = h.wait_priced(after.id).await;
    assert_eq!(done.worker_id.as_deref(), Some("w-cancelled"));
    assert_eq!(drain_quiet(&mut mes).await.len(), 2);
    run.shutdown([w]).await;
}
