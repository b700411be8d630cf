//! ETAs: predicted work ahead of a job in its lane, divided by the capacity serving the lane,
//! plus the job's own predicted cost.
//!
//! Work ahead follows the fair order of [`crate::fairness`]: a backlogged tenant of weight `w`
//! has about `(S - V) * w` seconds of work with start tags before `S`, capped by its whole
//! backlog. Jobs already running count with their predicted remaining time. These are
//! estimates: they are as good as the cost model and the capacity figure.

use serde::{Deserialize, Serialize};

/// A tenant's queued work in one lane.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TenantBacklog {
    /// Predicted seconds of all its QUEUED jobs in the lane.
    pub backlog_seconds: f64,
    pub weight: f64,
}

/// Predicted seconds of queued work that the fair order places before a job with start tag
/// `start`, in a lane whose clock is `lane_clock`. `exclude_seconds` is removed from the total
/// (the job's own cost, which is part of its own tenant's backlog).
pub fn queued_work_ahead(
    start: f64,
    lane_clock: f64,
    tenants: &[TenantBacklog],
    exclude_seconds: f64,
) -> f64 {
    let lag = (start - lane_clock).max(0.0);
    let total: f64 = tenants
        .iter()
        .map(|t| t.backlog_seconds.max(0.0).min(lag * t.weight))
        .sum();
    // The job itself sits at `start`, so it is never part of `lag * w`; it only inflates the
    // total when its tenant's whole backlog is below the cap.
    let total_backlog: f64 = tenants.iter().map(|t| t.backlog_seconds.max(0.0)).sum();
    total.min((total_backlog - exclude_seconds).max(0.0))
}

/// Predicted seconds left for a running job.
///
/// A job running past its prediction is assumed to need a further tenth of its prediction; the
/// model was wrong about it, and pretending it is about to finish would be a worse guess.
pub fn remaining_seconds(predicted_seconds: f64, elapsed_seconds: f64) -> f64 {
    let left = predicted_seconds - elapsed_seconds.max(0.0);
    if left > 0.0 { left } else { predicted_seconds.max(0.0) * 0.1 }
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

    fn t(backlog_seconds: f64, weight: f64) -> TenantBacklog {
        TenantBacklog {
            backlog_seconds,
            weight,
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
        // (start, clock, tenants, exclude, expected)
        let cases = [
            // Idle tenant's first job in a lane flooded by a partner: nothing ahead.
            (0.0, 0.0, vec![t(1000.0, 1.0), t(1.0, 1.0)], 1.0, 0.0),
            // Lag 10: ten seconds of each backlogged tenant are ahead.
            (10.0, 0.0, vec![t(1000.0, 1.0), t(50.0, 1.0)], 1.0, 20.0),
            // A tenant with less backlog than the lag contributes all of it.
            (10.0, 0.0, vec![t(1000.0, 1.0), t(3.0, 1.0)], 1.0, 13.0),
            // Weight 2 gets twice the share of the lag.
            (10.0, 5.0, vec![t(1000.0, 2.0), t(1000.0, 1.0)], 1.0, 15.0),
            // The last job of the only tenant: everything but itself.
            (99.0, 0.0, vec![t(100.0, 1.0)], 1.0, 99.0),
            (500.0, 0.0, vec![t(100.0, 1.0)], 1.0, 99.0),
            // Clock past the start (job delayed by an old tag): treated as lag 0.
            (3.0, 5.0, vec![t(10.0, 1.0)], 1.0, 0.0),
        ];
        for (start, clock, tenants, excl, want) in cases {
            let got = queued_work_ahead(start, clock, &tenants, excl);
            assert!((got - want).abs() < 1e-9, "{start} {clock}: got {got}, want {want}");
        }
    }

    #[test]
    fn remaining_cases() {
        let cases = [(10.0, 0.0, 10.0), (10.0, 4.0, 6.0), (10.0, 12.0, 1.0), (10.0, -1.0, 10.0)];
        for (p, e, want) in cases {
            assert_eq!(remaining_seconds(p, e), want, "{p} {e}");
        }
    }
}
