//! Per-key rate limits, the day of daily quotas, and the per-tenant gate on concurrent heavy jobs.
//!
//! Where each limit holds:
//! - **Rate limits are per replica.** They are token buckets in this process's memory: with N API
//!   replicas behind a balancer, each enforces the limit on its own share of the traffic (up to N×
//!   the rate in total), and a restart refills the buckets. That is the usual trade for a limit
//!   whose job is to smooth bursts, checked on every request without a database round trip.
//! - **Daily quotas are global.** Jobs per key per UTC day are counted in the shared database
//!   (`scheduler::accounts::quotas`), so all replicas together, and restarted ones, enforce one quota;
//!   here is only the pure part, [`quota_day`].
//! - **The heavy-job gate** counts the tenant's unfinished large-lane jobs in the database, so it
//!   holds across replicas (up to the race of two replicas admitting the last slot at the same
//!   instant).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
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

/// The UTC day a job accepted at `now` counts against, and the seconds until that day's quota
/// resets (the next UTC midnight; at least 1): the `Retry-After` of `quota_exceeded`.
pub fn quota_day(now: DateTime<Utc>) -> (NaiveDate, u64) {
    let today = now.date_naive();
    let midnight = today
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc());
    // Rounded up, so a client that waits exactly this long is on the next day; `succ_opt` fails
    // only on chrono's last representable day.
    let wait = midnight.map_or(3600, |m| {
        let ms = (m - now).num_milliseconds().max(1).unsigned_abs();
        ms.div_ceil(1000)
    });
    (today, wait)
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
    fn limiter_per_key() {
        let limiter = RateLimiter::default();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert!(limiter.check(a, 1).is_ok());
        assert!(limiter.check(a, 1).unwrap_err() >= 1);
        assert!(limiter.check(b, 1).is_ok());
    }

    #[test]
    fn quota_resets_at_utc_midnight() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let cases = [
            ("2025-03-04T00:00:00Z", "2025-03-04", 86_400),
            ("2025-03-04T12:00:00Z", "2025-03-04", 43_200),
            ("2025-03-04T23:59:30Z", "2025-03-04", 30),
            // Never 0: a client told to retry after 0 s would be refused again.
            ("2025-03-04T23:59:59.900Z", "2025-03-04", 1),
            ("2025-03-04T23:59:58.500Z", "2025-03-04", 2),
            // The end of a leap-year February and of a year.
            ("2024-02-28T23:00:00Z", "2024-02-28", 3_600),
            ("2025-12-31T23:59:00Z", "2025-12-31", 60),
            // Another offset is the same instant in UTC.
            ("2025-03-04T23:30:00-02:00", "2025-03-05", 81_000),
        ];
        for (now, today, wait) in cases {
            assert_eq!(quota_day(at(now)), (day(today), wait), "{now}");
        }
    }

    #[test]
    fn heavy_gate() {
        assert!(heavy_admitted(0, 1));
        assert!(!heavy_admitted(1, 1));
        assert!(!heavy_admitted(5, 0));
    }
}
