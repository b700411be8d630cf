//! Test harness: a broker of either kind plus a topology with its own random prefix, deleted
//! when the harness is dropped (also after a failed assertion).

#![allow(dead_code)]

use std::time::Duration;

use contracts::{Lane, RunJob, SchemaVersion};
use messaging::{Broker, Delivery, RabbitConfig, Topology};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Rabbit,
}

pub struct Harness {
    pub broker: Broker,
    pub topology: Topology,
    backend: Backend,
}

pub fn rabbit_config() -> RabbitConfig {
    RabbitConfig::from_env()
}

impl Harness {
    pub async fn new(backend: Backend) -> Harness {
        Harness::with_topology(backend, Topology::new(test_support::unique_name("test"))).await
    }

    pub async fn with_topology(backend: Backend, topology: Topology) -> Harness {
        let broker = match backend {
            Backend::Memory => Broker::memory(),
            Backend::Rabbit => {
                let config = rabbit_config().with_connection_name(topology.prefix().to_owned());
                Broker::rabbit(config)
                    .await
                    .expect("RabbitMQ must be running (AMQP_URL or 127.0.0.1:5672)")
            }
        };
        broker.declare(&topology).await.expect("declare topology");
        Harness {
            broker,
            topology,
            backend,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if self.backend != Backend::Rabbit {
            return;
        }
        let topology = self.topology.clone();
        test_support::on_own_runtime(move || async move {
            if let Ok(broker) =
                Broker::rabbit(rabbit_config().with_connection_name("test-cleanup")).await
            {
                let _ = broker.delete(&topology).await;
            }
        });
    }
}

pub const WAIT: Duration = Duration::from_secs(10);
/// How long "nothing arrives" is observed for.
pub const QUIET: Duration = Duration::from_millis(400);

/// The next delivery, failing the test if none arrives in time.
pub async fn recv(consumer: &mut messaging::Consumer) -> Delivery {
    tokio::time::timeout(WAIT, consumer.next())
        .await
        .expect("timed out waiting for a delivery")
        .expect("consumer ended")
}

/// Asserts that nothing arrives for a while.
pub async fn assert_quiet(consumer: &mut messaging::Consumer) {
    if let Ok(Some(d)) = tokio::time::timeout(QUIET, consumer.next()).await {
        panic!("unexpected delivery: {d:?}");
    }
}

pub fn run_job(lane: Lane, attempt: u32) -> RunJob {
    RunJob {
        schema_version: SchemaVersion,
        job_id: Uuid::new_v4(),
        model_sha256: "ab".repeat(32),
        format: contracts::Format::StlBinary,
        triangles: 1200,
        lane,
        alloys: vec!["au750y".into()],
        channel: contracts::Channel::Partner,
        tenant: "acme".into(),
        partner_ref: Some("PO-1".into()),
        units: None,
        correlation_id: None,
        attempt,
    }
}

/// Polls until `queue` has `expected` ready messages (the broker applies returns asynchronously).
pub async fn wait_ready(broker: &Broker, queue: &str, expected: u32) {
    test_support::poll(WAIT, Duration::from_millis(50), || async {
        let n = broker.ready_count(queue).await.expect("ready_count");
        if n == expected {
            Ok(())
        } else {
            Err(format!("queue {queue} has {n} ready, expected {expected}"))
        }
    })
    .await;
}
