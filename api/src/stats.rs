//! The collector that turns finished jobs into duration and queue-wait observations and the
//! recent throughput per lane; the statistics themselves are read by `scheduler::stats`.
//!
//! The collector follows `job_history` by sequence number from the moment the process starts.
//! On PostgreSQL a transaction that commits after a later-numbered one is missed (its history
//! row's `seq` is already behind the watermark): a rare, bounded undercount in two histograms and
//! the throughput figure, never in job state.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use contracts::Lane;
use scheduler::store::Db;

use crate::metrics::Metrics;

/// Throughput is averaged over this window.
pub const THROUGHPUT_WINDOW: Duration = Duration::from_secs(300);

/// Follows finished jobs: histograms and recent throughput.
#[derive(Debug, Default)]
pub struct Collector {
    state: Mutex<CollectorState>,
}

#[derive(Debug, Default)]
struct CollectorState {
    /// Last `job_history.seq` looked at; `None` until the first pass sets it to the newest row.
    watermark: Option<i64>,
    recent: VecDeque<(Lane, DateTime<Utc>)>,
}

impl Collector {
    /// Reads the jobs that reached a final state since the last pass and records them.
    pub async fn collect(&self, db: &Db, metrics: &Metrics) -> Result<usize, sqlx::Error> {
        let watermark = self.state.lock().ok().and_then(|s| s.watermark);
        let Some(after) = watermark else {
            let max = db.history_watermark().await?;
            if let Ok(mut s) = self.state.lock() {
                s.watermark = Some(max);
            }
            return Ok(0);
        };
        let rows = db.finished_since(after).await?;
        let now = Utc::now();
        let Ok(mut s) = self.state.lock() else {
            return Ok(0);
        };
        for (seq, f) in &rows {
            s.watermark = Some((*seq).max(s.watermark.unwrap_or(0)));
            if let Some((wait, run)) = f.timings() {
                metrics
                    .queue_wait
                    .with_label_values(&[f.lane.as_str()])
                    .observe(wait);
                metrics
                    .job_duration
                    .with_label_values(&[f.lane.as_str()])
                    .observe(run);
            }
            if let Some(eta) = f.eta_outcome() {
                let lane = f.lane.as_str();
                metrics
                    .eta_error
                    .with_label_values(&[lane])
                    .observe(eta.relative_error());
                if let Some((wait, run)) = eta.split_errors() {
                    for (part, error) in [("wait", wait), ("run", run)] {
                        metrics
                            .eta_part_error
                            .with_label_values(&[lane, part])
                            .observe(error);
                    }
                }
                if eta.actual_seconds > eta.predicted_seconds {
                    metrics.eta_late.with_label_values(&[lane]).inc();
                }
            }
            s.recent.push_back((f.lane, f.finished_at.unwrap_or(now)));
        }
        let window = chrono::TimeDelta::from_std(THROUGHPUT_WINDOW).unwrap_or_default();
        while s.recent.front().is_some_and(|(_, at)| *at < now - window) {
            s.recent.pop_front();
        }
        Ok(rows.len())
    }

    /// Jobs finished per minute in each lane over the last [`THROUGHPUT_WINDOW`].
    pub fn throughput_per_minute(&self) -> BTreeMap<Lane, f64> {
        let minutes = THROUGHPUT_WINDOW.as_secs_f64() / 60.0;
        let mut out: BTreeMap<Lane, f64> = Lane::ALL.into_iter().map(|l| (l, 0.0)).collect();
        if let Ok(s) = self.state.lock() {
            let cutoff =
                Utc::now() - chrono::TimeDelta::from_std(THROUGHPUT_WINDOW).unwrap_or_default();
            for (lane, at) in &s.recent {
                if *at >= cutoff {
                    *out.entry(*lane).or_default() += 1.0 / minutes;
                }
            }
        }
        out
    }
}
