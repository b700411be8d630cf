//! The messages one job produced, for its page in the console: what was (or will be) sent to the
//! workers, MES and the CRM, and whether the relay has sent it yet.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Destination;
use crate::store::{Db, on_db};

/// One outbox row of a job, without its body.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    /// The contract's dedup key (what MES and the CRM see as the message id); `None` for a
    /// legacy row not finished yet.
    pub message_id: Option<String>,
    pub destination: Destination,
    pub exchange: Option<String>,
    pub routing_key: String,
    pub message_type: Option<String>,
    pub created_at: DateTime<Utc>,
    /// `None` while pending.
    pub sent_at: Option<DateTime<Utc>>,
}

const OF_JOB: &str = "SELECT message_id, destination, exchange, routing_key, message_type, \
     created_at, sent_at FROM outbox WHERE job_id = $1 ORDER BY seq";

impl Db {
    /// Every outbox row of `job_id`, in the order written.
    pub async fn messages_of(&self, job_id: Uuid) -> Result<Vec<SentMessage>, sqlx::Error> {
        on_db!(self, pool => {
            use sqlx::Row;
            let mut out = Vec::new();
            for row in sqlx::query(OF_JOB).bind(job_id).fetch_all(pool).await? {
                let destination: String = row.try_get("destination")?;
                let Some(destination) = Destination::parse(&destination) else { continue };
                out.push(SentMessage {
                    message_id: row.try_get("message_id")?,
                    destination,
                    exchange: row.try_get("exchange")?,
                    routing_key: row.try_get("routing_key")?,
                    message_type: row.try_get("message_type")?,
                    created_at: row.try_get("created_at")?,
                    sent_at: row.try_get("sent_at")?,
                });
            }
            Ok(out)
        })
    }
}
