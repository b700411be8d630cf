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
//! cargo bench --bench load -- --mix rings --uploads 200 --warmup 60   # the heavy-tailed ring mix
//! options: --uploads N (1000)  --timeout SECS (300)  --mix fixtures|rings (fixtures)  --seed S (1)
//!          --warmup N (0: jobs priced first, two at a time, so the cost model is calibrated)
//!          --rate R (0: all at once; else Poisson arrivals, R per second)
//!          --burst-every K --burst-size B (every K-th arrival brings B uploads at once)
//!          --eta-csv PATH (each finished job's promised and actual wait and run, for a spreadsheet)
//!          --workers N (with --roles: worker processes, 1)
//!          --slots N (jobs each worker prices at once; default: the cores shared among them)
//!          --queueing lanes|fifo|both (lanes: size lanes as built; fifo: one queue in arrival
//!                                      order, `PRICING_QUEUEING=fifo`; both: the same stream
//!                                      through each in turn, printed side by side)
//!
//! With `--mix rings` each run ends with the same jobs through `scheduler::simulation` (their
//! measured arrivals and runs, the slots the workers have): the simulated figures beside the
//! measured ones check the model the capacity plan is built on.
//! ```
//!
//! `--mix fixtures` cycles through ten committed fixture models (so most uploads after the first
//! ten are answered from the quote cache); `--mix rings` draws ring sizes from
//! `fixtures::workload::SIZE_MIX` (10k to 3M triangles, heavy-tailed), each upload with distinct
//! bytes. The run ends with the ETA each 202 promised against what happened, per lane, in all and
//! split into queue wait and run (`scheduler::eta_truth`).
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
    rings: bool,
    seed: u64,
    warmup: usize,
    rate: f64,
    burst_every: usize,
    burst_size: usize,
    eta_csv: Option<String>,
    workers: usize,
    slots: Option<usize>,
    queueing: Vec<scheduler::Queueing>,
}

fn options() -> Options {
    let mut o = Options {
        url: None,
        key: None,
        roles: false,
        uploads: 1000,
        timeout: Duration::from_secs(300),
        rings: false,
        seed: 1,
        warmup: 0,
        rate: 0.0,
        burst_every: 0,
        burst_size: 1,
        eta_csv: None,
        workers: 1,
        slots: None,
        queueing: vec![scheduler::Queueing::Lanes],
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
            "--mix" => o.rings = args.next().as_deref() == Some("rings"),
            "--seed" => o.seed = args.next().and_then(|v| v.parse().ok()).unwrap_or(1),
            "--warmup" => o.warmup = args.next().and_then(|v| v.parse().ok()).unwrap_or(0),
            "--eta-csv" => o.eta_csv = args.next(),
            "--workers" => o.workers = args.next().and_then(|v| v.parse().ok()).unwrap_or(1),
            "--slots" => o.slots = args.next().and_then(|v| v.parse().ok()),
            "--queueing" => {
                o.queueing = match args.next().as_deref() {
                    Some("both") => scheduler::Queueing::ALL.to_vec(),
                    Some(q) => vec![q.parse().unwrap()],
                    None => panic!("--queueing needs lanes, fifo or both"),
                }
            }
            "--rate" => o.rate = args.next().and_then(|v| v.parse().ok()).unwrap_or(0.0),
            "--burst-every" => {
                o.burst_every = args.next().and_then(|v| v.parse().ok()).unwrap_or(0)
            }
            "--burst-size" => o.burst_size = args.next().and_then(|v| v.parse().ok()).unwrap_or(1),
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

fn start_serve(
    slots: usize,
    queueing: scheduler::Queueing,
) -> (String, String, Spawned, Option<Cleanup>) {
    let dir = tempfile::tempdir().unwrap();
    let key = create_key(dir.path(), &[]);
    let env = [
        ("PRICING_QUEUEING", queueing.as_str().to_owned()),
        ("WORKER_SLOTS", slots.to_string()),
    ];
    let (child, rx) = spawn(&["serve", "--listen", "127.0.0.1:0"], dir.path(), &env);
    let url = wait_for(&rx, "pricing: API listening on ");
    (url, key, Spawned(vec![child], Some(dir)), None)
}

fn start_roles(
    workers: usize,
    slots: usize,
    queueing: scheduler::Queueing,
) -> (String, String, Spawned, Option<Cleanup>) {
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
        ("PRICING_QUEUEING", queueing.as_str().to_owned()),
    ];
    let key = create_key(dir.path(), &env);
    let (api, rx) = spawn(&["api", "--listen", "127.0.0.1:0"], dir.path(), &env);
    let url = wait_for(&rx, "pricing: API listening on ");
    let (scheduler, _) = spawn(&["scheduler"], dir.path(), &env);
    let mut children = vec![api, scheduler];
    // Several workers on one machine: each gets its share of the cores, in slots and threads.
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = (cores / (workers.max(1) * slots.max(1))).max(1);
    let mut worker_env = env.clone();
    worker_env.push(("WORKER_SLOTS", slots.to_string()));
    worker_env.push(("WORKER_THREADS_PER_JOB", threads.to_string()));
    for _ in 0..workers.max(1) {
        children.push(spawn(&["worker"], dir.path(), &worker_env).0);
    }
    let cleanup = Cleanup {
        admin_url: admin.clone(),
        database: db,
        amqp_url: env[1].1.clone(),
    };
    (url, key, Spawned(children, Some(dir)), Some(cleanup))
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
    let created = time("created_at")?;
    let outcome =
        scheduler::eta_truth::EtaOutcome::of(lane, created, promised?, time("finished_at")?);
    Some(
        match (time("started_at"), job["predicted_seconds"].as_f64()) {
            (Some(started), Some(own)) => outcome.with_start(created, started, own),
            _ => outcome,
        },
    )
}

/// The ETA a customer was shown against what happened, per lane (`scheduler::eta_truth`, the
/// console's figures), with the targets: median absolute error at most 20 %, p90 at most 50 %.
fn eta_truth(outcomes: &[scheduler::eta_truth::EtaOutcome]) {
    let lanes = scheduler::eta_truth::summarise(outcomes);
    let line = |name: &str, t: &scheduler::eta_truth::LaneTruth| {
        let pct = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{:.1} %", v * 100.0));
        println!(
            "ETA error {name:<8} n={:<5} median={:>5.1} % (target 20)  p90={:>6.1} % (target 50)  late={:>5.1} %  wait median {}  run median {}",
            t.jobs,
            t.median_error * 100.0,
            t.p90_error * 100.0,
            t.late_share * 100.0,
            pct(t.median_wait_error),
            pct(t.median_run_error),
        );
    };
    for t in &lanes {
        line(t.lane.as_str(), t);
    }
}

/// The measured jobs as the simulation's records (seconds from the first arrival), so the
/// measured and the simulated figures come from one `simulation::summarise`. The lane is the
/// job's size class under the default model (`route`, not the queue it waited in), the same
/// for a lanes and a FIFO run.
fn measured_jobs(
    outcomes: &[(scheduler::eta_truth::EtaOutcome, u64)],
) -> Vec<(scheduler::simulation::SimJob, u64)> {
    let model = scheduler::CostModel::default();
    let thresholds = scheduler::LaneThresholds::default();
    let mut jobs: Vec<_> = outcomes
        .iter()
        .filter_map(|(o, triangles)| {
            let w = o.wait?;
            let finish = o.finished_at.timestamp_millis() as f64 / 1e3;
            let arrival = finish - o.actual_seconds;
            let size = scheduler::routing::route(
                *triangles,
                pricing_core::Format::StlBinary,
                &model,
                &thresholds,
            );
            let job = scheduler::simulation::SimJob {
                lane: size.lane,
                arrival,
                start: arrival + w.actual_wait_seconds,
                finish,
                promised: o.predicted_seconds,
            };
            Some((job, *triangles))
        })
        .collect();
    jobs.sort_by(|a, b| a.0.arrival.total_cmp(&b.0.arrival));
    let t0 = jobs.first().map_or(0.0, |j| j.0.arrival);
    for (j, _) in &mut jobs {
        j.arrival -= t0;
        j.start -= t0;
        j.finish -= t0;
    }
    jobs
}

/// The measured jobs again through `scheduler::simulation`: arrivals at their `created_at`,
/// each run as long as it was (a cost model fitted to the runs, each job's factor its own
/// actual over predicted), on `slots` slots queued as the run was. What differs is the
/// queueing alone.
fn simulated(
    measured: &[(scheduler::simulation::SimJob, u64)],
    slots: u32,
    queueing: scheduler::Queueing,
) -> Option<scheduler::simulation::Summary> {
    use scheduler::cost::{CoefficientSource, CostModel, FormatModel, Observation, fit};
    use scheduler::simulation::{Arrival, Cluster, simulate, summarise};
    if measured.len() < 10 {
        return None;
    }
    let run = |j: &scheduler::simulation::SimJob| j.finish - j.start;
    let observations: Vec<Observation> = measured
        .iter()
        .map(|(j, triangles)| Observation {
            triangles: *triangles,
            seconds: run(j),
        })
        .collect();
    let c = fit(&observations, 2)?;
    let mut model = CostModel::default();
    model.formats.insert(
        "stl-binary".into(),
        FormatModel {
            coefficients: c,
            source: CoefficientSource::Calibrated,
            samples: measured.len() as u64,
            updated_at: None,
        },
    );
    let arrivals: Vec<Arrival> = measured
        .iter()
        .map(|(j, triangles)| Arrival {
            at: j.arrival,
            triangles: *triangles,
            format: pricing_core::Format::StlBinary,
            cost_factor: run(j) / model.predict("stl-binary", *triangles).max(1e-6),
        })
        .collect();
    let cluster = Cluster {
        slots,
        queueing,
        thresholds: scheduler::routing::LaneThresholds::default(),
    };
    let mut jobs = simulate(&arrivals, &model, &cluster);
    // Reported by the same size class as the measured jobs (the simulation queued them by its
    // own fitted model, as the store did by its calibrated one).
    for (sim, (measured, _)) in jobs.iter_mut().zip(measured) {
        sim.lane = measured.lane;
    }
    Some(summarise(&jobs))
}

/// One run's figures: measured, and simulated when the run had the ring mix.
struct Figures {
    queueing: scheduler::Queueing,
    measured: scheduler::simulation::Summary,
    simulated: Option<scheduler::simulation::Summary>,
}

/// Lanes against FIFO (or one run alone), measured and simulated, side by side.
fn side_by_side(runs: &[Figures], slots: u32) {
    let mut header = format!("{:<26}", "");
    for r in runs {
        header.push_str(&format!(
            "{:>14}",
            format!("{} measured", r.queueing.as_str())
        ));
        if r.simulated.is_some() {
            header.push_str(&format!("{:>14}", format!("{} sim", r.queueing.as_str())));
        }
    }
    println!("\n{header}    (sim: scheduler::simulation, {slots} slots)");
    type Pick = fn(&scheduler::simulation::Summary) -> f64;
    let rows: [(&str, Pick, &str); 6] = [
        ("small wait p50", |s| s.small_wait_p50, "s"),
        ("small wait p99", |s| s.small_wait_p99, "s"),
        ("medium/large wait max", |s| s.large_wait_max, "s"),
        ("throughput", |s| s.throughput, "jobs/s"),
        ("ETA error median", |s| s.eta_error_p50 * 100.0, "%"),
        ("ETA error p90", |s| s.eta_error_p90 * 100.0, "%"),
    ];
    for (name, pick, unit) in rows {
        let mut line = format!("{:<26}", format!("{name} ({unit})"));
        for r in runs {
            line.push_str(&format!("{:>14.3}", pick(&r.measured)));
            if let Some(sim) = &r.simulated {
                line.push_str(&format!("{:>14.3}", pick(sim)));
            }
        }
        println!("{line}");
    }
}

/// One line per finished job with an ETA: lane, triangles, promised and actual seconds to final,
/// and the queue-wait part of each.
fn write_eta_csv(path: &str, outcomes: &[(scheduler::eta_truth::EtaOutcome, u64)]) {
    let mut out = String::from(
        "lane,triangles,promised_s,actual_s,promised_wait_s,actual_wait_s,relative_error\n",
    );
    for (o, triangles) in outcomes {
        let (pw, aw) = o.wait.map_or((f64::NAN, f64::NAN), |w| {
            (w.predicted_wait_seconds, w.actual_wait_seconds)
        });
        out.push_str(&format!(
            "{},{triangles},{:.3},{:.3},{pw:.3},{aw:.3},{:.4}\n",
            o.lane.as_str(),
            o.predicted_seconds,
            o.actual_seconds,
            o.relative_error()
        ));
    }
    std::fs::write(path, out).unwrap();
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
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let workers = if o.roles { o.workers.max(1) } else { 1 };
    // Each worker defaults to one slot per core; several on one machine share the cores.
    let slots = o.slots.unwrap_or((cores / workers).max(1));
    assert!(
        o.url.is_none() || o.queueing == [scheduler::Queueing::Lanes],
        "--queueing needs a cluster this tool starts, not --url"
    );
    let mut runs = Vec::new();
    let mut failed = false;
    for &queueing in &o.queueing {
        let (figures, ok) = run_once(&o, workers, slots, queueing).await;
        failed |= !ok;
        runs.extend(figures);
    }
    if !runs.is_empty() {
        side_by_side(&runs, (workers * slots) as u32);
    }
    if failed {
        std::process::exit(1);
    }
}

/// One cluster started (unless `--url`), warmed up, loaded and stopped. False when an upload
/// failed or a job did not finish.
async fn run_once(
    o: &Options,
    workers: usize,
    slots: usize,
    queueing: scheduler::Queueing,
) -> (Option<Figures>, bool) {
    let (url, key, spawned, cleanup) = match (&o.url, &o.key) {
        (Some(u), Some(k)) => (u.clone(), k.clone(), Spawned(Vec::new(), None), None),
        (Some(_), None) => panic!("--url needs --key"),
        _ if o.roles => start_roles(workers, slots, queueing),
        _ => start_serve(slots, queueing),
    };
    // `--url` may list several APIs (comma- or space-separated): uploads go round-robin, as a
    // balancer would spread them; reads go to the first.
    let urls: Vec<String> = url
        .split([',', ' '])
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect();
    urls.iter().for_each(|u| loopback_only(u));
    let (models, plan, warmup) = if o.rings {
        ring_mix(o)
    } else {
        let models_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/models");
        let models: Vec<Model> = MODELS
            .iter()
            .map(|m| Model {
                name: (*m).to_owned(),
                bytes: std::fs::read(models_dir.join(m)).unwrap(),
                stamp: false,
            })
            .collect();
        let plan = (0..o.uploads).map(|i| i % models.len()).collect();
        let warmup = (0..o.warmup).map(|i| i % models.len()).collect();
        (models, plan, warmup)
    };
    let models = Arc::new(models);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let target = if o.url.is_some() {
        "external".to_owned()
    } else if o.roles {
        format!(
            "api + scheduler + {workers} worker(s) of {slots} slot(s) on RabbitMQ/PostgreSQL, queueing {}",
            queueing.as_str()
        )
    } else {
        format!("pricing serve, queueing {}", queueing.as_str())
    };
    let run = uuid_like();
    let batch = Batch {
        client,
        urls,
        key,
        models,
        run,
    };
    if !warmup.is_empty() {
        println!(
            "warm-up: {} uploads, two at a time, to calibrate the cost model",
            warmup.len()
        );
        let w = batch.run(&warmup, &[], 2, o.timeout, "warmup").await;
        if !w.errors.is_empty() || w.pending > 0 {
            for e in w.errors.iter().take(10) {
                eprintln!("warm-up error: {e}");
            }
            panic!("the warm-up did not finish: {} pending", w.pending);
        }
    }
    let arrivals =
        fixtures::workload::arrivals(o.seed, o.uploads, o.rate, o.burst_every, o.burst_size);
    let pace = if o.rate > 0.0 {
        format!(
            "arriving at {} per second, every {}th bringing {} at once, over {:.0} s",
            o.rate,
            o.burst_every,
            o.burst_size,
            arrivals.last().copied().unwrap_or(0.0)
        )
    } else {
        "all at once".to_owned()
    };
    println!(
        "load: {} uploads ({pace}) of {} models against {} ({target})",
        o.uploads,
        batch.models.len(),
        batch.urls.join(" "),
    );
    let done = batch
        .run(&plan, &arrivals, usize::MAX, o.timeout, "load")
        .await;
    println!(
        "uploads: {} accepted, {} throttled (429), {} errors in {:.2} s = {:.0} uploads/s",
        done.latencies.len(),
        done.throttled,
        done.errors.len(),
        done.upload_secs,
        o.uploads as f64 / done.upload_secs
    );
    summary("upload latency", done.latencies);
    println!(
        "final states: {:?}; {} not final after {:.0} s; all done in {:.2} s = {:.1} jobs/s end to end",
        done.finals,
        done.pending,
        o.timeout.as_secs_f64(),
        done.total_secs,
        done.to_final.len() as f64 / done.total_secs
    );
    summary("submit to final state", done.to_final);
    let outcomes: Vec<_> = done.eta_outcomes.iter().map(|(o, _)| *o).collect();
    eta_truth(&outcomes);
    let measured = measured_jobs(&done.eta_outcomes);
    let figures = (!measured.is_empty()).then(|| {
        let jobs: Vec<_> = measured.iter().map(|(j, _)| *j).collect();
        Figures {
            queueing,
            measured: scheduler::simulation::summarise(&jobs),
            simulated: if o.rings && o.url.is_none() {
                simulated(&measured, (workers * slots) as u32, queueing)
            } else {
                None
            },
        }
    });
    if let Some(path) = &o.eta_csv {
        let path = if o.queueing.len() > 1 {
            format!("{path}.{}", queueing.as_str())
        } else {
            path.clone()
        };
        write_eta_csv(&path, &done.eta_outcomes);
        println!("per-job ETA figures written to {path}");
    }
    for e in done.errors.iter().take(10) {
        eprintln!("error: {e}");
    }
    drop(spawned);
    if let Some(c) = cleanup {
        c.run().await;
    }
    (figures, done.errors.is_empty() && done.pending == 0)
}

/// A model to upload; `stamp`: each upload's copy gets its own STL header (distinct bytes).
struct Model {
    name: String,
    bytes: Vec<u8>,
    stamp: bool,
}

/// The ring mix: one binary STL ring per size of `fixtures::workload::SIZE_MIX`, drawn with the
/// seed for the measured uploads and with the next seed for the warm-up.
fn ring_mix(o: &Options) -> (Vec<Model>, Vec<usize>, Vec<usize>) {
    use fixtures::workload::{SIZE_MIX, sizes};
    let plan = sizes(o.seed, o.uploads);
    let warmup = sizes(o.seed.wrapping_add(1), o.warmup);
    let t0 = Instant::now();
    let models: Vec<Model> = SIZE_MIX
        .iter()
        .map(|&(triangles, _)| {
            let (mesh, _) = fixtures::big_ring(triangles);
            let mut bytes = Vec::new();
            fixtures::write_stl_binary(&mesh, &mut bytes).unwrap();
            Model {
                name: format!("{}k ring", triangles / 1000),
                bytes,
                stamp: true,
            }
        })
        .collect();
    let triangles: usize = plan.iter().map(|&i| SIZE_MIX[i].0).sum();
    println!(
        "ring mix (seed {}): {} uploads, {:.0}k triangles on average; rings generated in {:.1} s",
        o.seed,
        plan.len(),
        triangles as f64 / plan.len().max(1) as f64 / 1000.0,
        t0.elapsed().as_secs_f64()
    );
    (models, plan, warmup)
}

/// Where and what to upload.
struct Batch {
    client: reqwest::Client,
    urls: Vec<String>,
    key: String,
    models: Arc<Vec<Model>>,
    run: String,
}

/// What a batch came to.
struct BatchResult {
    latencies: Vec<f64>,
    throttled: usize,
    errors: Vec<String>,
    upload_secs: f64,
    to_final: Vec<f64>,
    eta_outcomes: Vec<(scheduler::eta_truth::EtaOutcome, u64)>,
    finals: std::collections::BTreeMap<String, usize>,
    pending: usize,
    total_secs: f64,
}

impl Batch {
    /// Uploads `plan` (indices into the models), each at its offset in `arrivals` (seconds from
    /// the start; none: at once) and at most `concurrency` at a time, then waits until every
    /// accepted job is final or `timeout` has passed.
    async fn run(
        &self,
        plan: &[usize],
        arrivals: &[f64],
        concurrency: usize,
        timeout: Duration,
        tag: &str,
    ) -> BatchResult {
        let start = Instant::now();
        let gate = Arc::new(tokio::sync::Semaphore::new(concurrency.min(1 << 20)));
        let tasks: Vec<_> = plan
            .iter()
            .enumerate()
            .map(|(i, &m)| {
                let (client, url, key, models, gate) = (
                    self.client.clone(),
                    self.urls[i % self.urls.len()].clone(),
                    self.key.clone(),
                    self.models.clone(),
                    gate.clone(),
                );
                let idem = format!("{tag}-{}-{i}", self.run);
                let wait_final = concurrency < plan.len();
                let due = start + Duration::from_secs_f64(arrivals.get(i).copied().unwrap_or(0.0));
                tokio::spawn(async move {
                    tokio::time::sleep_until(due.into()).await;
                    let _slot = gate.acquire_owned().await.unwrap();
                    let model = &models[m];
                    let mut body = model.bytes.clone();
                    if model.stamp {
                        let header = format!("{idem:<80}");
                        body[..80].copy_from_slice(&header.as_bytes()[..80]);
                    }
                    let t0 = Instant::now();
                    let resp = client
                        .post(format!("{url}/v1/jobs?alloys=au750y"))
                        .bearer_auth(&key)
                        .header("idempotency-key", idem)
                        .body(body)
                        .send()
                        .await;
                    let name = &model.name;
                    let upload = match resp {
                        Ok(r) if r.status() == 202 || r.status() == 200 => {
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
                    };
                    // A paced batch (the warm-up) holds its slot until the job is final.
                    if let (true, Upload::Accepted { id, .. }) = (wait_final, &upload) {
                        let deadline = Instant::now() + Duration::from_secs(300);
                        while Instant::now() < deadline {
                            let job = status(&client, &url, &key, id).await.unwrap_or_default();
                            if is_final(&job) {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                    upload
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

        // Every accepted job must reach a final state.
        let deadline = start + timeout;
        let mut pending: Vec<(String, Instant, Option<DateTime<Utc>>)> = accepted;
        let mut to_final = Vec::new();
        let mut eta_outcomes = Vec::new();
        let mut finals = std::collections::BTreeMap::<String, usize>::new();
        let url = &self.urls[0];
        while !pending.is_empty() && Instant::now() < deadline {
            let checks: Vec<_> = pending
                .iter()
                .map(|(id, _, _)| {
                    let (client, url, key, id) = (
                        self.client.clone(),
                        url.clone(),
                        self.key.clone(),
                        id.clone(),
                    );
                    tokio::spawn(async move { status(&client, &url, &key, &id).await })
                })
                .collect();
            let mut still = Vec::new();
            for ((id, at, promised), check) in pending.into_iter().zip(checks) {
                let job = check.await.unwrap().unwrap_or_default();
                if is_final(&job) {
                    // The store's own clock; polling starts only after the last upload.
                    let time =
                        |k: &str| serde_json::from_value::<DateTime<Utc>>(job[k].clone()).ok();
                    to_final.push(match (time("created_at"), time("finished_at")) {
                        (Some(c), Some(f)) => (f - c).num_milliseconds().max(0) as f64 / 1e3,
                        _ => at.elapsed().as_secs_f64(),
                    });
                    let s = job["status"].as_str().unwrap_or_default().to_owned();
                    *finals.entry(s).or_default() += 1;
                    if let Some(outcome) = eta_outcome(&job, promised) {
                        let triangles = job["triangles"].as_u64().unwrap_or(0);
                        eta_outcomes.push((outcome, triangles));
                    }
                } else {
                    still.push((id, at, promised));
                }
            }
            pending = still;
            if !pending.is_empty() {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
        BatchResult {
            latencies,
            throttled,
            errors,
            upload_secs,
            to_final,
            eta_outcomes,
            finals,
            pending: pending.len(),
            total_secs: start.elapsed().as_secs_f64(),
        }
    }
}

async fn status(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    id: &str,
) -> Option<serde_json::Value> {
    client
        .get(format!("{url}/v1/jobs/{id}"))
        .bearer_auth(key)
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()
}

fn is_final(job: &serde_json::Value) -> bool {
    job["status"]
        .as_str()
        .and_then(|s| s.parse::<scheduler::JobStatus>().ok())
        .is_some_and(scheduler::JobStatus::is_terminal)
}
