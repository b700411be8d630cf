//! ETAs: predicted work ahead of a job in its lane, divided by the capacity serving the lane,
//! plus the job's own predicted cost.
//!
//! Work ahead follows the fair order of [`crate::fairness`]: for each tenant, the part of its
//! queued work whose start tags come before the job's ([`queued_work_ahead`]). Jobs already running count with their predicted remaining time. These are
//! estimates: they are as good as the cost model and the capacity figure.

use serde::{Deserialize, Serialize};

/// A tenant's queued work in one lane.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TenantBacklog {
    /// Predicted seconds of all its QUEUED jobs in the lane.
    pub backlog_seconds: f64,
    pub weight: f64,
    /// Finish tag of its last queued job.
    pub last_finish: f64,
}

/// Predicted seconds of queued work that the fair order places before a job with start tag
/// `start`.
///
/// A tenant's queued jobs hold consecutive tags ending at `last_finish`, so they span
/// `[last_finish - backlog / weight, last_finish)` in virtual time and the part before `start`
/// is `(start - first tag) * weight`, between nothing and the whole backlog. (Tags are only
/// contiguous while the tenant stays backlogged; after an idle gap this overestimates.)
pub fn queued_work_ahead(start: f64, tenants: &[TenantBacklog]) -> f64 {
    tenants
        .iter()
        .filter(|t| t.weight > 0.0 && t.backlog_seconds > 0.0)
        .map(|t| {
            let first = t.last_finish - t.backlog_seconds / t.weight;
            ((start - first) * t.weight).clamp(0.0, t.backlog_seconds)
        })
        .sum()
}

/// Predicted seconds left for a running job.
///
/// A job running past its prediction is assumed to need a further tenth of its prediction; the
/// model was wrong about it, and pretending it is about to finish would be a worse guess.
pub fn remaining_seconds(predicted_seconds: f64, elapsed_seconds: f64) -> f64 {
    let left = predicted_seconds - elapsed_seconds.max(0.0);
    if left > 0.0 {
        left
    } else {
        predicted_seconds.max(0.0) * 0.1
    }
}

/// An estimate of when a job will be done.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Eta {
    /// When the job is expected to finish.
    pub at: chrono::DateTime<chrono::Utc>,
    /// Seconds from the moment of the estimate.
    pub seconds: f64,
    /// Predicted seconds of work ahead of the job in its lane.
    pub work_ahead_seconds: f64,
    /// Workers serving the lane used for the estimate.
    pub capacity: u32,
    /// True when no live worker serves the lane and the configured capacity was assumed.
    pub capacity_assumed: bool,
}

/// Seconds until done: work ahead shared among `capacity` workers, then the job itself.
pub fn eta_seconds(work_ahead_seconds: f64, capacity: u32, own_seconds: f64) -> f64 {
    work_ahead_seconds.max(0.0) / f64::from(capacity.max(1)) + own_seconds.max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(backlog_seconds: f64, weight: f64, last_finish: f64) -> TenantBacklog {
        TenantBacklog {
            backlog_seconds,
            weight,
            last_finish,
        }
    }

    #[test]
    fn eta_cases() {
        // (work ahead, capacity, own, expected)
        let cases = [
            (0.0, 1, 2.0, 2.0),
            (10.0, 1, 2.0, 12.0),
            (10.0, 4, 2.0, 4.5),
            (10.0, 0, 2.0, 12.0),
            (-3.0, 2, 1.0, 1.0),
        ];
        for (ahead, cap, own, want) in cases {
            assert_eq!(eta_seconds(ahead, cap, own), want, "{ahead} {cap} {own}");
        }
    }

    #[test]
    fn work_ahead_cases() {
        // (start, tenants as (backlog, weight, last finish), expected)
        let cases = [
            // An idle tenant's first job in a lane flooded by a partner: nothing ahead.
            (0.0, vec![t(1000.0, 1.0, 1000.0), t(1.0, 1.0, 1.0)], 0.0),
            // Tag 10: ten seconds of each tenant backlogged from 0.
            (10.0, vec![t(1000.0, 1.0, 1000.0), t(50.0, 1.0, 50.0)], 20.0),
            // A tenant with less backlog than that contributes all of it.
            (10.0, vec![t(1000.0, 1.0, 1000.0), t(3.0, 1.0, 3.0)], 13.0),
            // Weight 2 gets twice the work per unit of virtual time.
            (
                10.0,
                vec![t(1000.0, 2.0, 505.0), t(1000.0, 1.0, 1005.0)],
                15.0,
            ),
            // The last of a tenant's 100 jobs: the 99 before it.
            (99.0, vec![t(100.0, 1.0, 100.0)], 99.0),
            // A backlog whose first tag is after the start is all behind.
            (3.0, vec![t(10.0, 1.0, 20.0)], 0.0),
            // Empty or weightless entries count for nothing.
            (3.0, vec![t(0.0, 1.0, 20.0), t(10.0, 0.0, 20.0)], 0.0),
        ];
        for (start, tenants, want) in cases {
            let got = queued_work_ahead(start, &tenants);
            assert!((got - want).abs() < 1e-9, "{start}: got {got}, want {want}");
        }
    }

    #[test]
    fn remaining_cases() {
        let cases = [
            (10.0, 0.0, 10.0),
            (10.0, 4.0, 6.0),
            (10.0, 12.0, 1.0),
            (10.0, -1.0, 10.0),
        ];
        for (p, e, want) in cases {
            assert_eq!(remaining_seconds(p, e), want, "{p} {e}");
        }
    }
}
