//! The feed of job changes operators watch live: status changes (`job_history`) and takes and
//! releases (`job_claims`), each table read in sequence order. A [`FeedPosition`] holds where a
//! reader is in both, so a reader that stopped there resumes exactly after it (the position is
//! the SSE event id).
//!
//! On PostgreSQL a change whose transaction commits after a later-numbered one can be passed over
//! by a reader already beyond its number; readers re-read the job itself, so the next change of
//! that job shows its state.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::status::JobStatus;
use crate::store::{Db, on_db};

/// Where a reader is in the feed: the last status change and the last take or release it saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeedPosition {
    pub history: i64,
    pub claims: i64,
}

/// A position string not made by [`FeedPosition`]'s `Display`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a position in the change feed (expected two numbers joined by '-', e.g. 42-7)")]
pub struct InvalidPosition;

impl fmt::Display for FeedPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.history, self.claims)
    }
}

impl FromStr for FeedPosition {
    type Err = InvalidPosition;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (h, c) = s.trim().split_once('-').ok_or(InvalidPosition)?;
        let number = |t: &str| {
            t.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or(InvalidPosition)
        };
        Ok(Self {
            history: number(h)?,
            claims: number(c)?,
        })
    }
}

/// What changed.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Status {
        from: Option<JobStatus>,
        to: JobStatus,
    },
    /// Taken by `claimed_by`, or released when `None`.
    Claim { claimed_by: Option<String> },
}

/// One change, with the feed position just after it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobChange {
    pub position: FeedPosition,
    pub job_id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub change: Change,
}

const HISTORY: &str = "SELECT h.seq AS seq, h.job_id AS job_id, h.from_status AS from_status, \
     h.to_status AS to_status, h.at AS at, h.actor AS actor FROM job_history h \
     WHERE h.seq > $1 ORDER BY h.seq LIMIT $2";
const HISTORY_OF_TENANT: &str = "SELECT h.seq AS seq, h.job_id AS job_id, \
     h.from_status AS from_status, h.to_status AS to_status, h.at AS at, h.actor AS actor \
     FROM job_history h JOIN jobs j ON j.id = h.job_id WHERE h.seq > $1 AND j.tenant = $3 \
     ORDER BY h.seq LIMIT $2";
const CLAIMS: &str = "SELECT c.seq AS seq, c.job_id AS job_id, c.claimed_by AS claimed_by, \
     c.at AS at, c.actor AS actor FROM job_claims c WHERE c.seq > $1 ORDER BY c.seq LIMIT $2";
const CLAIMS_OF_TENANT: &str = "SELECT c.seq AS seq, c.job_id AS job_id, \
     c.claimed_by AS claimed_by, c.at AS at, c.actor AS actor FROM job_claims c \
     JOIN jobs j ON j.id = c.job_id WHERE c.seq > $1 AND j.tenant = $3 ORDER BY c.seq LIMIT $2";
const CLAIMS_OF_JOB: &str = "SELECT claimed_by, at, actor FROM job_claims \
     WHERE job_id = $1 ORDER BY seq";
const WATERMARK: &str = "SELECT (SELECT COALESCE(MAX(seq), 0) FROM job_history) AS h, \
     (SELECT COALESCE(MAX(seq), 0) FROM job_claims) AS c";

/// A row of either table, before the merge: its own table's sequence number.
struct Row {
    seq: i64,
    of_history: bool,
    job_id: Uuid,
    at: DateTime<Utc>,
    actor: String,
    change: Change,
}

/// Merges two lists, each in its table's order, by time, keeping each list's order, and gives
/// each change the position after it.
fn merge(start: FeedPosition, history: Vec<Row>, claims: Vec<Row>) -> Vec<JobChange> {
    let mut out = Vec::with_capacity(history.len() + claims.len());
    let mut pos = start;
    let mut h = history.into_iter().peekable();
    let mut c = claims.into_iter().peekable();
    loop {
        let take_history = match (h.peek(), c.peek()) {
            (Some(a), Some(b)) => a.at <= b.at,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return out,
        };
        let row = if take_history { h.next() } else { c.next() };
        let Some(row) = row else { return out };
        if row.of_history {
            pos.history = row.seq;
        } else {
            pos.claims = row.seq;
        }
        out.push(JobChange {
            position: pos,
            job_id: row.job_id,
            at: row.at,
            actor: row.actor,
            change: row.change,
        });
    }
}

fn decode_status(s: String) -> Result<JobStatus, sqlx::Error> {
    s.parse()
        .map_err(|e: crate::status::UnknownStatus| sqlx::Error::Decode(Box::new(e)))
}

/// A take or release of one job, for its page.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimRecord {
    /// Who took it; `None` for a release.
    pub claimed_by: Option<String>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

impl Db {
    /// The newest position: where a reader that wants only what happens next starts.
    pub async fn feed_watermark(&self) -> Result<FeedPosition, sqlx::Error> {
        on_db!(self, pool => {
            use sqlx::Row as _;
            let row = sqlx::query(WATERMARK).fetch_one(pool).await?;
            Ok(FeedPosition { history: row.try_get("h")?, claims: row.try_get("c")? })
        })
    }

    /// Up to `limit` status changes and `limit` takes/releases after `after`, of `tenant`'s jobs
    /// or of all, merged oldest first.
    pub async fn changes_since(
        &self,
        after: FeedPosition,
        tenant: Option<&str>,
        limit: u32,
    ) -> Result<Vec<JobChange>, sqlx::Error> {
        let mut history = Vec::new();
        let mut claims = Vec::new();
        on_db!(self, pool => {
            use sqlx::Row as _;
            let query = match tenant {
                Some(t) => sqlx::query(HISTORY_OF_TENANT).bind(after.history).bind(i64::from(limit)).bind(t),
                None => sqlx::query(HISTORY).bind(after.history).bind(i64::from(limit)),
            };
            for row in query.fetch_all(pool).await? {
                let from: Option<String> = row.try_get("from_status")?;
                history.push(Row {
                    seq: row.try_get("seq")?,
                    of_history: true,
                    job_id: row.try_get("job_id")?,
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    change: Change::Status {
                        from: from.map(decode_status).transpose()?,
                        to: decode_status(row.try_get("to_status")?)?,
                    },
                });
            }
            let query = match tenant {
                Some(t) => sqlx::query(CLAIMS_OF_TENANT).bind(after.claims).bind(i64::from(limit)).bind(t),
                None => sqlx::query(CLAIMS).bind(after.claims).bind(i64::from(limit)),
            };
            for row in query.fetch_all(pool).await? {
                claims.push(Row {
                    seq: row.try_get("seq")?,
                    of_history: false,
                    job_id: row.try_get("job_id")?,
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    change: Change::Claim { claimed_by: row.try_get("claimed_by")? },
                });
            }
        });
        Ok(merge(after, history, claims))
    }

    /// Every take and release of one job, oldest first.
    pub async fn claims_of(&self, job_id: Uuid) -> Result<Vec<ClaimRecord>, sqlx::Error> {
        on_db!(self, pool => {
            use sqlx::Row as _;
            let mut out = Vec::new();
            for row in sqlx::query(CLAIMS_OF_JOB).bind(job_id).fetch_all(pool).await? {
                out.push(ClaimRecord {
                    claimed_by: row.try_get("claimed_by")?,
                    actor: row.try_get("actor")?,
                    at: row.try_get("at")?,
                });
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_and_reject() {
        let p = FeedPosition {
            history: 42,
            claims: 7,
        };
        assert_eq!(p.to_string().parse(), Ok(p));
        assert_eq!(" 0-0 ".parse(), Ok(FeedPosition::default()));
        for bad in ["", "42", "-1-2", "1-", "a-b", "<script>", "1-2-3"] {
            assert_eq!(bad.parse::<FeedPosition>(), Err(InvalidPosition), "{bad}");
        }
    }

    fn row(seq: i64, of_history: bool, secs: i64) -> Row {
        Row {
            seq,
            of_history,
            job_id: Uuid::nil(),
            at: DateTime::from_timestamp(secs, 0).unwrap(),
            actor: "t".into(),
            change: Change::Claim { claimed_by: None },
        }
    }

    #[test]
    fn merge_orders_by_time_and_advances_each_table_separately() {
        let start = FeedPosition {
            history: 10,
            claims: 3,
        };
        let out = merge(
            start,
            vec![row(11, true, 1), row(12, true, 5)],
            vec![row(4, false, 2), row(5, false, 9)],
        );
        let got: Vec<(i64, i64, i64)> = out
            .iter()
            .map(|c| (c.at.timestamp(), c.position.history, c.position.claims))
            .collect();
        assert_eq!(
            got,
            [(1, 11, 3), (2, 11, 4), (5, 12, 4), (9, 12, 5)],
            "each change carries where a resume starts"
        );
        assert!(merge(start, vec![], vec![]).is_empty());
    }
}
