//! The feed of status changes operators watch live: `job_history` read in sequence order, so a
//! reader that stopped at change `seq` resumes exactly after it (the sequence is the SSE event id).
//!
//! On PostgreSQL a change whose transaction commits after a later-numbered one can be passed over
//! by a reader already beyond its number; readers re-read the job itself, so the next change of
//! that job shows its state.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::status::JobStatus;
use crate::store::{Db, on_db};

/// One status change.
#[derive(Debug, Clone, PartialEq)]
pub struct JobChange {
    /// Position in the feed.
    pub seq: i64,
    pub job_id: Uuid,
    pub from_status: Option<JobStatus>,
    pub to_status: JobStatus,
    pub at: DateTime<Utc>,
    pub actor: String,
}

const ALL: &str = "SELECT h.seq AS seq, h.job_id AS job_id, h.from_status AS from_status, \
     h.to_status AS to_status, h.at AS at, h.actor AS actor FROM job_history h \
     WHERE h.seq > $1 ORDER BY h.seq LIMIT $2";
const OF_TENANT: &str = "SELECT h.seq AS seq, h.job_id AS job_id, h.from_status AS from_status, \
     h.to_status AS to_status, h.at AS at, h.actor AS actor FROM job_history h \
     JOIN jobs j ON j.id = h.job_id WHERE h.seq > $1 AND j.tenant = $3 ORDER BY h.seq LIMIT $2";

impl Db {
    /// Up to `limit` changes after `after`, oldest first, of `tenant`'s jobs or of all.
    pub async fn changes_since(
        &self,
        after: i64,
        tenant: Option<&str>,
        limit: u32,
    ) -> Result<Vec<JobChange>, sqlx::Error> {
        let mut out = Vec::new();
        on_db!(self, pool => {
            use sqlx::Row;
            let query = match tenant {
                Some(t) => sqlx::query(OF_TENANT).bind(after).bind(i64::from(limit)).bind(t),
                None => sqlx::query(ALL).bind(after).bind(i64::from(limit)),
            };
            for row in query.fetch_all(pool).await? {
                let from: Option<String> = row.try_get("from_status")?;
                let to: String = row.try_get("to_status")?;
                let decode = |e: crate::status::UnknownStatus| sqlx::Error::Decode(Box::new(e));
                out.push(JobChange {
                    seq: row.try_get("seq")?,
                    job_id: row.try_get("job_id")?,
                    from_status: from.map(|s| s.parse()).transpose().map_err(decode)?,
                    to_status: to.parse().map_err(decode)?,
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                });
            }
        });
        Ok(out)
    }
}
