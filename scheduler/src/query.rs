//! Operators' queries: newest jobs by status and tenant, paged by an opaque keyset cursor.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::job::Job;
use crate::status::JobStatus;

/// Largest page served.
pub const MAX_PAGE_SIZE: u32 = 500;

/// Filter and page of a job listing, newest first.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct JobQuery {
    /// Any of these statuses (all when empty).
    pub statuses: Vec<JobStatus>,
    pub tenant: Option<String>,
    /// Only jobs this operator has taken.
    pub claimed_by: Option<String>,
    /// Page size, clamped to 1..=[`MAX_PAGE_SIZE`].
    pub limit: u32,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl JobQuery {
    pub fn clamped_limit(&self) -> u32 {
        self.limit.clamp(1, MAX_PAGE_SIZE)
    }
}

/// One page of jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobPage {
    pub jobs: Vec<Job>,
    /// Pass back to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Position after the last job of a page: `(created_at, id)` of that job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

/// A cursor string that was not made by [`Cursor::encode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid page cursor")]
pub struct InvalidCursor;

impl Cursor {
    pub fn after(job: &Job) -> Self {
        Self {
            created_at: job.created_at,
            id: job.id,
        }
    }

    /// Opaque to clients: hex of `"<micros since epoch>.<uuid>"`.
    pub fn encode(&self) -> String {
        hex::encode(format!(
            "{}.{}",
            self.created_at.timestamp_micros(),
            self.id.simple()
        ))
    }

    pub fn decode(s: &str) -> Result<Self, InvalidCursor> {
        let raw = hex::decode(s).map_err(|_| InvalidCursor)?;
        let text = std::str::from_utf8(&raw).map_err(|_| InvalidCursor)?;
        let (micros, id) = text.split_once('.').ok_or(InvalidCursor)?;
        let micros: i64 = micros.parse().map_err(|_| InvalidCursor)?;
        Ok(Self {
            created_at: DateTime::from_timestamp_micros(micros).ok_or(InvalidCursor)?,
            id: Uuid::parse_str(id).map_err(|_| InvalidCursor)?,
        })
    }
}

/// The job that has been longest in a status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OldestInStatus {
    pub status: JobStatus,
    pub job_id: Uuid,
    /// When it entered the status.
    pub since: DateTime<Utc>,
    pub age_seconds: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_rejects() {
        let c = Cursor {
            created_at: DateTime::from_timestamp_micros(1_732_000_000_123_456).unwrap(),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Ok(c));
        for bad in [
            "",
            "zz",
            "2e",
            &hex::encode("abc.def"),
            &hex::encode("12.not-a-uuid"),
        ] {
            assert_eq!(Cursor::decode(bad), Err(InvalidCursor), "{bad}");
        }
    }

    #[test]
    fn limit_is_clamped() {
        let cases = [(0, 1), (1, 1), (50, 50), (500, 500), (10_000, 500)];
        for (limit, want) in cases {
            let q = JobQuery {
                limit,
                ..JobQuery::default()
            };
            assert_eq!(q.clamped_limit(), want);
        }
    }
}
