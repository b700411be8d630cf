//! The cluster roles as separate processes — `pricing api`, `pricing scheduler`, `pricing worker`
//! — on the real RabbitMQ and a fresh PostgreSQL database, sharing a blob directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Command;
use std::time::Duration;

use support::cluster::Cluster;
use support::{get_json, poll_until_final};
use test_support::fixture;

const PRICING: &str = env!("CARGO_BIN_EXE_pricing");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_roles_price_over_rabbitmq_and_postgres() {
    let mut cluster = Cluster::new(PRICING).await;
    let partner = cluster.key(&["--role", "partner", "--tenant", "acme"]);
    let operator = cluster.key(&["--role", "operator"]);
    let url = cluster.start(&["api", "--listen", "127.0.0.1:0"]).unwrap();
    cluster.start(&["scheduler"]);
    cluster.start(&["worker", "--slots", "2", "--worker-id", "roles-test-worker"]);

    let client = reqwest::Client::new();
    let ready = client.get(format!("{url}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "{}", ready.text().await.unwrap());
    let mut urls = Vec::new();
    for name in ["torus_ring.glb", "torus_ring.obj"] {
        let resp = client
            .post(format!("{url}/v1/jobs?alloys=au585y"))
            .bearer_auth(&partner)
            .body(fixture(name))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 202, "{name}");
        let v: serde_json::Value = resp.json().await.unwrap();
        urls.push(format!("{url}{}", v["status_url"].as_str().unwrap()));
    }
    let mut totals = Vec::new();
    for job_url in &urls {
        let v = poll_until_final(&client, job_url, &partner, Duration::from_secs(90)).await;
        assert_eq!(v["status"], "PRICE_CALCULATED", "{v}");
        assert_eq!(v["channel"], "partner");
        totals.push(
            v["quote"]["alloys"][0]["total"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // The same ring in two formats has the same price.
    assert_eq!(totals[0], totals[1]);

    let workers = get_json(&client, &format!("{url}/v1/workers"), &operator).await;
    assert!(
        workers["workers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["worker_id"] == "roles-test-worker"),
        "{workers}"
    );
    let queues = get_json(&client, &format!("{url}/v1/queues"), &operator).await;
    // Depths come from RabbitMQ itself.
    assert_eq!(queues["lanes"][0]["depth"], 0, "{queues}");
    assert_eq!(queues["lanes"][0]["consumers"], 1, "{queues}");
}

#[test]
fn roles_refuse_to_start_without_a_broker() {
    for role in ["api", "scheduler", "worker"] {
        let out = Command::new(PRICING)
            .arg(role)
            .env_remove("AMQP_URL")
            .env("DATABASE_URL", "sqlite://unused.db")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{role}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("AMQP_URL"), "{role}: {err}");
    }
}
