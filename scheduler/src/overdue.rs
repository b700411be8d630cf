//! Overdue jobs: not final although `OVERDUE_FACTOR` times their promised time to final has
//! passed — what the "jobs stuck" alert counts. The rule is a pure function; the query only
//! narrows the candidates to unfinished jobs already past their ETA (few, and indexed by status).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use contracts::Lane;

use crate::store::{Db, on_db};

/// A job is overdue once it has waited this many times its promised time to final.
pub const OVERDUE_FACTOR: f64 = 3.0;

/// Promised times under this are treated as this long, so a job promised in 50 ms is not
/// "overdue" after 150 ms of ordinary scheduling noise.
pub const MIN_PROMISE_SECONDS: f64 = 10.0;

/// Whether a job submitted at `created` with ETA `promised` and still not final at `now` is
/// overdue.
pub fn is_overdue(created: DateTime<Utc>, promised: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    let secs = |d: chrono::TimeDelta| d.num_milliseconds() as f64 / 1000.0;
    let budget = secs(promised - created).max(MIN_PROMISE_SECONDS) * OVERDUE_FACTOR;
    secs(now - created) > budget
}

/// Candidates read per pass; a backlog larger than this is reported as at least this many.
const LIMIT: i64 = 10_000;

const SQL: &str = "SELECT lane, created_at, submitted_eta_at FROM jobs \
     WHERE status IN ('SUBMITTED', 'QUEUED', 'CALCULATING') AND submitted_eta_at < $1 LIMIT $2";

impl Db {
    /// Overdue jobs per lane at `now` (every lane present, zero when none).
    pub async fn overdue_jobs(
        &self,
        now: DateTime<Utc>,
    ) -> Result<BTreeMap<Lane, u64>, sqlx::Error> {
        let mut out: BTreeMap<Lane, u64> = Lane::ALL.into_iter().map(|l| (l, 0)).collect();
        on_db!(self, pool => {
            use sqlx::Row;
            for row in sqlx::query(SQL).bind(now).bind(LIMIT).fetch_all(pool).await? {
                let lane: String = row.try_get("lane")?;
                let Ok(lane) = lane.parse::<Lane>() else { continue };
                let created: DateTime<Utc> = row.try_get("created_at")?;
                let promised: DateTime<Utc> = row.try_get("submitted_eta_at")?;
                if is_overdue(created, promised, now) {
                    *out.entry(lane).or_default() += 1;
                }
            }
        });
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overdue_after_three_times_the_promise() {
        let t0 = DateTime::from_timestamp(1_000_000, 0).unwrap();
        let s = chrono::TimeDelta::seconds;
        // (promised after, now after, overdue)
        let cases = [
            (60, 179, false),
            (60, 181, true),
            (600, 1500, false),
            (600, 1801, true),
            // Short promises get the floor: 10 s × 3.
            (1, 29, false),
            (1, 31, true),
            // A promise in the past of its own submission (clock skew) still gets the floor.
            (-5, 31, true),
        ];
        for (promised, now, want) in cases {
            assert_eq!(
                is_overdue(t0, t0 + s(promised), t0 + s(now)),
                want,
                "promised {promised}, now {now}"
            );
        }
    }
}
