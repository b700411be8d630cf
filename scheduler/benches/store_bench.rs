//! Job-store benchmark on PostgreSQL: loads N jobs (default 1,000,000) into a fresh database and
//! prints query latencies, keyset-vs-OFFSET paging and submission throughput.
//!
//! `cargo bench -p scheduler --bench store_bench`
//! Environment: BENCH_JOBS (rows to load), BENCH_QUERIES (newest-50 queries, default 1000),
//! BENCH_SUBMIT_SECONDS (default 20), BENCH_CONCURRENCY (submitters, default 8),
//! BENCH_DATABASE_URL or TEST_DATABASE_URL (admin URL), BENCH_KEEP=1 to keep the database.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use contracts::Channel;
use scheduler::{Cursor, JobQuery, JobStatus, JobStore, NewJob, PgStore, StoreConfig};

mod loader;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// The server to create the bench database on: `BENCH_DATABASE_URL`, else the tests' server.
fn admin_url() -> String {
    std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| test_support::admin_url())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

async fn newest_50(store: &PgStore, queries: u64) -> Res<()> {
    let statuses = [
        JobStatus::PriceCalculated,
        JobStatus::Queued,
        JobStatus::Rejected,
        JobStatus::Failed,
        JobStatus::Calculating,
    ];
    for (label, tenant) in [("status", None), ("tenant+status", Some("tenant-7"))] {
        let mut times = Vec::new();
        for i in 0..queries {
            let q = JobQuery {
                statuses: vec![statuses[(i % statuses.len() as u64) as usize]],
                tenant: tenant.map(str::to_owned),
                limit: 50,
                ..JobQuery::default()
            };
            let t = Instant::now();
            let page = store.list_jobs(&q).await?;
            times.push(t.elapsed());
            // Every status has jobs; a tenant may have no running job.
            if page.jobs.is_empty() && tenant.is_none() {
                return Err(format!("no jobs for {q:?}").into());
            }
        }
        times.sort();
        println!(
            "newest 50 by {label:<14} ({queries} queries, 5 statuses): p50 {}  p99 {}  max {}",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
            ms(percentile(&times, 1.0)),
        );
    }
    Ok(())
}

async fn page_1000(store: &PgStore) -> Res<()> {
    const PAGE: u64 = 50;
    const RUNS: usize = 30;
    let base = JobQuery {
        statuses: vec![JobStatus::PriceCalculated],
        tenant: None,
        limit: PAGE as u32,
        ..JobQuery::default()
    };
    // The cursor a client holds after reading page 999: the last row of that page.
    let last_of_999 = store
        .list_jobs_by_offset(
            &JobQuery {
                limit: 1,
                ..base.clone()
            },
            999 * PAGE - 1,
        )
        .await?;
    let Some(last) = last_of_999.first() else {
        return Err(
            "fewer than 1000 pages of PRICE_CALCULATED jobs: use BENCH_JOBS >= 60000".into(),
        );
    };
    let keyset_q = JobQuery {
        cursor: Some(Cursor::after(last).encode()),
        ..base.clone()
    };
    let mut keyset = Vec::new();
    let mut offset = Vec::new();
    let mut same = true;
    for _ in 0..RUNS {
        let t = Instant::now();
        let a = store.list_jobs(&keyset_q).await?;
        keyset.push(t.elapsed());
        let t = Instant::now();
        let b = store.list_jobs_by_offset(&base, 999 * PAGE).await?;
        offset.push(t.elapsed());
        same &= a.jobs.iter().map(|j| j.id).eq(b.iter().map(|j| j.id));
    }
    keyset.sort();
    offset.sort();
    let (k, o) = (percentile(&keyset, 0.5), percentile(&offset, 0.5));
    println!(
        "page 1,000 (50 per page, PRICE_CALCULATED, {RUNS} runs each): keyset p50 {}  OFFSET p50 {}  \
         ratio {:.0}x  same rows: {same}",
        ms(k),
        ms(o),
        o.as_secs_f64() / k.as_secs_f64().max(1e-9)
    );
    if !same {
        return Err("keyset and OFFSET page 1,000 differ".into());
    }
    for (label, sql) in [
        (
            "keyset",
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT id FROM jobs \
             WHERE status = 'PRICE_CALCULATED' AND (created_at, id) < ($1, $2) \
             ORDER BY created_at DESC, id DESC LIMIT 51",
        ),
        (
            "OFFSET",
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT id FROM jobs \
             WHERE status = 'PRICE_CALCULATED' ORDER BY created_at DESC, id DESC \
             LIMIT 50 OFFSET 49950",
        ),
    ] {
        let mut q = sqlx::query_scalar::<_, String>(sql);
        if label == "keyset" {
            q = q.bind(last.created_at).bind(last.id);
        }
        let plan = q.fetch_all(store.pool()).await?;
        println!(
            "  {label} plan: {}",
            plan.join(" | ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    Ok(())
}

async fn submissions(store: Arc<PgStore>, seconds: u64, concurrency: u64) -> Res<()> {
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(store.pool())
        .await?;
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..concurrency {
        let store = store.clone();
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut i = 0u64;
            while Instant::now() < deadline {
                i += 1;
                let n = task * 1_000_000_000 + i;
                let job = NewJob {
                    tenant: format!("bench-{}", n % 8),
                    channel: if n.is_multiple_of(3) {
                        Channel::Website
                    } else {
                        Channel::Partner
                    },
                    idempotency_key: format!("bench-{task}-{i}"),
                    partner_ref: None,
                    model_sha256: scheduler::hashing::sha256_hex(&n.to_le_bytes()),
                    format: contracts::Format::StlBinary,
                    triangles: (n * 7919) % 3_000_000,
                    alloys: vec!["au750".into()],
                    options: serde_json::json!({"finish": "polished"}),
                    rules_version: None,
                };
                let t = Instant::now();
                store.submit(job).await?;
                times.push(t.elapsed());
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, scheduler::StoreError>(times)
        }));
    }
    let mut times = Vec::new();
    for t in tasks {
        times.extend(t.await??);
    }
    let elapsed = t0.elapsed().as_secs_f64();
    times.sort();
    let n = done.load(Ordering::Relaxed);
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(store.pool())
        .await?;
    println!(
        "submit (route + estimate + job + 2 history rows + counter + fair-queue row + outbox, one \
         transaction): {n} jobs in {elapsed:.1} s with {concurrency} concurrent submitters = \
         {:.0} jobs/s; latency p50 {} p99 {}; outbox rows written {}",
        n as f64 / elapsed,
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        after - before
    );
    if u64::try_from(after - before)? != n {
        return Err("outbox rows do not match submissions".into());
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Res<()> {
    let arg_jobs = std::env::args()
        .skip(1)
        .find_map(|a| a.replace('_', "").parse::<u64>().ok());
    let jobs = arg_jobs.unwrap_or_else(|| env_u64("BENCH_JOBS", 1_000_000));
    let queries = env_u64("BENCH_QUERIES", 1000);
    let seconds = env_u64("BENCH_SUBMIT_SECONDS", 20);
    let concurrency = env_u64("BENCH_CONCURRENCY", 8);
    let db = test_support::PgDatabase::create_on(
        &admin_url(),
        &test_support::unique_name("bench_sched"),
    )
    .await?;
    println!(
        "database {}; {} cores",
        db.name(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let result = async {
        let config = StoreConfig {
            max_connections: u32::try_from(concurrency + 2)?,
            ..StoreConfig::default()
        };
        let store = Arc::new(PgStore::connect(db.url(), config).await?);
        loader::load(store.pool(), jobs).await?;
        newest_50(&store, queries).await?;
        page_1000(&store).await?;
        submissions(store.clone(), seconds, concurrency).await?;
        store.pool().close().await;
        Res::Ok(())
    }
    .await;
    // Otherwise the guard drops the database.
    if std::env::var("BENCH_KEEP").is_ok_and(|v| v == "1") {
        println!("kept database {}", db.keep());
    }
    result
}
