//! ETA truth: the time to final each finished job was promised at submission against the time it
//! took, per lane — the figures behind the console's chart — and the same split in two: the
//! promised queue wait (the ETA less the job's own predicted cost) against the wait until a
//! worker started it, and the predicted cost against the run. Reading is one query; the summary
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
    /// Promised and actual queue wait, for a job a worker started.
    pub wait: Option<Split>,
}

/// The queue-wait part of a promise and of what happened; the rest of each is the run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Split {
    pub predicted_wait_seconds: f64,
    pub actual_wait_seconds: f64,
}

/// Seconds of a non-negative span, to the millisecond.
fn secs(d: chrono::TimeDelta) -> f64 {
    (d.num_milliseconds().max(0) as f64) / 1000.0
}

/// |actual − predicted| / predicted, with predictions under 0.1 s counted as 0.1 s.
pub(crate) fn relative(predicted: f64, actual: f64) -> f64 {
    (actual - predicted).abs() / predicted.max(0.1)
}

impl EtaOutcome {
    /// The outcome of a job submitted at `created`, promised for `promised`, final at `finished`.
    pub fn of(
        lane: Lane,
        created: DateTime<Utc>,
        promised: DateTime<Utc>,
        finished: DateTime<Utc>,
    ) -> Self {
        EtaOutcome {
            lane,
            predicted_seconds: secs(promised - created),
            actual_seconds: secs(finished - created),
            finished_at: finished,
            wait: None,
        }
    }

    /// The same, split at `started` (when a worker last started the job) given the job's own
    /// predicted cost: the promise's wait is what it had beyond that cost.
    pub fn with_start(mut self, created: DateTime<Utc>, started: DateTime<Utc>, own: f64) -> Self {
        let own = if own.is_finite() { own.max(0.0) } else { 0.0 };
        self.wait = Some(Split {
            predicted_wait_seconds: (self.predicted_seconds - own).max(0.0),
            actual_wait_seconds: secs(started - created).min(self.actual_seconds),
        });
        self
    }

    /// |actual − predicted| / predicted; predictions under 0.1 s count as 0.1 s, so instant jobs
    /// do not dominate.
    pub fn relative_error(&self) -> f64 {
        relative(self.predicted_seconds, self.actual_seconds)
    }

    /// The relative errors of the wait and of the run, when the job was started.
    pub fn split_errors(&self) -> Option<(f64, f64)> {
        let w = self.wait?;
        let wait = relative(w.predicted_wait_seconds, w.actual_wait_seconds);
        let run = relative(
            self.predicted_seconds - w.predicted_wait_seconds,
            self.actual_seconds - w.actual_wait_seconds,
        );
        Some((wait, run))
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
    /// Median relative error of the queue wait and of the run alone (jobs a worker started).
    pub median_wait_error: Option<f64>,
    pub median_run_error: Option<f64>,
}

/// Nearest-rank percentile of sorted values.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
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
            let (mut waits, mut runs): (Vec<f64>, Vec<f64>) =
                jobs.iter().filter_map(|o| o.split_errors()).unzip();
            waits.sort_by(f64::total_cmp);
            runs.sort_by(f64::total_cmp);
            let median = |v: &[f64]| (!v.is_empty()).then(|| percentile(v, 0.5));
            LaneTruth {
                lane,
                jobs: jobs.len(),
                median_error: percentile(&errors, 0.5),
                p90_error: percentile(&errors, 0.9),
                late_share: late as f64 / jobs.len() as f64,
                median_wait_error: median(&waits),
                median_run_error: median(&runs),
            }
        })
        .collect()
}

const SQL: &str = "SELECT lane, created_at, submitted_eta_at, started_at, finished_at, \
     predicted_seconds FROM jobs \
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
                let started: Option<DateTime<Utc>> = row.try_get("started_at")?;
                let own: f64 = row.try_get("predicted_seconds")?;
                let outcome = EtaOutcome::of(lane, created, promised, finished);
                out.push(match started {
                    Some(s) => outcome.with_start(created, s, own),
                    None => outcome,
                });
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
            wait: None,
        }
    }

    #[test]
    fn split_at_the_start() {
        let t = |ms| DateTime::from_timestamp_millis(ms).unwrap();
        // (promised ms, own predicted s, started ms, finished ms) → (promised wait, actual wait,
        // wait error, run error)
        let cases = [
            // Promised 10 s of which 2 s own work: 8 s wait; waited 8 s, ran 2 s: exact.
            ((10_000, 2.0, 8_000, 10_000), (8.0, 8.0, 0.0, 0.0)),
            // Waited twice as long, ran as predicted.
            ((10_000, 2.0, 16_000, 18_000), (8.0, 16.0, 1.0, 0.0)),
            // No wait promised; the run took 3 s for 1 s predicted.
            ((1_000, 1.0, 0, 3_000), (0.0, 0.0, 0.0, 2.0)),
            // A cost above the promise (a stale ETA): the wait is never negative.
            ((1_000, 5.0, 500, 1_000), (0.0, 0.5, 5.0, 0.5)),
        ];
        for ((promised, own, started, finished), want) in cases {
            let o = EtaOutcome::of(Lane::Small, t(0), t(promised), t(finished)).with_start(
                t(0),
                t(started),
                own,
            );
            let w = o.wait.unwrap();
            let (we, re) = o.split_errors().unwrap();
            let got = (w.predicted_wait_seconds, w.actual_wait_seconds, we, re);
            for (g, e) in [
                (got.0, want.0),
                (got.1, want.1),
                (got.2, want.2),
                (got.3, want.3),
            ] {
                assert!(
                    (g - e).abs() < 1e-9,
                    "{promised} {own} {started} {finished}: {got:?}"
                );
            }
        }
        assert_eq!(o(Lane::Small, 1.0, 1.0).split_errors(), None);
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
        assert_eq!(
            (s[0].median_wait_error, s[0].median_run_error),
            (None, None)
        );
        let started = EtaOutcome::of(
            Lane::Large,
            DateTime::from_timestamp(0, 0).unwrap(),
            DateTime::from_timestamp(10, 0).unwrap(),
            DateTime::from_timestamp(12, 0).unwrap(),
        )
        .with_start(
            DateTime::from_timestamp(0, 0).unwrap(),
            DateTime::from_timestamp(9, 0).unwrap(),
            2.0,
        );
        let s = summarise(&[started]);
        assert_eq!(s[0].median_wait_error, Some(1.0 / 8.0));
        assert_eq!(s[0].median_run_error, Some(1.0 / 2.0));
        assert!(summarise(&[]).is_empty());
    }
}
