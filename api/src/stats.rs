//! Per-lane statistics for operators and metrics, read straight from the job store's `jobs` and
//! `job_history` tables (read-only; the columns used are named in each statement), plus the
//! collector that turns finished jobs into duration and queue-wait observations.
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

use crate::db::{Db, on_db};
use crate::metrics::Metrics;

/// Throughput is averaged over this window.
pub const THROUGHPUT_WINDOW: Duration = Duration::from_secs(300);

/// Unfinished jobs of one lane.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LaneCounts {
    pub queued: u64,
    pub in_flight: u64,
    /// When the longest-waiting queued job entered QUEUED.
    pub oldest_queued_since: Option<DateTime<Utc>>,
    /// Predicted seconds of the queued and running jobs (work ahead of a new job).
    pub work_seconds: f64,
}

/// QUEUED and CALCULATING jobs per lane.
pub async fn lane_counts(db: &Db) -> Result<BTreeMap<Lane, LaneCounts>, sqlx::Error> {
    const SQL: &str = "SELECT lane, status, COUNT(*) AS n, MIN(status_changed_at) AS oldest, \
         SUM(predicted_seconds) AS work FROM jobs WHERE status IN ('QUEUED', 'CALCULATING') \
         GROUP BY lane, status";
    let mut out: BTreeMap<Lane, LaneCounts> = Lane::ALL
        .into_iter()
        .map(|l| (l, LaneCounts::default()))
        .collect();
    on_db!(db, pool => {
        use sqlx::Row;
        for row in sqlx::query(SQL).fetch_all(pool).await? {
            let lane: String = row.try_get("lane")?;
            let status: String = row.try_get("status")?;
            let n: i64 = row.try_get("n")?;
            let oldest: Option<DateTime<Utc>> = row.try_get("oldest")?;
            let work: Option<f64> = row.try_get("work")?;
            let Ok(lane) = lane.parse::<Lane>() else { continue };
            let entry = out.entry(lane).or_default();
            let n = u64::try_from(n).unwrap_or(0);
            if status == "QUEUED" {
                entry.queued = n;
                entry.oldest_queued_since = oldest;
            } else {
                entry.in_flight = n;
            }
            entry.work_seconds += work.unwrap_or(0.0);
        }
    });
    Ok(out)
}

/// Unfinished large-lane jobs of `tenant` (what the heavy-job limit counts).
pub async fn active_heavy_jobs(db: &Db, tenant: &str) -> Result<u64, sqlx::Error> {
    const SQL: &str = "SELECT COUNT(*) FROM jobs WHERE tenant = $1 AND lane = 'large' \
         AND status IN ('SUBMITTED', 'QUEUED', 'CALCULATING')";
    let n: i64 = on_db!(db, pool => sqlx::query_scalar(SQL).bind(tenant).fetch_one(pool).await?);
    Ok(u64::try_from(n).unwrap_or(0))
}

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

/// One finished job, as the collector reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finished {
    pub lane: Lane,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl Finished {
    /// (queue wait, run time) in seconds, when the job ever started.
    pub fn timings(&self) -> Option<(f64, f64)> {
        let started = self.started_at?;
        let finished = self.finished_at?;
        let secs = |d: chrono::TimeDelta| (d.num_milliseconds().max(0) as f64) / 1000.0;
        Some((secs(started - self.created_at), secs(finished - started)))
    }
}

impl Collector {
    /// Reads the jobs that reached a final state since the last pass and records them.
    pub async fn collect(&self, db: &Db, metrics: &Metrics) -> Result<usize, sqlx::Error> {
        let watermark = self.state.lock().ok().and_then(|s| s.watermark);
        let Some(after) = watermark else {
            let max: Option<i64> = on_db!(db, pool => {
                sqlx::query_scalar("SELECT MAX(seq) FROM job_history").fetch_one(pool).await?
            });
            if let Ok(mut s) = self.state.lock() {
                s.watermark = Some(max.unwrap_or(0));
            }
            return Ok(0);
        };
        const SQL: &str = "SELECT h.seq AS seq, j.lane AS lane, j.created_at AS created_at, \
             j.started_at AS started_at, j.finished_at AS finished_at \
             FROM job_history h JOIN jobs j ON j.id = h.job_id \
             WHERE h.seq > $1 AND h.to_status IN ('PRICE_CALCULATED', 'REJECTED', 'FAILED') \
             ORDER BY h.seq LIMIT 5000";
        let mut rows: Vec<(i64, Finished)> = Vec::new();
        on_db!(db, pool => {
            use sqlx::Row;
            for row in sqlx::query(SQL).bind(after).fetch_all(pool).await? {
                let lane: String = row.try_get("lane")?;
                let Ok(lane) = lane.parse::<Lane>() else { continue };
                rows.push((row.try_get("seq")?, Finished {
                    lane,
                    created_at: row.try_get("created_at")?,
                    started_at: row.try_get("started_at")?,
                    finished_at: row.try_get("finished_at")?,
                }));
            }
        });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timings_of_a_finished_job() {
        let t0 = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let f = Finished {
            lane: Lane::Small,
            created_at: t0,
            started_at: Some(t0 + chrono::TimeDelta::milliseconds(1500)),
            finished_at: Some(t0 + chrono::TimeDelta::seconds(4)),
        };
        assert_eq!(f.timings(), Some((1.5, 2.5)));
        // Rejected at submission: never started, nothing to observe.
        let never = Finished {
            started_at: None,
            ..f
        };
        assert_eq!(never.timings(), None);
    }
}
