//! A real Prometheus (Debian's `prometheus`, installed by `scripts/deploy-deps`) scrapes
//! `pricing serve` every second while jobs run, with the project's rules loaded. Queries over
//! the project's metrics must return what the test did (jobs priced, uploads accepted, ETA
//! observations, consumers, rule outputs); no operational alert may be pending on a healthy
//! cluster; and every metric the Grafana dashboard and the rules name must be one Prometheus
//! actually received from the code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::poll_until_final;
use support::serve::serve;
use test_support::fixture;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Prometheus {
    child: Child,
    url: String,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Prometheus in `dir`, scraping `target` (host:port) every second with the project's rules.
fn prometheus(dir: &std::path::Path, target: &str) -> Prometheus {
    let rules = repo().join("deploy/prometheus/rules/pricing.yml");
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\n\
         scrape_configs:\n  - job_name: pricing-api\n    static_configs:\n      - targets: [\"{target}\"]\n",
        rules.display()
    );
    let file = dir.join("prometheus.yml");
    std::fs::write(&file, config).unwrap();
    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", file.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("Debian's prometheus is needed: run scripts/deploy-deps (the test command does)");
    Prometheus {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// Percent-encodes every byte but letters and digits (a query string value).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The instant vector `query` returns, as (labels, value) pairs.
async fn query(client: &reqwest::Client, prom: &str, q: &str) -> Vec<(Value, f64)> {
    let Ok(resp) = client
        .get(format!("{prom}/api/v1/query?query={}", encode(q)))
        .send()
        .await
    else {
        return Vec::new();
    };
    let Ok(body) = resp.json::<Value>().await else {
        return Vec::new();
    };
    body["data"]["result"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|s| {
                    let v = s["value"][1]
                        .as_str()
                        .unwrap_or("NaN")
                        .parse()
                        .unwrap_or(f64::NAN);
                    (s["metric"].clone(), v)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Polls until `q` returns one series whose value satisfies `ok`.
async fn until(client: &reqwest::Client, prom: &str, q: &str, ok: impl Fn(f64) -> bool) -> f64 {
    let mut last = Vec::new();
    for _ in 0..120 {
        last = query(client, prom, q).await;
        if let [(_, v)] = last.as_slice()
            && ok(*v)
        {
            return *v;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{q}: {last:?}");
}

/// Metric and recording-rule names in PromQL text: this project's (`pricing_…`, `pricing:…`,
/// `http_…`) and Prometheus's own `up`.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut token = String::new();
    for c in expr.chars().chain([' ']) {
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
            token.push(c);
            continue;
        }
        let quoted = c == '"';
        if !quoted
            && (token.starts_with("pricing_")
                || token.starts_with("pricing:")
                || token.starts_with("http_")
                || token == "up")
        {
            out.insert(token.clone());
        }
        token.clear();
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_serve_and_the_dashboard_names_only_exported_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let key = server
        .admin_key
        .clone()
        .expect("first start prints an admin key");
    let target = server.url.trim_start_matches("http://").to_owned();
    let prom_dir = tempfile::tempdir().unwrap();
    let prom = prometheus(prom_dir.path(), &target);
    let client = reqwest::Client::new();
    until(&client, &prom.url, r#"up{job="pricing-api"}"#, |v| v == 1.0).await;

    // Distinct models (no quote-cache hits), so every job is promised an ETA and priced.
    let models = [
        "torus_ring.stl",
        "box.stl",
        "hex_prism.obj",
        "uv_sphere.stl",
        "box.gltf",
    ];
    let mut urls = Vec::new();
    for m in models {
        let resp = client
            .post(format!("{}/v1/jobs", server.url))
            .bearer_auth(&key)
            .body(fixture(m))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 202, "{m}");
        let accepted: Value = resp.json().await.unwrap();
        urls.push(format!(
            "{}{}",
            server.url,
            accepted["status_url"].as_str().unwrap()
        ));
    }
    for url in &urls {
        let job = poll_until_final(&client, url, &key, Duration::from_secs(60)).await;
        assert_eq!(job["status"], "PRICE_CALCULATED", "{job}");
    }
    let n = models.len() as f64;
    let p = &prom.url;
    until(
        &client,
        p,
        r#"max(pricing_jobs{status="PRICE_CALCULATED"})"#,
        |v| v == n,
    )
    .await;
    until(
        &client,
        p,
        r#"sum(http_requests_total{route="/v1/jobs",method="POST",status="202"})"#,
        |v| v == n,
    )
    .await;
    until(&client, p, "sum(pricing_eta_relative_error_count)", |v| {
        v == n
    })
    .await;
    // Each of them was started by a worker: its promise is split into wait and run.
    for part in ["wait", "run"] {
        let q = format!("sum(pricing_eta_part_relative_error_count{{part=\"{part}\"}})");
        until(&client, p, &q, |v| v == n).await;
    }
    until(&client, p, "sum(pricing_job_duration_seconds_count)", |v| {
        v == n
    })
    .await;
    // serve's in-process workers consume every lane.
    until(
        &client,
        p,
        r#"pricing:queue_consumers:max{lane="small"}"#,
        |v| v >= 1.0,
    )
    .await;
    until(
        &client,
        p,
        r#"pricing:queue_wait_target_seconds{lane="small"}"#,
        |v| v == 2.0,
    )
    .await;
    until(&client, p, "max(pricing_outbox_pending)", |v| v == 0.0).await;
    until(&client, p, "max(pricing_dead_letter_messages)", |v| {
        v == 0.0
    })
    .await;
    until(&client, p, "max(pricing_jobs_overdue)", |v| v == 0.0).await;

    // A healthy cluster: none of the operational alerts is even pending.
    let alerts = query(&client, p, "ALERTS").await;
    let raised: Vec<&str> = alerts
        .iter()
        .filter_map(|(m, _)| m["alertname"].as_str())
        .filter(|a| *a != "PricingEtaErrorDrifting")
        .collect();
    assert!(raised.is_empty(), "{alerts:?}");

    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("deploy/grafana/dashboards/pricing.json")).unwrap(),
    )
    .unwrap();
    let mut used = BTreeSet::new();
    let mut panels = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            panels += 1;
            let expr = target["expr"].as_str().unwrap();
            let found = metric_names(expr);
            assert!(!found.is_empty(), "{}: no metric in {expr}", panel["title"]);
            used.extend(found);
        }
    }
    assert!(panels >= 20, "{panels} panels");
    let rules =
        std::fs::read_to_string(repo().join("deploy/prometheus/rules/pricing.yml")).unwrap();
    let rule_names = metric_names(
        &rules
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    used.extend(rule_names);
    // Every name the dashboard and the rules use is one Prometheus received or recorded (rules
    // over rates record once two scrapes of a series exist: wait for them).
    let mut missing = Vec::new();
    for _ in 0..60 {
        let names: Value = client
            .get(format!("{p}/api/v1/label/__name__/values"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let have: BTreeSet<&str> = names["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        missing = used
            .iter()
            .filter(|n| !have.contains(n.as_str()))
            .cloned()
            .collect();
        if missing.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        missing.is_empty(),
        "named by the dashboard or the rules but never exported or recorded: {missing:?}"
    );
}

#[test]
fn metric_names_are_found_in_promql() {
    let names = metric_names(
        r#"max by (lane) (rate(pricing_eta_late_total[1h])) / pricing:x:y{route="/v1/jobs"} and up"#,
    );
    let want: BTreeSet<String> = ["pricing_eta_late_total", "pricing:x:y", "up"]
        .map(String::from)
        .into();
    assert_eq!(names, want);
}
