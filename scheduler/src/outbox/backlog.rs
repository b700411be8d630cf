//! The outbox's backlog as the relay leaves it: what waits to be sent and for how long, and
//! when the relay last marked a message sent — the figures behind the outbox alerts.

use chrono::{DateTime, Utc};

use crate::store::{Db, on_db};

/// Unsent outbox rows and the relay's last confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Backlog {
    pub pending: u64,
    /// When the oldest unsent row was written.
    pub oldest_pending: Option<DateTime<Utc>>,
    /// When the newest row the relay sent was confirmed (rows are sent in order).
    pub last_sent: Option<DateTime<Utc>>,
}

const PENDING: &str = "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox \
     WHERE sent_at IS NULL";
const LAST_SENT: &str = "SELECT sent_at FROM outbox WHERE sent_at IS NOT NULL \
     ORDER BY seq DESC LIMIT 1";

impl Db {
    pub async fn outbox_backlog(&self) -> Result<Backlog, sqlx::Error> {
        on_db!(self, pool => {
            use sqlx::Row;
            let row = sqlx::query(PENDING).fetch_one(pool).await?;
            let n: i64 = row.try_get("n")?;
            let oldest: Option<DateTime<Utc>> = row.try_get("oldest")?;
            let last_sent: Option<DateTime<Utc>> =
                sqlx::query_scalar(LAST_SENT).fetch_optional(pool).await?.flatten();
            Ok(Backlog {
                pending: u64::try_from(n).unwrap_or(0),
                oldest_pending: oldest,
                last_sent,
            })
        })
    }
}
