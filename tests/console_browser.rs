//! The operators' console and the quote page in Debian's headless Chromium, driven by
//! playwright-core (`tests/browser/console.mjs`), against the cluster roles as separate
//! processes on RabbitMQ and PostgreSQL. `scripts/browser-deps` installs Chromium and
//! playwright-core (the test command runs it); without them this test fails and says so.
//! `UPDATE_SCREENSHOTS=1` writes the screenshots to `docs/screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::cluster::Cluster;
use support::get_json;
use test_support::fixture;

const PRICING: &str = env!("CARGO_BIN_EXE_pricing");
const NASTY_TENANT: &str = "<b>acme</b> & \"o'brien\"";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn require_browser_tools() {
    let playwright = repo().join("tests/browser/node_modules/playwright-core/package.json");
    let chromium = Path::new("/usr/bin/chromium");
    assert!(
        playwright.exists() && chromium.exists(),
        "the browser tests need Debian's chromium and playwright-core: run scripts/browser-deps \
         (the test command does)"
    );
}

/// Polls the job until its status is `want`.
async fn wait_status(client: &reqwest::Client, url: &str, key: &str, want: &str) {
    test_support::poll(
        Duration::from_secs(90),
        Duration::from_millis(200),
        || async {
            let job = get_json(client, url, key).await;
            if job["status"] == want {
                Ok(())
            } else {
                Err(format!("{} ({})", job["status"], job["error"]))
            }
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_and_the_quote_page_in_chromium() {
    require_browser_tools();
    let mut cluster = Cluster::new(PRICING).await;
    let op1 = cluster.key(&["--role", "operator", "--label", "Ana"]);
    let op2 = cluster.key(&["--role", "operator", "--label", "Ben"]);
    let partner = cluster.key(&["--role", "partner", "--tenant", NASTY_TENANT]);
    let url = cluster
        .start(&["api", "--listen", "127.0.0.1:0", "--open"])
        .unwrap();
    cluster.start(&["scheduler"]);
    cluster.start(&["worker", "--slots", "2", "--worker-id", "browser-worker-1"]);

    // A job whose model became unreadable while it waited, so every attempt fails and it ends
    // FAILED; the model is then put back, and the console's Retry must get it priced.
    cluster.stop(2);
    let client = reqwest::Client::new();
    let resp = client
        .post(format!("{url}/v1/jobs?partner_ref=blob-outage"))
        .bearer_auth(&partner)
        .body(fixture("band_with_stones.stl"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let accepted: serde_json::Value = resp.json().await.unwrap();
    let failed_job = accepted["id"].as_str().unwrap().to_owned();
    let job_url = format!("{url}/v1/jobs/{failed_job}");
    wait_status(&client, &job_url, &partner, "QUEUED").await;
    let sha = accepted["model_sha256"].as_str().unwrap();
    let blob = cluster.blob_dir().join("models").join(&sha[..2]).join(sha);
    let hidden = blob.with_extension("away");
    std::fs::rename(&blob, &hidden).unwrap();
    cluster.start(&["worker", "--slots", "2", "--worker-id", "browser-worker-2"]);
    wait_status(&client, &job_url, &partner, "FAILED").await;
    std::fs::rename(&hidden, &blob).unwrap();

    let shots = if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        let dir = repo().join("docs/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        dir
    } else {
        std::env::temp_dir().join(test_support::unique_name("console_shots"))
    };
    std::fs::create_dir_all(&shots).unwrap();
    let out = tokio::task::spawn_blocking({
        let url = url.clone();
        let shots = shots.clone();
        move || {
            Command::new("node")
                .arg(repo().join("tests/browser/console.mjs"))
                .env("BASE_URL", &url)
                .env("OP1_KEY", &op1)
                .env("OP2_KEY", &op2)
                .env("PARTNER_KEY", &partner)
                .env("NASTY_TENANT", NASTY_TENANT)
                .env("FAILED_JOB", &failed_job)
                .env("FIXTURES", repo().join("fixtures/models"))
                .env("SHOTS_DIR", &shots)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "browser scenarios failed:\n{stdout}\n{stderr}"
    );
    // Every scenario ran (none skipped).
    let passed = stdout.lines().filter(|l| l.starts_with("ok - ")).count();
    assert_eq!(passed, 8, "{stdout}");
    for name in [
        "console.png",
        "console-job.png",
        "console-queues.png",
        "quote.png",
    ] {
        assert!(shots.join(name).exists(), "{name}");
    }
}
