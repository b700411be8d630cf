//! Per-key rate limits and daily quotas, and the per-tenant gate on concurrent heavy jobs.
//!
//! Rate limits are token buckets held in this process's memory: with several API replicas behind a
//! balancer, each enforces the limit on its own share of the traffic. Daily quotas count jobs this
//! process accepted since UTC midnight (also per process). The heavy-job gate counts the tenant's
//! unfinished large-lane jobs in the database, so it holds across replicas (up to the race of two
//! replicas admitting the last slot at the same instant).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use chrono::{NaiveDate, Utc};
use uuid::Uuid;

/// A token bucket: `capacity` tokens, refilled at `per_minute / 60` tokens a second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Takes one token from `bucket` at time `now`: `Ok(())`, or `Err(seconds until one is free)`.
/// The bucket holds up to one minute's worth of requests (the burst).
pub fn take(bucket: &mut Bucket, per_minute: u32, now: Instant) -> Result<(), f64> {
    let capacity = f64::from(per_minute.max(1));
    let rate = capacity / 60.0;
    let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
    bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
    bucket.updated = now;
    if bucket.tokens >= 1.0 {
        bucket.tokens -= 1.0;
        Ok(())
    } else {
        Err((1.0 - bucket.tokens) / rate)
    }
}

/// Request rate limits per key.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<Uuid, Bucket>>,
}

impl RateLimiter {
    /// `Err(retry_after_seconds)` when `key` is over `per_minute`.
    pub fn check(&self, key: Uuid, per_minute: u32) -> Result<(), u64> {
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: f64::from(per_minute.max(1)),
            updated: now,
        });
        take(bucket, per_minute, now).map_err(|wait| wait.ceil().max(1.0) as u64)
    }
}

/// Jobs accepted per key per UTC day.
#[derive(Debug, Default)]
pub struct Quotas {
    used: Mutex<HashMap<Uuid, (NaiveDate, u32)>>,
}

impl Quotas {
    /// Counts one job for `key` unless its `quota` for today is used up; `Err(seconds until UTC
    /// midnight)` then.
    pub fn take(&self, key: Uuid, quota: u32) -> Result<(), u64> {
        let now = Utc::now();
        let today = now.date_naive();
        let Ok(mut used) = self.used.lock() else {
            return Ok(());
        };
        let entry = used.entry(key).or_insert((today, 0));
        if entry.0 != today {
            *entry = (today, 0);
        }
        if entry.1 >= quota {
            let midnight = today
                .succ_opt()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc());
            let wait = midnight.map_or(3600, |m| (m - now).num_seconds().max(1) as u64);
            return Err(wait);
        }
        entry.1 += 1;
        Ok(())
    }

    /// Gives back a job counted by [`Quotas::take`] that was not created after all (an idempotent
    /// replay, or a refusal further on).
    pub fn give_back(&self, key: Uuid) {
        if let Ok(mut used) = self.used.lock()
            && let Some(entry) = used.get_mut(&key)
        {
            entry.1 = entry.1.saturating_sub(1);
        }
    }
}

/// Whether a tenant with `active` heavy jobs may start another under `limit`.
pub const fn heavy_admitted(active: u64, limit: u32) -> bool {
    active < limit as u64
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn bucket_allows_a_burst_then_refills() {
        let t0 = Instant::now();
        let mut b = Bucket {
            tokens: 3.0,
            updated: t0,
        };
        // 3 per minute: three at once, the fourth waits 20 s.
        assert_eq!(take(&mut b, 3, t0), Ok(()));
        assert_eq!(take(&mut b, 3, t0), Ok(()));
        assert_eq!(take(&mut b, 3, t0), Ok(()));
        let wait = take(&mut b, 3, t0).unwrap_err();
        assert!((wait - 20.0).abs() < 1e-9, "{wait}");
        assert_eq!(take(&mut b, 3, t0 + Duration::from_secs(20)), Ok(()));
        // Refill never exceeds the burst.
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(take(&mut b, 3, later), Ok(()));
        }
        assert!(take(&mut b, 3, later).is_err());
    }

    #[test]
    fn limiter_and_quota_per_key() {
        let limiter = RateLimiter::default();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert!(limiter.check(a, 1).is_ok());
        assert!(limiter.check(a, 1).unwrap_err() >= 1);
        assert!(limiter.check(b, 1).is_ok());

        let quotas = Quotas::default();
        assert!(quotas.take(a, 2).is_ok());
        assert!(quotas.take(a, 2).is_ok());
        assert!(quotas.take(a, 2).is_err());
        quotas.give_back(a);
        assert!(quotas.take(a, 2).is_ok());
        assert!(quotas.take(b, 2).is_ok());
    }

    #[test]
    fn heavy_gate() {
        assert!(heavy_admitted(0, 1));
        assert!(!heavy_admitted(1, 1));
        assert!(!heavy_admitted(5, 0));
    }
}
