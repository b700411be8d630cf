//! A discrete-event simulation of the cluster's queues, made of the scheduler's own decisions:
//! [`crate::routing::route`] puts each job in a lane from the cost model, a free slot takes the
//! smallest lane's oldest job first (as `messaging::LaneConsumer` does), and each job is
//! promised what the store would promise it ([`crate::eta::wait_seconds`] over the runs in
//! progress, its lane's queue and the smaller lanes' served first, plus its own predicted
//! cost). With [`Queueing::Fifo`] the same stream goes through one queue in arrival order
//! instead.
//!
//! What it is for: how many slots keep the small jobs' wait short as the volume grows, and what
//! the lanes buy against one queue, for 1 to 32 workers where the machine has two cores
//! (`cargo bench -p scheduler --bench capacity`). A job's run is the cost model's prediction
//! times an optional factor per job (`Arrival::cost_factor`), so the model's own error can be
//! put in; with factors of 1 the promises are wrong only where the queue order differs from
//! the promise's assumption (a small job arriving later and served first).

use std::collections::VecDeque;

use contracts::Lane;
use pricing_core::Format;

use crate::cost::CostModel;
use crate::eta::wait_seconds;
use crate::eta_truth::{percentile, relative};
use crate::routing::{LaneThresholds, Queueing, route};

/// One upload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arrival {
    /// Seconds from the start.
    pub at: f64,
    pub triangles: u64,
    pub format: Format,
    /// The run's actual cost over the predicted one (1: the model is right).
    pub cost_factor: f64,
}

/// The simulated cluster.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Slots over all workers (every worker takes every lane).
    pub slots: u32,
    pub queueing: Queueing,
    pub thresholds: LaneThresholds,
}

/// What happened to one job, in seconds from the start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimJob {
    pub lane: Lane,
    pub arrival: f64,
    pub start: f64,
    pub finish: f64,
    /// The time to final promised at arrival.
    pub promised: f64,
}

impl SimJob {
    pub fn wait(&self) -> f64 {
        self.start - self.arrival
    }
}

fn queue_index(lane: Lane) -> usize {
    match lane {
        Lane::Small => 0,
        Lane::Medium => 1,
        Lane::Large => 2,
    }
}

/// Runs `arrivals` (in order of `at`) through `cluster`.
pub fn simulate(arrivals: &[Arrival], model: &CostModel, cluster: &Cluster) -> Vec<SimJob> {
    let slots = cluster.slots.max(1) as usize;
    let mut jobs: Vec<SimJob> = Vec::with_capacity(arrivals.len());
    let mut cost: Vec<(f64, f64)> = Vec::with_capacity(arrivals.len()); // (predicted, actual)
    let mut queues: [VecDeque<usize>; 3] = Default::default();
    // (finish time, job) of the runs in progress; at most `slots`.
    let mut running: Vec<(f64, usize)> = Vec::with_capacity(slots);
    let mut next = 0usize;
    let mut now = 0.0_f64;
    loop {
        // Start whatever free slots can take.
        while running.len() < slots {
            let Some(j) = queues.iter_mut().find_map(VecDeque::pop_front) else {
                break;
            };
            jobs[j].start = now;
            jobs[j].finish = now + cost[j].1;
            running.push((jobs[j].finish, j));
        }
        let finish = running
            .iter()
            .map(|r| r.0)
            .min_by(f64::total_cmp)
            .unwrap_or(f64::INFINITY);
        let arrive = arrivals.get(next).map_or(f64::INFINITY, |a| a.at.max(now));
        if finish.is_infinite() && arrive.is_infinite() {
            break;
        }
        if finish <= arrive {
            now = finish;
            running.retain(|r| r.0 > now);
            continue;
        }
        now = arrive;
        let a = arrivals[next];
        next += 1;
        let r = route(a.triangles, a.format, model, &cluster.thresholds);
        let factor = if a.cost_factor.is_finite() && a.cost_factor > 0.0 {
            a.cost_factor
        } else {
            1.0
        };
        let q = queue_index(cluster.queueing.lane(r.lane));
        // The store's promise: the runs in progress, the queues served first (the smaller
        // lanes, `eta::served_before`; every slot serves every lane) and this job's, then itself.
        let left: Vec<f64> = running
            .iter()
            .map(|&(_, j)| crate::eta::remaining_seconds(cost[j].0, now - jobs[j].start))
            .collect();
        let queued: f64 = queues[..=q].iter().flatten().map(|&j| cost[j].0).sum();
        let promised = wait_seconds(&left, queued, cluster.slots) + r.predicted_seconds;
        jobs.push(SimJob {
            lane: r.lane,
            arrival: now,
            start: f64::NAN,
            finish: f64::NAN,
            promised,
        });
        cost.push((r.predicted_seconds, r.predicted_seconds * factor));
        queues[q].push_back(jobs.len() - 1);
    }
    jobs
}

/// The figures a capacity plan compares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub jobs: usize,
    pub small_wait_p50: f64,
    pub small_wait_p99: f64,
    /// Longest wait of a medium or large job.
    pub large_wait_max: f64,
    /// Jobs per second from the first arrival to the last finish.
    pub throughput: f64,
    /// Median and 90th percentile of |actual − promised| / promised time to final (promises
    /// under 0.1 s count as 0.1 s, as in `eta_truth`).
    pub eta_error_p50: f64,
    pub eta_error_p90: f64,
    /// The same 90th percentile over the medium and large jobs alone: how far their promise
    /// is off while the small lane goes first on shared slots.
    pub large_eta_error_p90: f64,
}

pub fn summarise(jobs: &[SimJob]) -> Summary {
    let mut small: Vec<f64> = jobs
        .iter()
        .filter(|j| j.lane == Lane::Small)
        .map(SimJob::wait)
        .collect();
    let large_wait_max = jobs
        .iter()
        .filter(|j| j.lane != Lane::Small)
        .map(SimJob::wait)
        .fold(0.0, f64::max);
    let first = jobs.iter().map(|j| j.arrival).fold(f64::INFINITY, f64::min);
    let last = jobs.iter().map(|j| j.finish).fold(0.0, f64::max);
    let error = |j: &SimJob| relative(j.promised, j.finish - j.arrival);
    let mut errors: Vec<f64> = jobs.iter().map(error).collect();
    let mut large_errors: Vec<f64> = jobs
        .iter()
        .filter(|j| j.lane != Lane::Small)
        .map(error)
        .collect();
    small.sort_by(f64::total_cmp);
    errors.sort_by(f64::total_cmp);
    large_errors.sort_by(f64::total_cmp);
    Summary {
        jobs: jobs.len(),
        small_wait_p50: percentile(&small, 0.5),
        small_wait_p99: percentile(&small, 0.99),
        large_wait_max,
        throughput: if last > first {
            jobs.len() as f64 / (last - first)
        } else {
            0.0
        },
        eta_error_p50: percentile(&errors, 0.5),
        eta_error_p90: percentile(&errors, 0.9),
        large_eta_error_p90: percentile(&large_errors, 0.9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Binary STL jobs whose predicted cost is `seconds` under the default model.
    fn job(at: f64, seconds: f64) -> Arrival {
        let per = crate::cost::default_coefficients("stl-binary").per_triangle_seconds;
        Arrival {
            at,
            triangles: (seconds / per).round() as u64,
            format: Format::StlBinary,
            cost_factor: 1.0,
        }
    }

    fn cluster(slots: u32, queueing: Queueing) -> Cluster {
        Cluster {
            slots,
            queueing,
            thresholds: LaneThresholds::default(),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-3
    }

    #[test]
    fn one_slot_serves_in_order_and_keeps_its_promises() {
        let m = CostModel::default();
        let jobs = simulate(
            &[job(0.0, 1.0), job(0.0, 1.0), job(0.5, 1.0)],
            &m,
            &cluster(1, Queueing::Lanes),
        );
        let starts: Vec<f64> = jobs.iter().map(|j| j.start).collect();
        assert!(close(starts[0], 0.0) && close(starts[1], 1.0) && close(starts[2], 2.0));
        // Promised: 1 s; 1 s wait + 1; at 0.5 s, 0.5 s left of the first and 1 s queued + 1.
        for (j, want) in jobs.iter().zip([1.0, 2.0, 2.5]) {
            assert!(close(j.promised, want), "{j:?}");
            assert!(close(j.finish - j.arrival, want), "{j:?}");
        }
        let s = summarise(&jobs);
        assert!(s.eta_error_p90 < 1e-3 && close(s.throughput, 1.0), "{s:?}");
    }

    #[test]
    fn lanes_let_small_jobs_pass_a_large_one_and_fifo_does_not() {
        let m = CostModel::default();
        // Two slots held by two 5 s (medium-lane) runs; a third 5 s job, then ten 0.1 s jobs.
        let mut stream = vec![job(0.0, 5.0), job(0.0, 5.0)];
        stream.extend((0..10).map(|i| job(0.01 + f64::from(i) * 0.01, 0.1)));
        stream.insert(2, job(0.005, 5.0));
        let lanes = summarise(&simulate(&stream, &m, &cluster(2, Queueing::Lanes)));
        let fifo = summarise(&simulate(&stream, &m, &cluster(2, Queueing::Fifo)));
        // Lanes: at 5 s both slots take small jobs, and the third large job waits for them.
        // FIFO: it takes one of the slots first, so the small ones share the other.
        assert!(
            lanes.small_wait_p99 < fifo.small_wait_p99,
            "{lanes:?} {fifo:?}"
        );
        assert!(
            lanes.large_wait_max >= fifo.large_wait_max,
            "{lanes:?} {fifo:?}"
        );
        assert!(fifo.small_wait_p50 > 4.9, "{fifo:?}");
        assert!(
            lanes.small_wait_p50 < 5.2 && lanes.small_wait_p50 > 4.9,
            "{lanes:?}"
        );
        assert_eq!(lanes.jobs, 13);
    }

    #[test]
    fn more_slots_never_make_small_jobs_wait_longer_here() {
        let m = CostModel::default();
        let stream: Vec<Arrival> = (0..400)
            .map(|i| job(f64::from(i) * 0.05, if i % 20 == 0 { 3.0 } else { 0.1 }))
            .collect();
        let waits: Vec<f64> = [1, 2, 4, 8, 16, 32]
            .iter()
            .map(|&n| {
                summarise(&simulate(&stream, &m, &cluster(n, Queueing::Lanes))).small_wait_p99
            })
            .collect();
        assert!(waits.windows(2).all(|w| w[1] <= w[0] + 1e-9), "{waits:?}");
        // 32 slots: nobody waits.
        assert!(waits[5] < 1e-9, "{waits:?}");
    }

    #[test]
    fn a_model_that_underestimates_shows_in_the_eta_error() {
        let m = CostModel::default();
        let stream: Vec<Arrival> = (0..50)
            .map(|i| Arrival {
                cost_factor: 1.5,
                ..job(f64::from(i) * 0.5, 1.0)
            })
            .collect();
        let s = summarise(&simulate(&stream, &m, &cluster(1, Queueing::Lanes)));
        // Each job takes 1.5 s for 1 s promised, and the backlog grows.
        assert!(s.eta_error_p50 >= 0.5, "{s:?}");
        assert!(close(s.throughput, 50.0 / (50.0 * 1.5)), "{s:?}");
    }
}
