//! ETA truth: the time to final each finished job was promised at submission against the time it
//! took, per lane — the figures behind the console's chart. Reading is one query; the summary
//! is a pure function.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use contracts::Lane;
use serde::Serialize;

use crate::store::{Db, on_db};

/// One finished job: promised and actual seconds from submission to final.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EtaOutcome {
    pub lane: Lane,
    pub predicted_seconds: f64,
    pub actual_seconds: f64,
    pub finished_at: DateTime<Utc>,
}

impl EtaOutcome {
    /// The outcome of a job submitted at `created`, promised for `promised`, final at `finished`.
    pub fn of(
        lane: Lane,
        created: DateTime<Utc>,
        promised: DateTime<Utc>,
        finished: DateTime<Utc>,
    ) -> Self {
        let secs = |d: chrono::TimeDelta| (d.num_milliseconds().max(0) as f64) / 1000.0;
        EtaOutcome {
            lane,
            predicted_seconds: secs(promised - created),
            actual_seconds: secs(finished - created),
            finished_at: finished,
        }
    }

    /// |actual − predicted| / predicted; predictions under 0.1 s count as 0.1 s, so instant jobs
    /// do not dominate.
    pub fn relative_error(&self) -> f64 {
        (self.actual_seconds - self.predicted_seconds).abs() / self.predicted_seconds.max(0.1)
    }
}

/// A lane's ETA error over a window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LaneTruth {
    pub lane: Lane,
    pub jobs: usize,
    /// Median absolute relative error (0.2 = 20 %).
    pub median_error: f64,
    pub p90_error: f64,
    /// Share of jobs that finished later than promised.
    pub late_share: f64,
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Per-lane error summary of `outcomes` (lanes without jobs are left out).
pub fn summarise(outcomes: &[EtaOutcome]) -> Vec<LaneTruth> {
    let mut by_lane: BTreeMap<Lane, Vec<&EtaOutcome>> = BTreeMap::new();
    for o in outcomes {
        by_lane.entry(o.lane).or_default().push(o);
    }
    by_lane
        .into_iter()
        .map(|(lane, jobs)| {
            let mut errors: Vec<f64> = jobs.iter().map(|o| o.relative_error()).collect();
            errors.sort_by(f64::total_cmp);
            let late = jobs
                .iter()
                .filter(|o| o.actual_seconds > o.predicted_seconds)
                .count();
            LaneTruth {
                lane,
                jobs: jobs.len(),
                median_error: percentile(&errors, 0.5),
                p90_error: percentile(&errors, 0.9),
                late_share: late as f64 / jobs.len() as f64,
            }
        })
        .collect()
}

const SQL: &str = "SELECT lane, created_at, submitted_eta_at, finished_at FROM jobs \
     WHERE finished_at >= $1 AND submitted_eta_at IS NOT NULL \
     ORDER BY finished_at DESC LIMIT $2";

impl Db {
    /// Jobs finished since `since` that were promised an ETA, newest first, at most `limit`.
    pub async fn eta_outcomes(
        &self,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<EtaOutcome>, sqlx::Error> {
        on_db!(self, pool => {
            use sqlx::Row;
            let mut out = Vec::new();
            for row in sqlx::query(SQL).bind(since).bind(i64::from(limit)).fetch_all(pool).await? {
                let lane: String = row.try_get("lane")?;
                let Ok(lane) = lane.parse::<Lane>() else { continue };
                let created: DateTime<Utc> = row.try_get("created_at")?;
                let promised: DateTime<Utc> = row.try_get("submitted_eta_at")?;
                let finished: DateTime<Utc> = row.try_get("finished_at")?;
                out.push(EtaOutcome::of(lane, created, promised, finished));
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(lane: Lane, predicted: f64, actual: f64) -> EtaOutcome {
        EtaOutcome {
            lane,
            predicted_seconds: predicted,
            actual_seconds: actual,
            finished_at: DateTime::from_timestamp(0, 0).unwrap(),
        }
    }

    #[test]
    fn relative_errors() {
        let cases = [
            (10.0, 10.0, 0.0),
            (10.0, 12.0, 0.2),
            (10.0, 5.0, 0.5),
            (0.0, 0.05, 0.5),
            (0.01, 0.3, 2.9),
        ];
        for (p, a, want) in cases {
            let got = o(Lane::Small, p, a).relative_error();
            assert!((got - want).abs() < 1e-9, "{p} {a}: {got}");
        }
    }

    #[test]
    fn summary_per_lane() {
        let mut v: Vec<EtaOutcome> = (1..=10)
            .map(|i| o(Lane::Small, 10.0, 10.0 + f64::from(i)))
            .collect();
        v.push(o(Lane::Large, 100.0, 50.0));
        let s = summarise(&v);
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].lane, s[0].jobs), (Lane::Small, 10));
        assert!((s[0].median_error - 0.5).abs() < 1e-9);
        assert!((s[0].p90_error - 0.9).abs() < 1e-9);
        assert!((s[0].late_share - 1.0).abs() < 1e-9);
        assert_eq!((s[1].lane, s[1].late_share), (Lane::Large, 0.0));
        assert!(summarise(&[]).is_empty());
    }
}
