//! ETAs: when a queued job starts — the worker slots serving its lane ([`lane_slots`]; a
//! worker's slots are shared by all its lanes, so this is an upper bound) free up as their runs
//! finish and take the work ahead of it ([`wait_seconds`]) — plus the job's own predicted cost.
//!
//! Work ahead follows the fair order of [`crate::fairness`]: for each tenant, the part of its
//! queued work whose start tags come before the job's ([`queued_work_ahead`]). Jobs already
//! running count with their predicted remaining time. These are estimates: they are as good as
//! the cost model (fitted to what a slot spends per job, `crate::cost`) and the slot count.

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
    /// Predicted seconds of work ahead of the job: queued in its lane and in the smaller lanes
    /// served first on the same slots ([`served_before`]), and left of the runs that hold them.
    pub work_ahead_seconds: f64,
    /// Worker slots serving the lane used for the estimate.
    pub capacity: u32,
    /// True when no live worker serves the lane and the configured capacity was assumed.
    pub capacity_assumed: bool,
}

/// What serves a lane: the slots of the live workers that take its jobs, and every lane those
/// workers also take (their runs hold the same slots).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneCapacity {
    pub slots: u32,
    /// No live worker serves the lane: `slots` is the configured assumption.
    pub assumed: bool,
    /// The lanes whose running jobs occupy these slots, the lane itself included.
    pub sharing: Vec<contracts::Lane>,
}

impl LaneCapacity {
    /// From the live workers, or `assumed` slots when none serves `lane`.
    pub fn of(alive: &[crate::work::WorkerInfo], lane: contracts::Lane, assumed: u32) -> Self {
        let slots = lane_slots(alive, lane);
        let mut sharing = vec![lane];
        for w in alive.iter().filter(|w| w.lanes.contains(&lane)) {
            sharing.extend(w.lanes.iter().copied());
        }
        sharing.sort();
        sharing.dedup();
        LaneCapacity {
            slots: if slots == 0 { assumed.max(1) } else { slots },
            assumed: slots == 0,
            sharing,
        }
    }
}

/// The lanes whose whole queues go before a job of `lane`: the smaller lanes among those sharing
/// its slots, since a free slot takes the smallest lane first (`messaging::LaneConsumer`).
/// Empty where each lane has workers of its own.
pub fn served_before(lane: contracts::Lane, sharing: &[contracts::Lane]) -> Vec<contracts::Lane> {
    sharing.iter().copied().filter(|l| *l < lane).collect()
}

/// Slots of the live workers that serve `lane`: the jobs of the lane priced at once.
pub fn lane_slots(alive: &[crate::work::WorkerInfo], lane: contracts::Lane) -> u32 {
    alive
        .iter()
        .filter(|w| w.lanes.contains(&lane))
        .map(|w| w.slots.max(1))
        .fold(0u32, u32::saturating_add)
}

/// Seconds until a queued job starts: the lane's `capacity` slots free up as the jobs running in
/// them finish (`running`: their remaining seconds), and take the `queued` seconds of work ahead
/// of the job as they do (water-filling: queued work is spread over whichever slots are free).
///
/// Unlike work ahead divided by capacity, a job that finds a slot idle starts at once, and a
/// job behind one long run on a two-slot lane waits for the other slot, not for half the run.
/// Running jobs beyond the slot count (slots shared with other lanes) count as queued work.
pub fn wait_seconds(running: &[f64], queued: f64, capacity: u32) -> f64 {
    let slots = capacity.max(1) as usize;
    let mut free: Vec<f64> = running
        .iter()
        .map(|r| if r.is_finite() { r.max(0.0) } else { 0.0 })
        .collect();
    free.sort_by(f64::total_cmp);
    let mut left = if queued.is_finite() {
        queued.max(0.0)
    } else {
        0.0
    };
    if free.len() > slots {
        left += free.split_off(slots).iter().sum::<f64>();
    }
    // Idle slots are free now.
    let mut free_at = vec![0.0; slots - free.len()];
    free_at.extend(free);
    for k in 1..slots {
        // Between the k-th and the next slot freeing, k slots take queued work.
        let room = (free_at[k] - free_at[k - 1]) * k as f64;
        if left <= room {
            return free_at[k - 1] + left / k as f64;
        }
        left -= room;
    }
    free_at[slots - 1] + left / slots as f64
}

/// Seconds until done: work ahead shared among `capacity` slots, then the job itself (when
/// only the lane's total work is known, as for an estimate before upload).
pub fn eta_seconds(work_ahead_seconds: f64, capacity: u32, own_seconds: f64) -> f64 {
    work_ahead_seconds.max(0.0) / f64::from(capacity.max(1)) + own_seconds.max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_before_cases() {
        use contracts::Lane::{Large, Medium, Small};
        // (lane, sharing, served before it)
        let cases: [(contracts::Lane, &[contracts::Lane], &[contracts::Lane]); 6] = [
            (Small, &[Small, Medium, Large], &[]),
            (Medium, &[Small, Medium, Large], &[Small]),
            (Large, &[Small, Medium, Large], &[Small, Medium]),
            (Large, &[Medium, Large], &[Medium]),
            // Workers of its own lane only (the Kubernetes deployment): nothing goes first.
            (Medium, &[Medium], &[]),
            (Large, &[Large], &[]),
        ];
        for (lane, sharing, want) in cases {
            assert_eq!(served_before(lane, sharing), want, "{lane:?} {sharing:?}");
        }
    }

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
    fn wait_cases() {
        // (running remaining, queued ahead, slots, expected wait)
        let cases: [(&[f64], f64, u32, f64); 11] = [
            // Nothing ahead: starts at once.
            (&[], 0.0, 2, 0.0),
            // A slot is idle: starts at once, whatever runs in the other.
            (&[5.0], 0.0, 2, 0.0),
            // Both busy: the first to free.
            (&[5.0, 2.0], 0.0, 2, 2.0),
            // One slot, a run and a queue: in turn.
            (&[3.0], 4.0, 1, 7.0),
            // Two slots, one running 10 s, 4 s queued: the idle slot takes the queue.
            (&[10.0], 4.0, 2, 4.0),
            // ... 14 s queued: 10 s on the idle slot, then both share the last 4.
            (&[10.0], 14.0, 2, 12.0),
            // Both idle: the queue is shared.
            (&[], 6.0, 2, 3.0),
            // Three slots freeing at 1, 2 and 4 s; 4 s of queue: 1 s on one slot (1..2), then
            // two slots for 1.5 s.
            (&[1.0, 2.0, 4.0], 4.0, 3, 3.5),
            // More running than slots (shared with other lanes): the extra run is queued work.
            (&[1.0, 1.0, 4.0], 0.0, 2, 3.0),
            // Capacity 0 is one slot; bad figures count as nothing.
            (&[2.0], 1.0, 0, 3.0),
            (&[f64::NAN, -1.0], f64::INFINITY, 2, 0.0),
        ];
        for (running, queued, slots, want) in cases {
            let got = wait_seconds(running, queued, slots);
            assert!(
                (got - want).abs() < 1e-9,
                "{running:?} {queued} {slots}: {got}"
            );
        }
    }

    /// A live worker taking `lanes` with `slots`.
    fn w(lanes: &[contracts::Lane], slots: u32) -> crate::work::WorkerInfo {
        crate::work::WorkerInfo {
            worker_id: "w".into(),
            lanes: lanes.to_vec(),
            current_job: None,
            slots,
            first_seen: chrono::DateTime::UNIX_EPOCH,
            last_seen: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn capacity_cases() {
        use contracts::Lane::{Large, Medium, Small};
        let one_process = [w(&[Small, Medium, Large], 2)];
        let c = LaneCapacity::of(&one_process, Small, 1);
        assert_eq!((c.slots, c.assumed), (2, false));
        assert_eq!(c.sharing, vec![Small, Medium, Large]);
        // Dedicated large workers do not share the small lane's slots.
        let split = [w(&[Small, Medium], 2), w(&[Large], 4)];
        assert_eq!(
            LaneCapacity::of(&split, Small, 1).sharing,
            vec![Small, Medium]
        );
        assert_eq!(LaneCapacity::of(&split, Large, 1).sharing, vec![Large]);
        assert_eq!(LaneCapacity::of(&split, Large, 1).slots, 4);
        // Nobody serves the lane: the assumption, and only the lane itself.
        let none = LaneCapacity::of(&split[1..], Small, 3);
        assert_eq!(
            (none.slots, none.assumed, none.sharing),
            (3, true, vec![Small])
        );
    }

    #[test]
    fn lane_slots_cases() {
        use contracts::Lane::{Large, Medium, Small};
        // (workers, lane, expected slots)
        let cases = [
            (vec![], Small, 0),
            (vec![w(&[Small, Medium], 2), w(&[Small], 3)], Small, 5),
            (vec![w(&[Small, Medium], 2), w(&[Small], 3)], Medium, 2),
            (vec![w(&[Small, Medium], 2)], Large, 0),
            // A row from before the column reads as one slot; zero is never counted as none.
            (vec![w(&[Large], 0), w(&[Large], 1)], Large, 2),
            (vec![w(&[Small], u32::MAX), w(&[Small], 2)], Small, u32::MAX),
        ];
        for (workers, lane, want) in cases {
            assert_eq!(lane_slots(&workers, lane), want, "{lane:?}");
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
