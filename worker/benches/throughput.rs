//! End-to-end throughput and latency through RabbitMQ + PostgreSQL with 1 and 2 worker processes.
//!
//! What is timed, per job: from just before `JobStore::submit` returns control (the submit is
//! the first thing timed) to the moment the `price.calculated` event is received from the MES
//! results queue. In between: the submit transaction and its outbox row, the relay publishing
//! the run message (confirmed), RabbitMQ, a worker process (start, blob read, pricing, the
//! completion transaction with its outbox rows), that worker's relay publishing the event
//! (confirmed), RabbitMQ again, and this process's consumer.
//!
//! Load: open loop at `BENCH_RATE` jobs/s (default 50) for `BENCH_SECONDS` (default 20) per
//! scenario; models are the committed 2,304-triangle torus ring and a 50,000-triangle ring
//! (`fixtures::big_ring`), both routed to the small lane. Each worker process runs with the
//! default slots (one per CPU) and its own outbox relay; this process runs the relay for run
//! messages. A fresh database and topology per scenario.
//!
//! `cargo bench -p worker --bench throughput`; `BENCH_WORKERS=1,2`, `BENCH_MIX=torus,ring50k,mixed`
//! select scenarios. The same binary is re-executed as a worker process (`BENCH_WORKER_SPEC`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use contracts::{Channel, Contract, PriceCalculated, routing};
use pricing_core::Limits;
use scheduler::intake::{self, IntakeRequest, StoredModel};
use scheduler::roles::RelayConfig;
use support::{Backend, Harness};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use worker::WorkerConfig;

const SPEC_ENV: &str = "BENCH_WORKER_SPEC";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    match std::env::var(SPEC_ENV) {
        Ok(spec) => runtime.block_on(worker_process(&spec)),
        Err(_) => runtime.block_on(driver()),
    }
}

/// A worker process: worker + relay until its stdin closes.
async fn worker_process(spec: &str) {
    let (worker_id, ctx) = support::child_context(spec).await;
    let stop = CancellationToken::new();
    let on_eof = stop.clone();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        on_eof.cancel();
    });
    let mut config = WorkerConfig::new(&worker_id);
    if let Some(slots) = std::env::var("BENCH_SLOTS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        config = config.with_slots(slots);
    }
    worker::run_worker_and_relay(ctx, config, RelayConfig::default(), stop)
        .await
        .unwrap();
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mix {
    Torus,
    Ring50k,
    Mixed,
}

impl Mix {
    fn parse(s: &str) -> Option<Mix> {
        match s {
            "torus" => Some(Mix::Torus),
            "ring50k" => Some(Mix::Ring50k),
            "mixed" => Some(Mix::Mixed),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Mix::Torus => "torus 2,304 tri",
            Mix::Ring50k => "ring 50,000 tri",
            Mix::Mixed => "50/50 torus + ring",
        }
    }

    /// Which of the two models job `i` uses.
    fn model(self, i: usize) -> usize {
        match self {
            Mix::Torus => 0,
            Mix::Ring50k => 1,
            Mix::Mixed => i % 2,
        }
    }
}

fn env_list<T>(name: &str, default: &str, parse: impl Fn(&str) -> Option<T>) -> Vec<T> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|s| parse(s.trim()).unwrap_or_else(|| panic!("bad {name} entry {s:?}")))
        .collect()
}

async fn driver() {
    support::init_tracing();
    let rate: f64 = std::env::var("BENCH_RATE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50.0);
    let seconds: f64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20.0);
    let workers = env_list("BENCH_WORKERS", "1,2", |s| s.parse::<usize>().ok());
    let mixes = env_list("BENCH_MIX", "torus,ring50k,mixed", Mix::parse);
    let slots = std::env::var("BENCH_SLOTS")
        .ok()
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or_else(worker::available_slots);
    println!(
        "throughput: {rate} jobs/s offered for {seconds} s per scenario; {} CPUs; slots per worker process = {slots}",
        worker::available_slots(),
    );
    let mut rows = Vec::new();
    for &mix in &mixes {
        for &n in &workers {
            let r = scenario(mix, n, rate, seconds).await;
            r.print();
            rows.push(r);
        }
    }
    println!(
        "\n| models | worker processes | offered jobs/s | completed jobs/s | p50 ms | p99 ms | max ms | submit→start p50/p99 ms | pricing+record p50/p99 ms | record→event p50/p99 ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        r.print_row();
    }
}

struct Report {
    mix: Mix,
    workers: usize,
    offered: f64,
    completed: usize,
    submitted: usize,
    throughput: f64,
    latency: Vec<f64>,
    per_model: [Vec<f64>; 2],
    queued: Vec<f64>,
    priced: Vec<f64>,
    published: Vec<f64>,
}

fn pct(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank.
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

impl Report {
    fn print(&self) {
        println!(
            "\n== {} with {} worker process(es): {}/{} priced, {:.1} jobs/s",
            self.mix.name(),
            self.workers,
            self.completed,
            self.submitted,
            self.throughput
        );
        let lat = sorted(self.latency.clone());
        println!(
            "   lane small  submit→price.calculated p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            lat.last().copied().unwrap_or(f64::NAN)
        );
        for (name, v) in ["torus", "ring50k"].iter().zip(&self.per_model) {
            if v.is_empty() {
                continue;
            }
            let v = sorted(v.clone());
            println!(
                "   {name:8} n={:5}  p50 {:.1} ms  p99 {:.1} ms",
                v.len(),
                pct(&v, 0.5),
                pct(&v, 0.99)
            );
        }
        for (name, v) in [
            ("submit→start (relay, broker, queue)", &self.queued),
            ("start→recorded (blob, pricing, commit)", &self.priced),
            ("recorded→event received (relay, broker)", &self.published),
        ] {
            let v = sorted(v.clone());
            println!(
                "   {name:42} p50 {:.1} ms  p99 {:.1} ms",
                pct(&v, 0.5),
                pct(&v, 0.99)
            );
        }
    }

    fn print_row(&self) {
        let lat = sorted(self.latency.clone());
        let q = sorted(self.queued.clone());
        let p = sorted(self.priced.clone());
        let e = sorted(self.published.clone());
        println!(
            "| {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} / {:.1} | {:.1} / {:.1} | {:.1} / {:.1} |",
            self.mix.name(),
            self.workers,
            self.offered,
            self.throughput,
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            lat.last().copied().unwrap_or(f64::NAN),
            pct(&q, 0.5),
            pct(&q, 0.99),
            pct(&p, 0.5),
            pct(&p, 0.99),
            pct(&e, 0.5),
            pct(&e, 0.99),
        );
    }
}

struct Sent {
    at: Instant,
    model: usize,
}

#[derive(Default)]
struct Received {
    at: HashMap<Uuid, (Instant, DateTime<Utc>)>,
}

fn spawn_worker(h: &Harness, id: &str) -> Child {
    let spec = h.child_spec(id);
    Command::new(std::env::current_exe().unwrap())
        .env(SPEC_ENV, spec)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The 1-minute load average, to read the figures against (other work on the machine).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

async fn scenario(mix: Mix, workers: usize, rate: f64, seconds: f64) -> Report {
    println!(
        "\n-- {} x{workers}: load average before {}",
        mix.name(),
        load_average()
    );
    let h = Harness::new(Backend::Cluster).await;
    let models = [support::torus(), support::ring(50_000)];
    let mut stored = Vec::new();
    for bytes in &models {
        let sha = h.put_model(bytes.clone()).await;
        let model = StoredModel {
            sha256: &sha,
            size: bytes.len() as u64,
            prefix: &bytes[..4096.min(bytes.len())],
        };
        let probe = intake::probe_stored(
            &h.blobs,
            model,
            None,
            intake::Probing {
                limits: &Limits::default(),
                slots: None,
            },
        )
        .await
        .unwrap();
        stored.push((sha, probe));
    }
    let mut children: Vec<Child> = (0..workers)
        .map(|i| spawn_worker(&h, &format!("bench-w{i}")))
        .collect();

    let received = Arc::new(Mutex::new(Received::default()));
    let stop = CancellationToken::new();
    let wake = Arc::new(Notify::new());
    let relay = tokio::spawn(scheduler::roles::run_relay_with(
        h.store.clone(),
        h.broker.clone(),
        h.topology.clone(),
        RelayConfig::default().with_wake(wake.clone()),
        stop.clone(),
    ));
    let mut mes = h.consume(&h.topology.mes_results_queue()).await;
    let collector = {
        let received = received.clone();
        tokio::spawn(async move {
            while let Some(d) = mes.next().await {
                let now = (Instant::now(), Utc::now());
                if d.routing_key() == routing::PRICE_CALCULATED {
                    let e = PriceCalculated::from_json(d.payload()).unwrap();
                    received.lock().unwrap().at.insert(e.job_id, now);
                } else {
                    eprintln!("unexpected event {:?}", d.message_id());
                }
                let _ = d.ack().await;
            }
        })
    };

    let request = |i: usize| IntakeRequest {
        tenant: format!("tenant-{}", i % 4),
        channel: Channel::Website,
        idempotency_key: format!("bench-{i}"),
        partner_ref: None,
        alloys: vec!["au750y".into()],
        units: None,
        format_hint: None,
        // Never answered from the quote cache: every job is priced by a worker.
        rules_version: None,
    };

    // Warm-up: both models once through every worker process, not timed.
    let warm = (0..2 * workers).map(|i| {
        let (sha, probe) = &stored[i % 2];
        intake::new_job(&request(1_000_000 + i), sha, probe)
    });
    let mut warm_ids = Vec::new();
    for job in warm {
        warm_ids.push(h.store.submit(job).await.unwrap().job.job.id);
    }
    wake.notify_one();
    wait_for(&received, &warm_ids, Duration::from_secs(120)).await;

    let total = (rate * seconds).round() as usize;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let sent: Arc<Mutex<HashMap<Uuid, Sent>>> = Arc::new(Mutex::new(HashMap::new()));
    let start = Instant::now();
    let mut submits = tokio::task::JoinSet::new();
    for i in 0..total {
        let due = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        let model = mix.model(i);
        let (sha, probe) = &stored[model];
        let job = intake::new_job(&request(i), sha, probe);
        let (store, sent, wake) = (h.store.clone(), sent.clone(), wake.clone());
        submits.spawn(async move {
            let at = Instant::now();
            let id = store.submit(job).await.unwrap().job.job.id;
            sent.lock().unwrap().insert(id, Sent { at, model });
            wake.notify_one();
        });
    }
    while submits.join_next().await.is_some() {}
    let ids: Vec<Uuid> = sent.lock().unwrap().keys().copied().collect();
    let complete = wait_for(&received, &ids, Duration::from_secs(180)).await;
    let first = start;

    // Stop the workers: closing stdin makes each drain and exit.
    for child in &mut children {
        drop(child.stdin.take());
    }
    for child in &mut children {
        let _ = child.wait();
    }
    stop.cancel();
    let _ = relay.await;
    collector.abort();

    let mut report = Report {
        mix,
        workers,
        offered: rate,
        completed: 0,
        submitted: ids.len(),
        throughput: 0.0,
        latency: Vec::new(),
        per_model: [Vec::new(), Vec::new()],
        queued: Vec::new(),
        priced: Vec::new(),
        published: Vec::new(),
    };
    let received = std::mem::take(&mut received.lock().unwrap().at);
    let sent = std::mem::take(&mut *sent.lock().unwrap());
    let mut last = first;
    for (id, s) in &sent {
        let Some((at, wall)) = received.get(id) else {
            continue;
        };
        last = last.max(*at);
        let ms = at.duration_since(s.at).as_secs_f64() * 1e3;
        report.latency.push(ms);
        report.per_model[s.model].push(ms);
        report.completed += 1;
        let job = h.store.get_job(*id).await.unwrap().job;
        if let (Some(started), Some(finished)) = (job.started_at, job.finished_at) {
            let ms_between = |a: DateTime<Utc>, b: DateTime<Utc>| {
                (b - a).num_microseconds().unwrap_or(0) as f64 / 1e3
            };
            report.queued.push(ms_between(job.created_at, started));
            report.priced.push(ms_between(started, finished));
            report.published.push(ms_between(finished, *wall));
        }
    }
    report.throughput = report.completed as f64 / last.duration_since(first).as_secs_f64();
    println!("   load average after {}", load_average());
    if !complete {
        println!(
            "   (!) {} of {} jobs had no answer within the wait",
            ids.len() - report.completed,
            ids.len()
        );
    }
    report
}

/// Waits until every id has an answer; false when `within` ran out first.
async fn wait_for(received: &Mutex<Received>, ids: &[Uuid], within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        let done = {
            let r = received.lock().unwrap();
            ids.iter().all(|id| r.at.contains_key(id))
        };
        if done {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
