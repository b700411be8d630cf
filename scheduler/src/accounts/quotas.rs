//! Daily job quotas per API key, counted in the shared database (`api_key_usage`, one row per key
//! and UTC day), so every API replica and a restarted one enforce one quota together. Request rate
//! limits stay per replica (the API's `limits`).
//!
//! A unit is taken with one conditional upsert just before the job is created, and given back if
//! it was not created after all (an idempotent replay that raced, a refusal, a store error): the
//! increment and the quota check are one statement, so two replicas cannot both take the last unit.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::store::{Db, on_db};

/// Takes one unit unless the day's count has reached the quota (`$3`); a row comes back only when
/// the unit was taken. The insert of a day's first job is unconditional: quotas are at least 1 (a
/// `CHECK` on `api_keys`, and [`Quotas::take`] refuses 0 itself).
const TAKE: &str = "INSERT INTO api_key_usage (key_id, day, jobs) VALUES ($1, $2, 1) \
     ON CONFLICT (key_id, day) DO UPDATE SET jobs = api_key_usage.jobs + 1 \
     WHERE api_key_usage.jobs < $3 RETURNING jobs";
const GIVE_BACK: &str =
    "UPDATE api_key_usage SET jobs = jobs - 1 WHERE key_id = $1 AND day = $2 AND jobs > 0";
const USED: &str = "SELECT jobs FROM api_key_usage WHERE key_id = $1 AND day = $2";

/// A unit of a key's quota taken for one job, on the day it was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a unit must be given back if its job is not created"]
pub struct Unit {
    pub key_id: Uuid,
    pub day: NaiveDate,
}

/// The quota counters.
#[derive(Debug, Clone)]
pub struct Quotas {
    db: Db,
}

impl Quotas {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Jobs counted for `key_id` on `day`.
    pub async fn used(&self, key_id: Uuid, day: NaiveDate) -> Result<u64, sqlx::Error> {
        let n: Option<i64> = on_db!(&self.db, pool => {
            sqlx::query_scalar(USED).bind(key_id).bind(day).fetch_optional(pool).await?
        });
        Ok(n.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
    }

    /// Counts one job for `key_id` on `day` unless `quota` jobs are already counted: `Some(unit)`
    /// when taken, `None` when the quota is used up.
    pub async fn take(
        &self,
        key_id: Uuid,
        day: NaiveDate,
        quota: u32,
    ) -> Result<Option<Unit>, sqlx::Error> {
        if quota == 0 {
            return Ok(None);
        }
        let taken: Option<i64> = on_db!(&self.db, pool => {
            sqlx::query_scalar(TAKE)
                .bind(key_id)
                .bind(day)
                .bind(i64::from(quota))
                .fetch_optional(pool)
                .await?
        });
        Ok(taken.map(|_| Unit { key_id, day }))
    }

    /// Gives back a unit whose job was not created.
    pub async fn give_back(&self, unit: Unit) -> Result<(), sqlx::Error> {
        on_db!(&self.db, pool => {
            sqlx::query(GIVE_BACK)
                .bind(unit.key_id)
                .bind(unit.day)
                .execute(pool)
                .await
                .map(|_| ())?
        });
        Ok(())
    }
}
