//! The `api_keys` table. A row keeps the key's SHA-256, never the key; the role is stored as
//! text and parsed by the API, whose concept it is.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::store::{Db, on_db};

/// A stored key, without its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub id: Uuid,
    /// The key's first characters, for listings.
    pub key_prefix: String,
    pub role: String,
    pub tenant: Option<String>,
    pub label: Option<String>,
    pub rate_per_minute: Option<u32>,
    pub daily_quota: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

macro_rules! columns {
    () => {
        "id, key_prefix, role, tenant, label, rate_per_minute, daily_quota, created_at, revoked_at"
    };
}
const SELECT_ACTIVE_BY_HASH: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
);
const SELECT_ALL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM api_keys ORDER BY created_at DESC, id DESC"
);
const INSERT: &str = "INSERT INTO api_keys (id, key_hash, key_prefix, role, tenant, label, \
     rate_per_minute, daily_quota, created_at, revoked_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)";
const REVOKE: &str = "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";

/// Limits are `INTEGER` columns (32-bit in PostgreSQL).
fn to_column(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl Db {
    /// Stores a key row under the key's hash.
    pub async fn insert_key(&self, row: &KeyRow, key_hash: &str) -> Result<(), sqlx::Error> {
        on_db!(self, pool => {
            sqlx::query(INSERT)
                .bind(row.id)
                .bind(key_hash)
                .bind(&row.key_prefix)
                .bind(&row.role)
                .bind(&row.tenant)
                .bind(&row.label)
                .bind(row.rate_per_minute.map(to_column))
                .bind(row.daily_quota.map(to_column))
                .bind(row.created_at)
                .execute(pool)
                .await
                .map(|_| ())
        })
    }

    /// The active key with hash `key_hash`, if any.
    pub async fn active_key(&self, key_hash: &str) -> Result<Option<KeyRow>, sqlx::Error> {
        on_db!(self, pool => {
            match sqlx::query(SELECT_ACTIVE_BY_HASH).bind(key_hash).fetch_optional(pool).await? {
                Some(row) => Some(key_from_row(&row)).transpose(),
                None => Ok(None),
            }
        })
    }

    /// Every key, newest first (revoked ones included).
    pub async fn keys(&self) -> Result<Vec<KeyRow>, sqlx::Error> {
        on_db!(self, pool => {
            let rows = sqlx::query(SELECT_ALL).fetch_all(pool).await?;
            rows.iter().map(key_from_row).collect()
        })
    }

    /// Active (not revoked) keys.
    pub async fn count_active_keys(&self) -> Result<u64, sqlx::Error> {
        let n: i64 = on_db!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL")
                .fetch_one(pool)
                .await?
        });
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Revokes key `id` at `at` (a revoked key stays revoked at its first time).
    pub async fn revoke_key(&self, id: Uuid, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
        on_db!(self, pool => {
            sqlx::query(REVOKE).bind(at).bind(id).execute(pool).await.map(|_| ())
        })
    }
}

pub(crate) fn key_from_row<R>(row: &R) -> Result<KeyRow, sqlx::Error>
where
    R: sqlx::Row,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> Uuid: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i32>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> DateTime<Utc>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<DateTime<Utc>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let limit = |v: Option<i32>| v.and_then(|n| u32::try_from(n).ok());
    Ok(KeyRow {
        id: row.try_get("id")?,
        key_prefix: row.try_get("key_prefix")?,
        role: row.try_get("role")?,
        tenant: row.try_get("tenant")?,
        label: row.try_get("label")?,
        rate_per_minute: limit(row.try_get("rate_per_minute")?),
        daily_quota: limit(row.try_get("daily_quota")?),
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}
