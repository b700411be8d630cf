//! Load tool: N concurrent uploads of mixed fixture models against a running pricing API, then
//! waits until every accepted job is final. Reports upload throughput, latency percentiles and
//! time to a final state; fails (exit 1) on any answer other than 202 or a deliberate 429, or on
//! an accepted job that does not finish in time. Only loopback targets are accepted.
//!
//! ```text
//! cargo bench --bench load                                   # spawns `pricing serve` in a temp dir
//! cargo bench --bench load -- --roles                        # spawns api + scheduler + worker on
//!                                                            # RabbitMQ + PostgreSQL (AMQP_URL, DATABASE_URL)
//! cargo bench --bench load -- --url http://127.0.0.1:8080 --key alx_...   # an already running server
//!                                                            # (--url A,B: uploads spread over APIs)
//! options: --uploads N (1000)  --timeout SECS (300)
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use chrono::{DateTime, Utc};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PRICING: &str = env!("CARGO_BIN_EXE_pricing");
const MODELS: &[&str] = &[
    "torus_ring.stl",
    "torus_ring.obj",
    "torus_ring.glb",
    "ring_with_seat.stl",
    "ring_with_seat.ascii.stl",
    "box.gltf",
    "hex_prism.obj",
    "uv_sphere.stl",
    "hollow_sphere.glb",
    "l_prism.ascii.stl",
];

struct Options {
    url: Option<String>,
    key: Option<String>,
    roles: bool,
    uploads: usize,
    timeout: Duration,
}

fn options() -> Options {
    let mut o = Options {
        url: None,
        key: None,
        roles: false,
        uploads: 1000,
        timeout: Duration::from_secs(300),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--url" => o.url = args.next(),
            "--key" => o.key = args.next(),
            "--roles" => o.roles = true,
            "--uploads" => {
                o.uploads = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(o.uploads)
            }
            "--timeout" => {
                o.timeout =
                    Duration::from_secs(args.next().and_then(|v| v.parse().ok()).unwrap_or(300))
            }
            // cargo bench passes --bench; anything else is ignored.
            _ => {}
        }
    }
    o
}

fn loopback_only(url: &str) {
    let host = url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':']).next())
        .unwrap_or("");
    let ok = host == "localhost" || host.starts_with("127.") || host == "[";
    assert!(ok, "only loopback targets are allowed, not {url}");
}

/// What `--roles` created on the shared services: removed by [`Cleanup::run`].
struct Cleanup {
    admin_url: String,
    database: String,
    amqp_url: String,
}

impl Cleanup {
    async fn run(self) {
        let _ = Command::new("psql")
            .args([
                self.admin_url.as_str(),
                "-q",
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database),
            ])
            .status();
        if let Ok(b) = messaging::Broker::from_url(Some(&self.amqp_url)).await {
            let _ = b.delete(&messaging::Topology::new(self.database)).await;
        }
    }
}

/// Processes this tool started; killed on drop.
struct Spawned(
    Vec<Child>,
    #[allow(dead_code, reason = "kept until the processes stop")] Option<tempfile::TempDir>,
);

impl Drop for Spawned {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
        }
        for c in &mut self.0 {
            let _ = c.wait();
        }
    }
}

fn spawn(
    args: &[&str],
    dir: &Path,
    env: &[(&str, String)],
) -> (Child, std::sync::mpsc::Receiver<String>) {
    let mut cmd = Command::new(PRICING);
    cmd.args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

fn wait_for(rx: &std::sync::mpsc::Receiver<String>, prefix: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_secs(1))
            && let Some(rest) = line.strip_prefix(prefix)
        {
            return rest.trim().to_owned();
        }
    }
    panic!("no line starting with {prefix:?} within 60 s");
}

fn create_key(dir: &Path, env: &[(&str, String)]) -> String {
    let mut cmd = Command::new(PRICING);
    cmd.args([
        "keys",
        "create",
        "--role",
        "admin",
        "--rate-per-minute",
        "1000000",
    ])
    .current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn start_serve() -> (String, String, Spawned, Option<Cleanup>) {
    let dir = tempfile::tempdir().unwrap();
    let key = create_key(dir.path(), &[]);
    let (child, rx) = spawn(&["serve", "--listen", "127.0.0.1:0"], dir.path(), &[]);
    let url = wait_for(&rx, "pricing: API listening on ");
    (url, key, Spawned(vec![child], Some(dir)), None)
}

fn start_roles() -> (String, String, Spawned, Option<Cleanup>) {
    let dir = tempfile::tempdir().unwrap();
    let admin = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let db = format!("load_{}", uuid_like());
    let status = Command::new("psql")
        .args([admin.as_str(), "-q", "-c", &format!("CREATE DATABASE {db}")])
        .status()
        .expect("psql is needed to create the load test's database");
    assert!(status.success());
    let root = admin.rsplit_once('/').map_or(admin.as_str(), |(r, _)| r);
    let env = vec![
        ("DATABASE_URL", format!("{root}/{db}")),
        (
            "AMQP_URL",
            std::env::var("AMQP_URL")
                .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into()),
        ),
        ("TOPOLOGY_PREFIX", db.clone()),
        ("BLOB_DIR", dir.path().join("blobs").display().to_string()),
    ];
    let key = create_key(dir.path(), &env);
    let (api, rx) = spawn(&["api", "--listen", "127.0.0.1:0"], dir.path(), &env);
    let url = wait_for(&rx, "pricing: API listening on ");
    let (scheduler, _) = spawn(&["scheduler"], dir.path(), &env);
    let (worker, _) = spawn(&["worker"], dir.path(), &env);
    let cleanup = Cleanup {
        admin_url: admin.clone(),
        database: db,
        amqp_url: env[1].1.clone(),
    };
    (
        url,
        key,
        Spawned(vec![api, scheduler, worker], Some(dir)),
        Some(cleanup),
    )
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}{}", nanos, std::process::id())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn summary(name: &str, mut v: Vec<f64>) {
    v.sort_by(f64::total_cmp);
    println!(
        "{name:<26} n={:<5} p50={:>8.1} ms  p90={:>8.1} ms  p99={:>8.1} ms  max={:>8.1} ms",
        v.len(),
        percentile(&v, 0.5) * 1e3,
        percentile(&v, 0.9) * 1e3,
        percentile(&v, 0.99) * 1e3,
        v.last().copied().unwrap_or(f64::NAN) * 1e3
    );
}

/// A finished job's promised and actual time to final, from the store's own timestamps.
fn eta_outcome(
    job: &serde_json::Value,
    promised: Option<DateTime<Utc>>,
) -> Option<scheduler::eta_truth::EtaOutcome> {
    let time = |k: &str| serde_json::from_value::<DateTime<Utc>>(job[k].clone()).ok();
    let lane = job["lane"].as_str()?.parse().ok()?;
    Some(scheduler::eta_truth::EtaOutcome::of(
        lane,
        time("created_at")?,
        promised?,
        time("finished_at")?,
    ))
}

/// The ETA a customer was shown against what happened, per lane (`scheduler::eta_truth`, the
/// console's figures), with the targets: median absolute error at most 20 %, p90 at most 50 %.
fn eta_truth(outcomes: &[scheduler::eta_truth::EtaOutcome]) {
    let lanes = scheduler::eta_truth::summarise(outcomes);
    let line = |name: &str, t: &scheduler::eta_truth::LaneTruth| {
        println!(
            "ETA error {name:<8} n={:<5} median={:>5.1} % (target 20)  p90={:>6.1} % (target 50)  late={:>5.1} %",
            t.jobs,
            t.median_error * 100.0,
            t.p90_error * 100.0,
            t.late_share * 100.0
        );
    };
    for t in &lanes {
        line(t.lane.as_str(), t);
    }
}

enum Upload {
    Accepted {
        id: String,
        latency: f64,
        at: Instant,
        /// The ETA the 202 promised.
        promised: Option<DateTime<Utc>>,
    },
    Throttled,
    Error(String),
}

#[tokio::main]
async fn main() {
    let o = options();
    let (url, key, spawned, cleanup) = match (&o.url, &o.key) {
        (Some(u), Some(k)) => (u.clone(), k.clone(), Spawned(Vec::new(), None), None),
        (Some(_), None) => panic!("--url needs --key"),
        _ if o.roles => start_roles(),
        _ => start_serve(),
    };
    // `--url` may list several APIs (comma- or space-separated): uploads go round-robin, as a
    // balancer would spread them; reads go to the first.
    let urls: Vec<String> = url
        .split([',', ' '])
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect();
    urls.iter().for_each(|u| loopback_only(u));
    let url = urls[0].clone();
    let models_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/models");
    let models: Arc<Vec<(String, Vec<u8>)>> = Arc::new(
        MODELS
            .iter()
            .map(|m| ((*m).to_owned(), std::fs::read(models_dir.join(m)).unwrap()))
            .collect(),
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    println!(
        "load: {} concurrent uploads of {} models against {} ({})",
        o.uploads,
        MODELS.len(),
        urls.join(" "),
        if o.url.is_some() {
            "external"
        } else if o.roles {
            "api + scheduler + worker on RabbitMQ/PostgreSQL"
        } else {
            "pricing serve"
        }
    );
    let run = uuid_like();
    let start = Instant::now();
    let tasks: Vec<_> = (0..o.uploads)
        .map(|i| {
            let (client, url, key, models, run) = (
                client.clone(),
                urls[i % urls.len()].clone(),
                key.clone(),
                models.clone(),
                run.clone(),
            );
            tokio::spawn(async move {
                let (name, body) = &models[i % models.len()];
                let t0 = Instant::now();
                let resp = client
                    .post(format!("{url}/v1/jobs?alloys=au750y"))
                    .bearer_auth(&key)
                    .header("idempotency-key", format!("load-{run}-{i}"))
                    .body(body.clone())
                    .send()
                    .await;
                match resp {
                    Ok(r) if r.status() == 202 => {
                        let v: serde_json::Value = r.json().await.unwrap_or_default();
                        match v["id"].as_str() {
                            Some(id) => Upload::Accepted {
                                id: id.to_owned(),
                                latency: t0.elapsed().as_secs_f64(),
                                at: t0,
                                promised: serde_json::from_value(v["eta"]["at"].clone()).ok(),
                            },
                            None => Upload::Error(format!("{name}: 202 without an id")),
                        }
                    }
                    Ok(r) if r.status() == 429 => Upload::Throttled,
                    Ok(r) => {
                        let s = r.status();
                        Upload::Error(format!(
                            "{name}: {s} {}",
                            r.text().await.unwrap_or_default()
                        ))
                    }
                    Err(e) => Upload::Error(format!("{name}: {e}")),
                }
            })
        })
        .collect();
    let mut accepted = Vec::new();
    let mut latencies = Vec::new();
    let (mut throttled, mut errors) = (0usize, Vec::new());
    for t in tasks {
        match t.await.unwrap() {
            Upload::Accepted {
                id,
                latency,
                at,
                promised,
            } => {
                latencies.push(latency);
                accepted.push((id, at, promised));
            }
            Upload::Throttled => throttled += 1,
            Upload::Error(e) => errors.push(e),
        }
    }
    let upload_secs = start.elapsed().as_secs_f64();
    println!(
        "uploads: {} accepted, {throttled} throttled (429), {} errors in {upload_secs:.2} s = {:.0} uploads/s",
        accepted.len(),
        errors.len(),
        o.uploads as f64 / upload_secs
    );
    summary("upload latency", latencies);

    // Every accepted job must reach a final state.
    let deadline = start + o.timeout;
    let mut pending: Vec<(String, Instant, Option<DateTime<Utc>>)> = accepted;
    let mut to_final = Vec::new();
    let mut eta_outcomes = Vec::new();
    let mut finals = std::collections::BTreeMap::<String, usize>::new();
    while !pending.is_empty() && Instant::now() < deadline {
        let checks: Vec<_> = pending
            .iter()
            .map(|(id, _, _)| {
                let (client, url, key, id) = (client.clone(), url.clone(), key.clone(), id.clone());
                tokio::spawn(async move {
                    let v: serde_json::Value = client
                        .get(format!("{url}/v1/jobs/{id}"))
                        .bearer_auth(&key)
                        .send()
                        .await
                        .ok()?
                        .json()
                        .await
                        .ok()?;
                    Some(v)
                })
            })
            .collect();
        let mut still = Vec::new();
        for ((id, at, promised), check) in pending.into_iter().zip(checks) {
            let job = check.await.unwrap().unwrap_or_default();
            match job["status"].as_str() {
                Some(s) if ["PRICE_CALCULATED", "REJECTED", "FAILED"].contains(&s) => {
                    to_final.push(at.elapsed().as_secs_f64());
                    *finals.entry(s.to_owned()).or_default() += 1;
                    if let Some(outcome) = eta_outcome(&job, promised) {
                        eta_outcomes.push(outcome);
                    }
                }
                _ => still.push((id, at, promised)),
            }
        }
        pending = still;
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    let total = start.elapsed().as_secs_f64();
    println!(
        "final states: {finals:?}; {} not final after {:.0} s; all done in {total:.2} s = {:.1} jobs/s end to end",
        pending.len(),
        o.timeout.as_secs_f64(),
        to_final.len() as f64 / total
    );
    summary("submit to final state", to_final);
    eta_truth(&eta_outcomes);
    for e in errors.iter().take(10) {
        eprintln!("error: {e}");
    }
    drop(spawned);
    if let Some(c) = cleanup {
        c.run().await;
    }
    if !errors.is_empty() || !pending.is_empty() {
        std::process::exit(1);
    }
}
