//! The `sessions` table: a browser's sign-in, stored under the SHA-256 of its cookie token. A
//! session is live while it has not expired, not been ended and its key is not revoked — all
//! three checked by the one lookup every request makes, so a revocation ends its sessions at once.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::keys::{KeyRow, key_from_row};
use crate::store::{Db, on_db};

/// A live session and the key it acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub key: KeyRow,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

const INSERT: &str = "INSERT INTO sessions (token_hash, key_id, csrf_token, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5)";
const LIVE: &str = "SELECT k.id AS id, k.key_prefix AS key_prefix, k.role AS role, \
     k.tenant AS tenant, k.label AS label, k.rate_per_minute AS rate_per_minute, \
     k.daily_quota AS daily_quota, k.created_at AS created_at, k.revoked_at AS revoked_at, \
     s.csrf_token AS csrf_token, s.created_at AS session_created_at, s.expires_at AS expires_at \
     FROM sessions s JOIN api_keys k ON k.id = s.key_id \
     WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND k.revoked_at IS NULL";
const END: &str = "UPDATE sessions SET ended_at = $2 WHERE token_hash = $1 AND ended_at IS NULL";
/// Ended and expired rows are kept a day for the record, then removed.
const PRUNE: &str = "DELETE FROM sessions WHERE expires_at < $1 OR ended_at < $1";

impl Db {
    /// Stores a new session for key `key_id`.
    pub async fn insert_session(
        &self,
        token_hash: &str,
        key_id: Uuid,
        csrf_token: &str,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        on_db!(self, pool => {
            sqlx::query(PRUNE).bind(created_at - chrono::TimeDelta::days(1)).execute(pool).await?;
            sqlx::query(INSERT)
                .bind(token_hash)
                .bind(key_id)
                .bind(csrf_token)
                .bind(created_at)
                .bind(expires_at)
                .execute(pool)
                .await
                .map(|_| ())
        })
    }

    /// The session stored under `token_hash`, if it is live at `now`.
    pub async fn live_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionRow>, sqlx::Error> {
        on_db!(self, pool => {
            use sqlx::Row;
            match sqlx::query(LIVE).bind(token_hash).bind(now).fetch_optional(pool).await? {
                Some(row) => Ok(Some(SessionRow {
                    key: key_from_row(&row)?,
                    csrf_token: row.try_get("csrf_token")?,
                    created_at: row.try_get("session_created_at")?,
                    expires_at: row.try_get("expires_at")?,
                })),
                None => Ok(None),
            }
        })
    }

    /// Ends the session (sign-out); ending an ended one does nothing.
    pub async fn end_session(
        &self,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        on_db!(self, pool => {
            sqlx::query(END).bind(token_hash).bind(at).execute(pool).await.map(|_| ())
        })
    }
}
