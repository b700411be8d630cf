//! Per-lane statistics for operators and metrics, read straight from the `jobs` and
//! `job_history` tables (read-only; the columns used are named in each statement).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use contracts::Lane;

use crate::store::{Db, on_db};

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

/// One finished job, as the collector reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finished {
    pub lane: Lane,
    pub created_at: DateTime<Utc>,
    /// The time to final promised at submission (none for a cache hit, priced at once).
    pub submitted_eta_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The job's own predicted cost, the part of its promise that is not queue wait.
    pub predicted_seconds: f64,
}

impl Finished {
    /// (queue wait, run time) in seconds, when the job ever started.
    pub fn timings(&self) -> Option<(f64, f64)> {
        let started = self.started_at?;
        let finished = self.finished_at?;
        let secs = |d: chrono::TimeDelta| (d.num_milliseconds().max(0) as f64) / 1000.0;
        Some((secs(started - self.created_at), secs(finished - started)))
    }

    /// Promised against actual time to final, when an ETA was promised.
    pub fn eta_outcome(&self) -> Option<crate::eta_truth::EtaOutcome> {
        let outcome = crate::eta_truth::EtaOutcome::of(
            self.lane,
            self.created_at,
            self.submitted_eta_at?,
            self.finished_at?,
        );
        Some(match self.started_at {
            Some(s) => outcome.with_start(self.created_at, s, self.predicted_seconds),
            None => outcome,
        })
    }
}

impl Db {
    /// The newest `job_history` sequence number (0 when there is none): where a follower of
    /// finished jobs starts.
    pub async fn history_watermark(&self) -> Result<i64, sqlx::Error> {
        let max: Option<i64> = on_db!(self, pool => {
            sqlx::query_scalar("SELECT MAX(seq) FROM job_history").fetch_one(pool).await?
        });
        Ok(max.unwrap_or(0))
    }

    /// Jobs that reached a final state after history row `after`, with their rows' sequence
    /// numbers, oldest first, at most 5,000.
    pub async fn finished_since(&self, after: i64) -> Result<Vec<(i64, Finished)>, sqlx::Error> {
        const SQL: &str = "SELECT h.seq AS seq, j.lane AS lane, j.created_at AS created_at, \
             j.submitted_eta_at AS submitted_eta_at, j.started_at AS started_at, \
             j.finished_at AS finished_at, j.predicted_seconds AS predicted_seconds \
             FROM job_history h JOIN jobs j ON j.id = h.job_id \
             WHERE h.seq > $1 AND h.to_status IN ('PRICE_CALCULATED', 'REJECTED', 'FAILED') \
             ORDER BY h.seq LIMIT 5000";
        let mut rows: Vec<(i64, Finished)> = Vec::new();
        on_db!(self, pool => {
            use sqlx::Row;
            for row in sqlx::query(SQL).bind(after).fetch_all(pool).await? {
                let lane: String = row.try_get("lane")?;
                let Ok(lane) = lane.parse::<Lane>() else { continue };
                rows.push((row.try_get("seq")?, Finished {
                    lane,
                    created_at: row.try_get("created_at")?,
                    submitted_eta_at: row.try_get("submitted_eta_at")?,
                    started_at: row.try_get("started_at")?,
                    finished_at: row.try_get("finished_at")?,
                    predicted_seconds: row.try_get("predicted_seconds")?,
                }));
            }
        });
        Ok(rows)
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
            submitted_eta_at: Some(t0 + chrono::TimeDelta::seconds(5)),
            started_at: Some(t0 + chrono::TimeDelta::milliseconds(1500)),
            finished_at: Some(t0 + chrono::TimeDelta::seconds(4)),
            predicted_seconds: 3.0,
        };
        assert_eq!(f.timings(), Some((1.5, 2.5)));
        let eta = f.eta_outcome().unwrap();
        assert_eq!((eta.predicted_seconds, eta.actual_seconds), (5.0, 4.0));
        let split = eta.wait.unwrap();
        assert_eq!(
            (split.predicted_wait_seconds, split.actual_wait_seconds),
            (2.0, 1.5)
        );
        let cache_hit = Finished {
            submitted_eta_at: None,
            ..f
        };
        assert_eq!(cache_hit.eta_outcome(), None);
        // Rejected at submission: never started, nothing to observe.
        let never = Finished {
            started_at: None,
            ..f
        };
        assert_eq!(never.timings(), None);
    }
}
