//! `pricing bench PATH... --against URL`: the models submitted to a running cluster, each timed
//! from upload to final, beside the cluster's own figures for the job — its lane, the ETA its
//! 202 promised, and the queue wait and run its timestamps show. What an engineer checks after
//! adding workers or deploying a change: the whole path, not only the pricing code.
//!
//! A file the cluster has already priced under the same rules is answered from its quote cache
//! (the `cached` column); the time shown is then that of the cache.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Longest wait for one job to reach a final state.
const FINAL_TIMEOUT: Duration = Duration::from_secs(600);
/// Status reads: every 5 ms for the first second (small jobs are final in milliseconds), then
/// every 50 ms.
const POLL_FAST: Duration = Duration::from_millis(5);
const POLL_SLOW: Duration = Duration::from_millis(50);

/// Where to submit.
pub struct Target<'a> {
    pub url: &'a str,
    pub key: &'a str,
    pub alloy: &'a str,
}

/// One submission and what became of it.
#[derive(Debug, Clone, Default, Serialize)]
struct Submitted {
    file: String,
    run: usize,
    job_id: Option<String>,
    status: Option<String>,
    lane: Option<String>,
    triangles: Option<u64>,
    cached: bool,
    upload_seconds: f64,
    /// From sending the upload until the client saw the final state (polled every 5 ms, after
    /// the first second every 50 ms).
    to_final_seconds: Option<f64>,
    /// The time to final the 202 promised.
    promised_seconds: Option<f64>,
    /// The cluster's clock: created → started, started → finished.
    queue_wait_seconds: Option<f64>,
    run_seconds: Option<f64>,
    error: Option<String>,
}

fn time(job: &serde_json::Value, key: &str) -> Option<DateTime<Utc>> {
    serde_json::from_value(job[key].clone()).ok()
}

fn span(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Option<f64> {
    Some((to? - from?).num_milliseconds().max(0) as f64 / 1e3)
}

/// Percent-encodes a query value (alloy codes are letters and digits; anything else is escaped).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b',' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn is_final(status: &str) -> bool {
    status
        .parse::<scheduler::JobStatus>()
        .is_ok_and(scheduler::JobStatus::is_terminal)
}

async fn submit_one(
    client: &reqwest::Client,
    target: &Target<'_>,
    path: &Path,
    run: usize,
    tag: &str,
) -> Submitted {
    let mut row = Submitted {
        file: path.display().to_string(),
        run,
        ..Submitted::default()
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            row.error = Some(format!("cannot read: {e}"));
            return row;
        }
    };
    let base = target.url.trim_end_matches('/');
    let t0 = Instant::now();
    let sent = client
        .post(format!("{base}/v1/jobs?alloys={}", encode(target.alloy)))
        .bearer_auth(target.key)
        .header("idempotency-key", format!("{tag}-{run}-{}", row.file))
        .body(bytes)
        .send()
        .await;
    row.upload_seconds = t0.elapsed().as_secs_f64();
    let accepted: serde_json::Value = match sent {
        Ok(r) if r.status().is_success() => r.json().await.unwrap_or_default(),
        Ok(r) => {
            let status = r.status();
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            row.error = Some(format!(
                "{status}: {}: {}",
                body["code"].as_str().unwrap_or(""),
                body["message"].as_str().unwrap_or("")
            ));
            return row;
        }
        Err(e) => {
            row.error = Some(format!("upload failed: {e}"));
            return row;
        }
    };
    let Some(id) = accepted["id"].as_str().map(str::to_owned) else {
        row.error = Some("the answer has no job id".into());
        return row;
    };
    row.cached = accepted["from_cache"].as_bool().unwrap_or(false);
    row.promised_seconds = accepted["eta"]["seconds"].as_f64();
    row.job_id = Some(id.clone());
    let deadline = Instant::now() + FINAL_TIMEOUT;
    loop {
        let job: serde_json::Value = match client
            .get(format!("{base}/v1/jobs/{id}"))
            .bearer_auth(target.key)
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => r.json().await.unwrap_or_default(),
            Ok(r) => {
                row.error = Some(format!("status read: {}", r.status()));
                return row;
            }
            Err(e) => {
                row.error = Some(format!("status read: {e}"));
                return row;
            }
        };
        let status = job["status"].as_str().unwrap_or("").to_owned();
        if is_final(&status) {
            row.to_final_seconds = Some(t0.elapsed().as_secs_f64());
            row.lane = job["lane"].as_str().map(str::to_owned);
            row.triangles = job["triangles"].as_u64();
            let (created, started, finished) = (
                time(&job, "created_at"),
                time(&job, "started_at"),
                time(&job, "finished_at"),
            );
            row.queue_wait_seconds = span(created, started);
            row.run_seconds = span(started, finished);
            if status != "PRICE_CALCULATED" {
                row.error = Some(format!(
                    "{status}: {}",
                    job["reason"].as_str().unwrap_or("no reason given")
                ));
            }
            row.status = Some(status);
            return row;
        }
        if Instant::now() > deadline {
            row.status = Some(status);
            row.error = Some(format!("not final after {} s", FINAL_TIMEOUT.as_secs()));
            return row;
        }
        let pause = if t0.elapsed() < Duration::from_secs(1) {
            POLL_FAST
        } else {
            POLL_SLOW
        };
        tokio::time::sleep(pause).await;
    }
}

fn secs(v: Option<f64>) -> String {
    v.map_or("-".into(), super::bench::ms)
}

fn render_table(rows: &[Submitted]) -> String {
    let mut out = format!(
        "{:<34} {:>3} {:<16} {:<6} {:>9} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
        "file",
        "run",
        "status",
        "lane",
        "triangles",
        "cached",
        "upload ms",
        "final ms",
        "promised",
        "wait ms",
        "run ms"
    );
    for r in rows {
        let name = Path::new(&r.file)
            .file_name()
            .map_or(r.file.clone(), |n| n.to_string_lossy().into_owned());
        out.push_str(&format!(
            "{:<34} {:>3} {:<16} {:<6} {:>9} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
            name,
            r.run,
            r.status.as_deref().unwrap_or("-"),
            r.lane.as_deref().unwrap_or("-"),
            r.triangles.map_or("-".into(), |t| t.to_string()),
            if r.cached { "yes" } else { "no" },
            super::bench::ms(r.upload_seconds),
            secs(r.to_final_seconds),
            secs(r.promised_seconds),
            secs(r.queue_wait_seconds),
            secs(r.run_seconds),
        ));
        if let Some(e) = &r.error {
            out.push_str(&format!("  error: {e}\n"));
        }
    }
    let done: Vec<f64> = rows.iter().filter_map(|r| r.to_final_seconds).collect();
    if !done.is_empty() {
        let total: f64 = done.iter().sum();
        out.push_str(&format!(
            "{} jobs final, {} errors; upload to final: mean {} ms, max {} ms\n",
            done.len(),
            rows.iter().filter(|r| r.error.is_some()).count(),
            super::bench::ms(total / done.len() as f64),
            super::bench::ms(done.iter().copied().fold(0.0, f64::max)),
        ));
    }
    out
}

fn render_csv(rows: &[Submitted]) -> String {
    let mut out = String::from(
        "file,run,job_id,status,lane,triangles,cached,upload_s,to_final_s,promised_s,queue_wait_s,run_s,error\n",
    );
    let f = |v: Option<f64>| v.map_or(String::new(), |s| format!("{s:.4}"));
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{:.4},{},{},{},{},{}\n",
            super::bench::csv_field(&r.file),
            r.run,
            r.job_id.as_deref().unwrap_or(""),
            r.status.as_deref().unwrap_or(""),
            r.lane.as_deref().unwrap_or(""),
            r.triangles.map_or(String::new(), |t| t.to_string()),
            r.cached,
            r.upload_seconds,
            f(r.to_final_seconds),
            f(r.promised_seconds),
            f(r.queue_wait_seconds),
            f(r.run_seconds),
            super::bench::csv_field(r.error.as_deref().unwrap_or("")),
        ));
    }
    out
}

/// Submits each file `repeat` times, one at a time, and prints what happened.
pub fn run(
    files: &[PathBuf],
    target: &Target<'_>,
    repeat: usize,
    json: bool,
    csv: bool,
) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()?;
    // Distinct per invocation, so a second `pricing bench --against` makes new jobs.
    let tag = format!(
        "bench-{}-{}",
        std::process::id(),
        Utc::now().timestamp_millis()
    );
    let mut rows = Vec::new();
    for f in files {
        for run in 1..=repeat.max(1) {
            eprintln!("pricing bench: {} (run {run})", f.display());
            rows.push(runtime.block_on(submit_one(&client, target, f, run, &tag)));
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if csv {
        print!("{}", render_csv(&rows));
    } else {
        print!("{}", render_table(&rows));
    }
    Ok(super::batch_exit(rows.iter().any(|r| r.error.is_some())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode("au750,ag925"), "au750,ag925");
        assert_eq!(encode("a&b=c d"), "a%26b%3Dc%20d");
    }
}
