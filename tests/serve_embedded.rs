//! `pricing serve` as a user runs it: the real binary in an empty directory, a fixture uploaded
//! over HTTP, polled until priced; keys managed with `pricing keys` on the same store; SIGTERM
//! stops it cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::poll_until_final;
use support::serve::serve;
use test_support::fixture;

const PRICING: &str = env!("CARGO_BIN_EXE_pricing");

fn keys(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(PRICING)
        .arg("keys")
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_gets_a_price_within_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let key = server
        .admin_key
        .clone()
        .expect("first start prints an admin key");
    let client = reqwest::Client::new();
    let started = Instant::now();
    let resp = client
        .post(format!("{}/v1/jobs?alloys=au750y,ag925", server.url))
        .bearer_auth(&key)
        .header("content-type", "model/stl")
        .body(fixture("torus_ring.stl"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let accepted: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(accepted["format"], "stl-binary");
    let job = poll_until_final(
        &client,
        &format!("{}{}", server.url, accepted["status_url"].as_str().unwrap()),
        &key,
        Duration::from_secs(60),
    )
    .await;
    let elapsed = started.elapsed();
    assert_eq!(job["status"], "PRICE_CALCULATED", "{job}");
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    let alloys = job["quote"]["alloys"].as_array().unwrap();
    assert_eq!(alloys.len(), 2);
    for a in alloys {
        let total: f64 = a["total"].as_str().unwrap().parse().unwrap();
        assert!(total > 0.0, "{a}");
    }
    // The ring's volume (torus, closed form) is what the quote measured.
    let volume = job["quote"]["measurements"]["volume_mm3"].as_f64().unwrap();
    assert!(volume > 100.0 && volume < 2000.0, "{volume}");

    // Probes and metrics on the live server.
    let ready = client
        .get(format!("{}/readyz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let metrics = client
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"pricing_jobs{status="PRICE_CALCULATED"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("pricing_workers_alive 1"), "{metrics}");
    let openapi: serde_json::Value = client
        .get(format!("{}/openapi.json", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(openapi["openapi"], "3.1.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_cli_shares_the_store_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    // Keys created before the first start: no admin key is printed then.
    let acme = keys(
        dir.path(),
        &["create", "--role", "partner", "--tenant", "acme"],
    )
    .trim()
    .to_owned();
    let globex = keys(
        dir.path(),
        &["create", "--role", "partner", "--tenant", "globex"],
    )
    .trim()
    .to_owned();
    assert!(acme.starts_with("alx_"));
    let server = serve(dir.path(), &[]);
    assert_eq!(server.admin_key, None);
    let client = reqwest::Client::new();
    let accepted: serde_json::Value = client
        .post(format!("{}/v1/jobs", server.url))
        .bearer_auth(&acme)
        .body(fixture("box.obj"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job_url = format!("{}{}", server.url, accepted["status_url"].as_str().unwrap());
    let job = poll_until_final(&client, &job_url, &acme, Duration::from_secs(60)).await;
    assert_eq!(job["tenant"], "acme");
    let other = client
        .get(&job_url)
        .bearer_auth(&globex)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);

    let listed = keys(dir.path(), &["list", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(
        !listed.to_string().contains(&acme),
        "the key itself is never stored"
    );
    let prefix = &globex[..12];
    let out = keys(dir.path(), &["revoke", prefix]);
    assert!(out.contains("revoked"), "{out}");
    // Revocation reaches the running server within the key cache's lifetime.
    tokio::time::sleep(api::auth::keys::CACHE_TTL + Duration::from_millis(200)).await;
    let refused = client
        .get(&job_url)
        .bearer_auth(&globex)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    let mut server = server;
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "still running 30 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}
