//! What the end-to-end tests of the binary share: reading jobs over HTTP until they are final.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support module"
)]

pub mod cluster;
pub mod serve;

use std::time::Duration;

use serde_json::Value;

/// `GET url` with `key`, as JSON.
pub async fn get_json(client: &reqwest::Client, url: &str, key: &str) -> Value {
    client
        .get(url)
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Polls the job at `url` until it is final (priced, rejected or failed); fails the test after
/// `within`.
pub async fn poll_until_final(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    within: Duration,
) -> Value {
    test_support::poll(within, Duration::from_millis(100), || async {
        let job = get_json(client, url, key).await;
        let status = job["status"].as_str().unwrap().to_owned();
        if ["PRICE_CALCULATED", "REJECTED", "FAILED"].contains(&status.as_str()) {
            Ok(job)
        } else {
            Err(format!("still {status}"))
        }
    })
    .await
}
