//! One trace per job across processes: `pricing api`, `pricing scheduler` and `pricing worker`
//! export their spans over OTLP (HTTP/JSON) to a receiver this test runs, and the spans of one
//! partner job must form one tree — the API's root `job` span, the relay's `publish` span of the
//! run message, the worker's `job.run` under it with its stages, and the relay's `publish` spans
//! of the MES and CRM events under the root — all with the job id as trace id.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use support::cluster::Cluster;
use test_support::fixture;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const PRICING: &str = env!("CARGO_BIN_EXE_pricing");

/// A minimal OTLP/HTTP receiver: keeps the JSON body of every POST, answers 200 `{}`.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let keep = bodies.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let keep = keep.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut read = BufReader::new(read);
                // Keep-alive: one request after another on the connection.
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    let mut first = true;
                    loop {
                        line.clear();
                        if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" && !first {
                            break;
                        }
                        first = false;
                        if let Some((name, value)) = line.split_once(':')
                            && name.eq_ignore_ascii_case("content-length")
                        {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if read.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    if let Ok(v) = serde_json::from_slice(&body) {
                        keep.lock().unwrap().push(v);
                    }
                    let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
                    if write.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, bodies)
}

#[derive(Debug, Clone)]
struct Span {
    service: String,
    name: String,
    trace: String,
    id: String,
    parent: String,
    attributes: BTreeMap<String, String>,
}

/// Every span received so far.
fn spans(bodies: &Mutex<Vec<Value>>) -> Vec<Span> {
    let mut out = Vec::new();
    let text = |v: &Value| {
        v.as_str()
            .map(str::to_owned)
            .or_else(|| v.as_i64().map(|n| n.to_string()))
            .unwrap_or_default()
    };
    for body in bodies.lock().unwrap().iter() {
        for rs in body["resourceSpans"].as_array().into_iter().flatten() {
            let service = rs["resource"]["attributes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| a["key"] == "service.name")
                .map(|a| text(&a["value"]["stringValue"]))
                .unwrap_or_default();
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for s in ss["spans"].as_array().into_iter().flatten() {
                    let attributes = s["attributes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| {
                            let v = &a["value"];
                            let value = v
                                .get("stringValue")
                                .or_else(|| v.get("intValue"))
                                .map(text)
                                .unwrap_or_default();
                            (text(&a["key"]), value)
                        })
                        .collect();
                    out.push(Span {
                        service: service.clone(),
                        name: text(&s["name"]),
                        trace: text(&s["traceId"]).to_lowercase(),
                        id: text(&s["spanId"]).to_lowercase(),
                        parent: text(&s["parentSpanId"]).to_lowercase(),
                        attributes,
                    });
                }
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_job_is_one_trace_across_the_api_the_relay_and_the_worker() {
    let (endpoint, bodies) = receiver().await;
    let mut cluster = Cluster::new(PRICING).await;
    cluster.set_env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint);
    // Export every 100 ms instead of 5 s.
    cluster.set_env("OTEL_BSP_SCHEDULE_DELAY", "100");
    let partner = cluster.key(&["--role", "partner", "--tenant", "acme"]);
    let url = cluster.start(&["api", "--listen", "127.0.0.1:0"]).unwrap();
    cluster.start(&["scheduler"]);
    cluster.start(&["worker", "--slots", "1"]);

    let client = reqwest::Client::new();
    let resp = client
        .post(format!("{url}/v1/jobs?partner_ref=PO-7"))
        .bearer_auth(&partner)
        .body(fixture("torus_ring.stl"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let accepted: Value = resp.json().await.unwrap();
    let job = accepted["id"].as_str().unwrap().to_owned();
    let trace = job.replace('-', "");
    let job_url = format!("{url}/v1/jobs/{job}");
    let done =
        support::poll_until_final(&client, &job_url, &partner, Duration::from_secs(60)).await;
    assert_eq!(done["status"], "PRICE_CALCULATED", "{done}");

    // Run message, MES result and CRM order: three publishes; the worker's run and stages.
    let mut got = Vec::new();
    for _ in 0..100 {
        got = spans(&bodies)
            .into_iter()
            .filter(|s| s.trace == trace)
            .collect();
        let publishes = got.iter().filter(|s| s.name == "publish").count();
        let stages = [
            "job",
            "job.run",
            "parse",
            "measure",
            "thickness",
            "quote",
            "record",
        ];
        if publishes >= 3 && stages.iter().all(|n| got.iter().any(|s| s.name == *n)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let names: Vec<(&str, &str)> = got
        .iter()
        .map(|s| (s.service.as_str(), s.name.as_str()))
        .collect();
    let one = |name: &str| -> &Span {
        let found: Vec<&Span> = got.iter().filter(|s| s.name == name).collect();
        assert_eq!(found.len(), 1, "one {name} span: {names:?}");
        found[0]
    };
    let root = one("job");
    assert_eq!(root.service, "pricing-api");
    assert_eq!(root.parent, "", "the job span is the trace's root");
    assert_eq!(root.attributes["job.id"], job);
    let run = one("job.run");
    assert_eq!(run.service, "pricing-worker");
    let publishes: Vec<&Span> = got.iter().filter(|s| s.name == "publish").collect();
    assert_eq!(publishes.len(), 3, "{names:?}");
    for p in &publishes {
        assert_eq!(p.service, "pricing-scheduler");
        assert_eq!(p.parent, root.id, "every publish is under the root: {p:?}");
    }
    let run_publish = publishes
        .iter()
        .find(|p| p.id == run.parent)
        .expect("the worker's span is a child of the run message's publish span");
    // The run message goes to the job's lane.
    assert_eq!(
        run_publish.attributes["messaging.rabbitmq.destination.routing_key"],
        done["lane"].as_str().unwrap(),
        "{run_publish:?}"
    );
    let mut keys: Vec<&str> = publishes
        .iter()
        .map(|p| p.attributes["messaging.rabbitmq.destination.routing_key"].as_str())
        .collect();
    keys.sort_unstable();
    assert!(keys.iter().any(|k| k.starts_with("crm.")), "{keys:?}");
    assert!(keys.iter().any(|k| k.starts_with("price.")), "{keys:?}");
    for stage in ["parse", "measure", "thickness", "quote", "record"] {
        let s = one(stage);
        assert_eq!(s.service, "pricing-worker");
        assert_eq!(s.parent, run.id, "{stage} is a stage of the worker's run");
    }
}
