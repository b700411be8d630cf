//! Outbox relay throughput on RabbitMQ + PostgreSQL, and the database statements one job costs.
//!
//! 1. **Statements per job**: one partner job with a reference, from intake to its CRM event, with
//!    every SQL statement sqlx executes counted (sqlx logs each at DEBUG under `sqlx::query`):
//!    intake (probe + route + submit), relay of the run row, start, completion, relay of the
//!    MES and CRM rows. Each statement is one round trip to the database.
//! 2. **Rows per second**: `BENCH_JOBS` jobs (default 2,000) are submitted and half of them
//!    priced, so the outbox holds one run row per job plus an MES and a CRM row per priced job;
//!    then relay passes of 100 rows publish them all with publisher confirms, timed. Three runs,
//!    each on a fresh database and topology.
//!
//! `cargo bench -p worker --bench relay` (here for the worker crate's test harness: a real
//! database, broker and blob store; the relay itself is `scheduler::roles::relay`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use contracts::Channel;
use scheduler::roles::BrokerPublisher;
use scheduler::work::{Completion, Outcome, StartOutcome};
use support::{Backend, Harness};
use tracing_subscriber::layer::SubscriberExt;
use uuid::Uuid;

/// Counts the statements sqlx executes.
#[derive(Clone, Default)]
struct Statements(Arc<AtomicU64>);

impl Statements {
    fn take(&self) -> u64 {
        self.0.swap(0, Ordering::Relaxed)
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Statements {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if event.metadata().target() == "sqlx::query" {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn main() {
    let statements = Statements::default();
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("sqlx::query", tracing::Level::DEBUG);
    let subscriber = tracing_subscriber::registry().with(tracing_subscriber::Layer::with_filter(
        statements.clone(),
        filter,
    ));
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        per_job(&statements).await;
        let jobs: usize = std::env::var("BENCH_JOBS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2_000);
        let mut rates = Vec::new();
        for run in 1..=3 {
            let (rows, seconds) = throughput(jobs).await;
            let rate = rows as f64 / seconds;
            println!("relay run {run}: {rows} rows in {seconds:.2} s = {rate:.0} rows/s");
            rates.push(rate);
        }
        rates.sort_by(f64::total_cmp);
        println!("relay throughput (median of 3): {:.0} rows/s", rates[1]);
    });
}

async fn priced(h: &Harness, job: Uuid, attempt: u32) {
    match h.store.start_job(job, "bench-w").await.unwrap() {
        StartOutcome::Started(_) => {}
        other => panic!("{other:?}"),
    }
    let quote = serde_json::json!({"rules_version": "bench", "currency": "EUR", "alloys": []});
    h.store
        .complete_job(Completion {
            job_id: job,
            message_id: scheduler::hashing::completion_key(&format!("run_job/{job}/{attempt}")),
            worker_id: "bench-w".into(),
            outcome: Outcome::Priced {
                quote,
                rules_version: "bench".into(),
            },
            duration_seconds: 0.01,
        })
        .await
        .unwrap();
}

async fn relay_all(h: &Harness, publisher: &BrokerPublisher) -> u64 {
    let mut total = 0;
    loop {
        let report = scheduler::roles::relay_once(h.store.as_ref(), publisher, 100)
            .await
            .unwrap();
        assert!(!report.stopped_on_error, "a publish failed");
        total += u64::from(report.published);
        if report.published == 0 {
            return total;
        }
    }
}

async fn per_job(statements: &Statements) {
    let h = Harness::new(Backend::Cluster).await;
    let publisher = BrokerPublisher::new(h.broker.clone(), h.topology.clone());
    let sha = h.put_model(support::torus()).await;
    // Warm the pools and caches with one job first: what is counted is the steady state.
    let warm = h.submit(&sha, Channel::Partner, Some("PO-0")).await;
    relay_all(&h, &publisher).await;
    priced(&h, warm.id, 1).await;
    relay_all(&h, &publisher).await;

    statements.take();
    let job = h.submit(&sha, Channel::Partner, Some("PO-1")).await;
    let intake = statements.take();
    let run_rows = relay_all(&h, &publisher).await;
    let relay_run = statements.take();
    priced(&h, job.id, 1).await;
    let work = statements.take();
    let event_rows = relay_all(&h, &publisher).await;
    let relay_events = statements.take();
    assert_eq!((run_rows, event_rows), (1, 2));
    println!(
        "statements for one partner job: intake {intake}, relay of its run row {relay_run}, \
         start + completion {work}, relay of its MES and CRM rows {relay_events}; total {}",
        intake + relay_run + work + relay_events
    );
}

async fn throughput(jobs: usize) -> (u64, f64) {
    let h = Harness::new(Backend::Cluster).await;
    let publisher = BrokerPublisher::new(h.broker.clone(), h.topology.clone());
    let sha = h.put_model(support::torus()).await;
    for i in 0..jobs {
        let job = h
            .submit(&sha, Channel::Partner, Some(&format!("PO-{i}")))
            .await;
        if i % 2 == 0 {
            priced(&h, job.id, 1).await;
        }
    }
    let started = Instant::now();
    let rows = relay_all(&h, &publisher).await;
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(rows as usize, jobs + jobs.div_ceil(2) * 2);
    (rows, seconds)
}
