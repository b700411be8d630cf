//! The operators' console against a million jobs, in Debian's headless Chromium: loads
//! `BENCH_JOBS` (default 1,000,000) jobs into a fresh PostgreSQL database with the store
//! benchmark's loader, runs `pricing api` on it and drives the console with playwright-core
//! (`tests/browser/console_perf.mjs`). Prints p50/p95/max of: navigation to the first 50 rows on
//! screen, the next page, back a page, a status filter, and a job uploaded by another client
//! appearing in the open console; each beside its target, as a ratio.
//!
//! ```text
//! scripts/browser-deps && cargo bench --bench console
//! environment: BENCH_JOBS (1000000), BENCH_RUNS (navigations, 20)
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

#[path = "../scheduler/benches/loader.rs"]
mod loader;
#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::process::Command;

use scheduler::{PgStore, StoreConfig};
use support::cluster::Cluster;

const PRICING: &str = env!("CARGO_BIN_EXE_pricing");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// (p50, p95, max) of `xs`, in ms.
fn spread(xs: &[f64]) -> (f64, f64, f64) {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let at = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    (at(0.5), at(0.95), at(1.0))
}

#[tokio::main]
async fn main() {
    let playwright = repo().join("tests/browser/node_modules/playwright-core/package.json");
    assert!(
        playwright.exists() && std::path::Path::new("/usr/bin/chromium").exists(),
        "this bench needs Debian's chromium and playwright-core: run scripts/browser-deps first"
    );
    let jobs = env_u64("BENCH_JOBS", 1_000_000);
    let runs = env_u64("BENCH_RUNS", 20);
    let mut cluster = Cluster::new(PRICING).await;
    {
        // Connecting migrates the fresh database; then the loader fills it.
        let store = PgStore::connect(cluster.database_url(), StoreConfig::default())
            .await
            .expect("open the store");
        loader::load(store.pool(), jobs).await.expect("load jobs");
        store.pool().close().await;
    }
    let op = cluster.key(&["--role", "operator", "--label", "Bench"]);
    let partner = cluster.key(&["--role", "partner", "--tenant", "tenant-7"]);
    // The API alone: the feed and the list read the store; a scheduler would start dispatching
    // the loaded QUEUED jobs, whose models do not exist.
    let url = cluster
        .start(&["api", "--listen", "127.0.0.1:0"])
        .expect("api url");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(repo().join("tests/browser/console_perf.mjs"))
            .env("BASE_URL", &url)
            .env("OP_KEY", &op)
            .env("PARTNER_KEY", &partner)
            .env("MODEL", repo().join("fixtures/models/box.stl"))
            .env("RUNS", runs.to_string())
            .output()
            .expect("run node")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let figures: serde_json::Value = stdout
        .lines()
        .find_map(|l| l.strip_prefix("figures "))
        .map(|j| serde_json::from_str(j).expect("figures json"))
        .expect("no figures line");
    println!(
        "console on {jobs} jobs in PostgreSQL, {runs} navigations, {} cores; times in ms, \
         measured in the page",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<44} {:>7} {:>7} {:>7} {:>7} {:>10}",
        "", "p50", "p95", "max", "target", "p95/target"
    );
    let mut met = true;
    for (key, label, target) in [
        ("first", "navigation → first 50 rows on screen", 200.0),
        ("next", "next page (Older →)", 100.0),
        ("back", "previous page (← Newer)", 100.0),
        ("filtered", "status filter ticked → its first page", 200.0),
        ("live", "upload by another client → row on screen", 1000.0),
    ] {
        let xs: Vec<f64> = figures[key]
            .as_array()
            .expect(key)
            .iter()
            .filter_map(serde_json::Value::as_f64)
            .collect();
        let (p50, p95, max) = spread(&xs);
        met &= p95 <= target;
        println!(
            "{label:<44} {p50:>7.1} {p95:>7.1} {max:>7.1} {target:>7.0} {:>10.2}",
            p95 / target
        );
    }
    println!(
        "{}",
        if met {
            "every p95 within its target"
        } else {
            "OVER TARGET: a p95 above is over its target"
        }
    );
    drop(cluster);
    if !met {
        std::process::exit(1);
    }
}
