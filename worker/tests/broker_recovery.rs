//! RabbitMQ-only: a worker keeps working when the broker closes its connection (what a broker
//! restart does to clients) or cancels its consumer (its queue deleted and declared again),
//! without a process restart, and MES still hears of every job once.
//!
//! The connection is closed with `rabbitmqctl close_connection`, which touches only this test's
//! connection; stopping the machine's shared broker is left to messaging's ignored restart test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use lapin::options::QueueDeleteOptions;
use lapin::{Connection, ConnectionProperties};
use messaging::{Broker, Lane};
use scheduler::{Channel, JobStatus};
use support::{Backend, Harness, WAIT, drain_quiet, worker_config};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Erlang pids of the broker connections whose client properties mention `name`.
fn connection_pids(name: &str) -> Vec<String> {
    let out = Command::new("rabbitmqctl")
        .args([
            "list_connections",
            "pid",
            "client_properties",
            "--quiet",
            "--no-table-headers",
        ])
        .output()
        .expect("rabbitmqctl must be installed next to the broker for this test");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|line| line.contains(name))
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect()
}

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
    support::init_tracing();
    let h = Harness::new(Backend::Cluster).await;
    let mut mes = mes_listener(&h).await;
    let stop = CancellationToken::new();
    let wake = Arc::new(Notify::new());
    let relay = h.relay(wake.clone(), &stop);
    let w = h.worker(worker_config("w-reconnect", 1), wake.clone(), &stop);

    let model = h.put_model(support::ring(50_000)).await;
    let first = h.submit(&model, Channel::Website, None).await;
    wake.notify_one();
    h.wait_status(first.id, JobStatus::Calculating, WAIT).await;

    let pids = connection_pids(h.topology.prefix());
    assert_eq!(
        pids.len(),
        1,
        "expected exactly the worker's connection: {pids:?}"
    );
    let closed = Command::new("rabbitmqctl")
        .args([
            "close_connection",
            &pids[0],
            "test: simulated broker restart",
        ])
        .output()
        .unwrap();
    assert!(
        closed.status.success(),
        "{}",
        String::from_utf8_lossy(&closed.stderr)
    );

    // The job in flight is recorded; its acknowledgement died with the connection, so the
    // message comes back and is recognised as done.
    h.wait_status(first.id, JobStatus::PriceCalculated, WAIT)
        .await;
    let second = h.submit(&model, Channel::Website, None).await;
    wake.notify_one();
    h.wait_status(second.id, JobStatus::PriceCalculated, WAIT)
        .await;
    let lane = h.topology.lane_queue(Lane::Small).name;
    h.wait_until("the lane to be empty", WAIT, || async {
        h.broker.ready_count(&lane).await.unwrap() == 0
    })
    .await;

    let events = drain_quiet(&mut mes).await;
    let mut ids: Vec<&str> = events.iter().map(|(id, _, _)| id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 2, "one event per job: {events:?}");
    for job in [&first, &second] {
        let history = h.store.history(job.id).await.unwrap();
        let priced = history
            .iter()
            .filter(|t| t.to_status == JobStatus::PriceCalculated)
            .count();
        assert_eq!(priced, 1);
    }
    assert!(!w.is_finished(), "the worker carried on");
    stop.cancel();
    w.await.unwrap().unwrap();
    relay.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_resubscribes_after_the_broker_cancels_its_consumer() {
    support::init_tracing();
    let h = Harness::new(Backend::Cluster).await;
    let mut mes = mes_listener(&h).await;
    let stop = CancellationToken::new();
    let wake = Arc::new(Notify::new());
    let relay = h.relay(wake.clone(), &stop);
    let w = h.worker(worker_config("w-cancelled", 1), wake.clone(), &stop);
    let model = h.put_model(support::torus()).await;
    let before = h.submit(&model, Channel::Website, None).await;
    wake.notify_one();
    h.wait_status(before.id, JobStatus::PriceCalculated, WAIT)
        .await;

    // Deleting the lane queue makes RabbitMQ cancel the worker's consumer.
    let admin = Connection::connect(
        &support::rabbit_config("admin").url,
        ConnectionProperties::default(),
    )
    .await
    .unwrap();
    let channel = admin.create_channel().await.unwrap();
    channel
        .queue_delete(
            h.topology.lane_queue(Lane::Small).name.as_str().into(),
            QueueDeleteOptions::default(),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    h.broker.declare(&h.topology).await.unwrap();

    let after = h.submit(&model, Channel::Website, None).await;
    wake.notify_one();
    let done = h
        .wait_status(after.id, JobStatus::PriceCalculated, WAIT)
        .await;
    assert_eq!(done.worker_id.as_deref(), Some("w-cancelled"));
    assert_eq!(drain_quiet(&mut mes).await.len(), 2);
    stop.cancel();
    w.await.unwrap().unwrap();
    relay.await.unwrap();
}
