//! The capacity plan: how many worker cores keep the small jobs' wait short and the large jobs'
//! promises kept, month by month as the orders grow, and the KEDA thresholds that follow.
//!
//! Everything here is a pure function of stated inputs: the volume (`Volume`: orders today,
//! growth, pricing jobs per order, working hours, the busiest hour's share), the workload
//! (`Workload`: `fixtures::workload`'s size mix and bursts, a job's cost as the cost model
//! predicts it plus the measured per-job overhead, with a spread) and the targets
//! (`Targets`). Each candidate cluster is run through [`crate::simulation`], the same queue
//! decisions the store makes. `pricing capacity` prints the plan and draws its plots.

use contracts::Lane;
use fixtures::workload::{Rng, SIZE_MIX, arrivals, sizes};
use pricing_core::Format;

use crate::cost::CostModel;
use crate::routing::{LaneThresholds, Queueing, route};
use crate::simulation::{Arrival, Cluster, Summary, simulate, summarise};

/// Seconds a slot spends per job around pricing (blob read, store round trips): the intercept
/// of `cost::fit` over the runs (start to final) of three paced ring-mix load-bench runs on
/// this machine, 15.3–17.6 ms (`cargo bench --bench load -- --mix rings ... --eta-csv F`).
pub const OVERHEAD_SECONDS: f64 = 0.016;

/// How many pricing jobs arrive, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    /// Orders a month today.
    pub orders_per_month: f64,
    /// Orders a month added each month.
    pub growth_per_month: f64,
    /// Pricing jobs per order: the website prices models that are never ordered and revisions
    /// of the ones that are; a partner's order is priced once.
    pub jobs_per_order: f64,
    /// Hours a month in which jobs arrive (22 working days of 10 hours).
    pub working_hours_per_month: f64,
    /// The busiest hour's arrivals over the average working hour's.
    pub peak_factor: f64,
}

impl Default for Volume {
    /// Assumed, not measured: 1,000 orders a month, four priced models per order, 220 working
    /// hours, the busiest hour three times the average. `pricing capacity` takes each as a flag.
    fn default() -> Self {
        Self {
            orders_per_month: 1000.0,
            growth_per_month: 100.0,
            jobs_per_order: 4.0,
            working_hours_per_month: 220.0,
            peak_factor: 3.0,
        }
    }
}

impl Volume {
    pub fn orders(&self, month: u32) -> f64 {
        self.orders_per_month + self.growth_per_month * f64::from(month)
    }

    /// Jobs per second in the busiest hour of `month`.
    pub fn peak_jobs_per_second(&self, month: u32) -> f64 {
        self.orders(month) * self.jobs_per_order * self.peak_factor
            / (self.working_hours_per_month.max(1.0) * 3600.0)
    }

    /// The first month whose peak reaches `jobs_per_second` (none: never, with no growth).
    pub fn month_reaching(&self, jobs_per_second: f64) -> Option<u32> {
        let per_order = self.peak_jobs_per_second(0) / self.orders_per_month.max(1e-9);
        let orders = jobs_per_second / per_order.max(1e-12);
        if orders <= self.orders_per_month {
            return Some(0);
        }
        if self.growth_per_month <= 0.0 {
            return None;
        }
        let months = ((orders - self.orders_per_month) / self.growth_per_month).ceil();
        (months <= f64::from(u32::MAX)).then_some(months as u32)
    }
}

/// The stream of jobs: sizes from `fixtures::workload::SIZE_MIX` (binary STL rings), Poisson
/// arrivals with bursts, each run as the cost model predicts plus the overhead, spread.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// Every `burst_every`-th arrival (0: none) brings `burst_size` jobs at once: a partner's
    /// batch, a campaign on the website.
    pub burst_every: usize,
    pub burst_size: usize,
    /// A run's cost over the prediction is uniform in [1 − spread, 1 + spread]: the model's
    /// own error (measured run errors are mostly within ±20 %).
    pub spread: f64,
    pub overhead_seconds: f64,
}

impl Default for Workload {
    fn default() -> Self {
        Self {
            burst_every: 20,
            burst_size: 10,
            spread: 0.2,
            overhead_seconds: OVERHEAD_SECONDS,
        }
    }
}

impl Workload {
    /// Jobs per arrival, bursts included.
    fn jobs_per_arrival(&self) -> f64 {
        if self.burst_every == 0 {
            1.0
        } else {
            1.0 + (self.burst_size.max(1) as f64 - 1.0) / self.burst_every as f64
        }
    }

    /// `n` jobs arriving at `jobs_per_second` on average (bursts included), drawn with `seed`.
    pub fn stream(
        &self,
        seed: u64,
        n: usize,
        jobs_per_second: f64,
        model: &CostModel,
    ) -> Vec<Arrival> {
        let rate = jobs_per_second / self.jobs_per_arrival();
        let times = arrivals(seed, n, rate, self.burst_every, self.burst_size);
        let mut rng = Rng::new(seed ^ 0x5EED);
        sizes(seed, n)
            .into_iter()
            .zip(times)
            .map(|(i, at)| {
                let triangles = SIZE_MIX[i].0 as u64;
                let predicted = model.predict(Format::StlBinary.as_str(), triangles);
                let spread = 1.0 - self.spread + 2.0 * self.spread * rng.unit();
                Arrival {
                    at,
                    triangles,
                    format: Format::StlBinary,
                    cost_factor: spread * (predicted + self.overhead_seconds) / predicted.max(1e-9),
                }
            })
            .collect()
    }

    /// Mean seconds a slot spends on a job of `lane` in this mix (the lane's lower bound when
    /// the mix has none: the large lane).
    pub fn mean_job_seconds(&self, lane: Lane, model: &CostModel, t: &LaneThresholds) -> f64 {
        let (mut weight, mut seconds) = (0.0, 0.0);
        for &(triangles, share) in &SIZE_MIX {
            let r = route(triangles as u64, Format::StlBinary, model, t);
            if r.lane == lane {
                weight += share;
                seconds += share * (r.predicted_seconds + self.overhead_seconds);
            }
        }
        if weight > 0.0 {
            seconds / weight
        } else {
            match lane {
                Lane::Small => self.overhead_seconds,
                Lane::Medium => t.small_max_seconds,
                Lane::Large => t.medium_max_seconds,
            }
        }
    }
}

/// What a cluster must keep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Targets {
    /// 99th percentile of a small job's queue wait.
    pub small_wait_p99_seconds: f64,
    /// 90th percentile of a medium or large job's ETA error: their wait stays within what they
    /// were promised while the small lane goes first (the ETA target).
    pub large_eta_error_p90: f64,
}

impl Default for Targets {
    fn default() -> Self {
        Self {
            small_wait_p99_seconds: 1.0,
            large_eta_error_p90: 0.5,
        }
    }
}

impl Targets {
    pub fn met(&self, s: &Summary) -> bool {
        s.small_wait_p99 < self.small_wait_p99_seconds
            && s.large_eta_error_p90 <= self.large_eta_error_p90
    }
}

/// Everything one plan is computed from.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub volume: Volume,
    pub workload: Workload,
    pub targets: Targets,
    pub model: CostModel,
    pub thresholds: LaneThresholds,
    /// Cores of one worker (one slot per core).
    pub worker_cores: u32,
    /// The largest cluster tried, in cores.
    pub max_cores: u32,
    /// Jobs in each simulated stream (at a low rate, many busiest hours end to end).
    pub jobs: usize,
    pub seed: u64,
}

impl Default for Inputs {
    fn default() -> Self {
        Self {
            volume: Volume::default(),
            workload: Workload::default(),
            targets: Targets::default(),
            model: CostModel::default(),
            thresholds: LaneThresholds::default(),
            worker_cores: 2,
            max_cores: 32,
            jobs: 4000,
            seed: 1,
        }
    }
}

/// The figures of `slots` slots under `queueing` at a busiest hour of `jobs_per_second`.
pub fn at_rate(inputs: &Inputs, jobs_per_second: f64, slots: u32, queueing: Queueing) -> Summary {
    let stream = inputs
        .workload
        .stream(inputs.seed, inputs.jobs, jobs_per_second, &inputs.model);
    let cluster = Cluster {
        slots: slots.max(1),
        queueing,
        thresholds: inputs.thresholds.clone(),
    };
    summarise(&simulate(&stream, &inputs.model, &cluster))
}

/// The smallest cluster (in cores, one slot each) of `1..=max_cores` that keeps `targets` on
/// `stream`, with its figures; none when even `max_cores` does not.
pub fn cores_needed(
    stream: &[Arrival],
    inputs: &Inputs,
    queueing: Queueing,
) -> Option<(u32, Summary)> {
    (1..=inputs.max_cores.max(1)).find_map(|slots| {
        let cluster = Cluster {
            slots,
            queueing,
            thresholds: inputs.thresholds.clone(),
        };
        let s = summarise(&simulate(stream, &inputs.model, &cluster));
        inputs.targets.met(&s).then_some((slots, s))
    })
}

/// One month of the plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Month {
    pub month: u32,
    pub orders: f64,
    pub peak_jobs_per_second: f64,
    /// Cores needed with size lanes, and their figures.
    pub lanes: Option<(u32, Summary)>,
    /// Cores needed with one FIFO queue.
    pub fifo: Option<(u32, Summary)>,
    /// Busy share of one worker's cores in the busiest hour (work arriving over capacity).
    pub one_worker_utilisation: f64,
}

/// Months `0..=months` of the plan.
pub fn plan(inputs: &Inputs, months: u32) -> Vec<Month> {
    let mean = mean_job_seconds(inputs);
    (0..=months)
        .map(|month| {
            let rate = inputs.volume.peak_jobs_per_second(month);
            let stream = inputs
                .workload
                .stream(inputs.seed, inputs.jobs, rate, &inputs.model);
            Month {
                month,
                orders: inputs.volume.orders(month),
                peak_jobs_per_second: rate,
                lanes: cores_needed(&stream, inputs, Queueing::Lanes),
                fifo: cores_needed(&stream, inputs, Queueing::Fifo),
                one_worker_utilisation: rate * mean / f64::from(inputs.worker_cores.max(1)),
            }
        })
        .collect()
}

/// Mean seconds a slot spends per job over the whole mix.
pub fn mean_job_seconds(inputs: &Inputs) -> f64 {
    SIZE_MIX
        .iter()
        .map(|&(triangles, share)| {
            share
                * (inputs
                    .model
                    .predict(Format::StlBinary.as_str(), triangles as u64)
                    + inputs.workload.overhead_seconds)
        })
        .sum::<f64>()
        / SIZE_MIX.iter().map(|&(_, s)| s).sum::<f64>()
}

/// How far one worker carries the growth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Headroom {
    /// The busiest hour's jobs per second one worker takes within the targets.
    pub peak_jobs_per_second: f64,
    /// That over today's busiest hour.
    pub factor: f64,
    /// The month the growth reaches it (none: never).
    pub month: Option<u32>,
}

/// The highest peak rate one worker (`worker_cores` slots, size lanes) keeps the targets at,
/// found by bisection between today's rate and the rate that saturates it; none when it does
/// not keep them even today.
pub fn headroom(inputs: &Inputs) -> Option<Headroom> {
    let keeps = |rate: f64| {
        inputs
            .targets
            .met(&at_rate(inputs, rate, inputs.worker_cores, Queueing::Lanes))
    };
    let today = inputs.volume.peak_jobs_per_second(0);
    if !keeps(today) {
        return None;
    }
    // Above full utilisation the queue grows without bound: the upper end of the search.
    let (mut lo, mut hi) = (
        today,
        f64::from(inputs.worker_cores.max(1)) / mean_job_seconds(inputs),
    );
    if hi <= lo {
        hi = lo * 2.0;
    }
    for _ in 0..30 {
        let mid = 0.5 * (lo + hi);
        if keeps(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(Headroom {
        peak_jobs_per_second: lo,
        factor: lo / today.max(1e-12),
        month: inputs.volume.month_reaching(lo),
    })
}

/// One lane's KEDA `rabbitmq` trigger (`QueueLength` mode): ready messages per replica =
/// drain target × jobs a replica prices per second, never under one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LaneScaling {
    pub lane: Lane,
    pub mean_job_seconds: f64,
    pub slots_per_replica: u32,
    /// How soon a replica should clear the messages it is given.
    pub drain_seconds: f64,
    pub queue_length: u32,
}

impl LaneScaling {
    pub fn jobs_per_second_per_replica(&self) -> f64 {
        f64::from(self.slots_per_replica) / self.mean_job_seconds.max(1e-9)
    }
}

/// One lane's scaling with `slots` per replica. The drain targets: a small job is promised
/// well under `small_wait_p99_seconds` of queue; a medium or large one the medium lane's upper
/// bound (10 s), which leaves a large replica one message.
pub fn lane_scaling(inputs: &Inputs, lane: Lane, slots: u32) -> LaneScaling {
    let t = &inputs.thresholds;
    let mean = inputs.workload.mean_job_seconds(lane, &inputs.model, t);
    let drain_seconds = match lane {
        Lane::Small => inputs.targets.small_wait_p99_seconds,
        Lane::Medium | Lane::Large => t.medium_max_seconds,
    };
    let per_replica = f64::from(slots.max(1)) / mean.max(1e-9);
    LaneScaling {
        lane,
        mean_job_seconds: mean,
        slots_per_replica: slots.max(1),
        drain_seconds,
        queue_length: ((drain_seconds * per_replica).floor() as u32).max(1),
    }
}

/// The three lanes as `deploy/k8s/base` runs them: small and medium replicas of
/// `worker_cores` slots, large replicas of one (a large job wants a machine's memory).
pub fn keda(inputs: &Inputs) -> [LaneScaling; 3] {
    [
        lane_scaling(inputs, Lane::Small, inputs.worker_cores),
        lane_scaling(inputs, Lane::Medium, inputs.worker_cores),
        lane_scaling(inputs, Lane::Large, 1),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_cases() {
        let v = Volume::default();
        // (month, orders, peak jobs/s): 1000 orders · 4 jobs · 3 / (220 h · 3600 s).
        let cases = [
            (0, 1000.0, 12_000.0 / 792_000.0),
            (12, 2200.0, 26_400.0 / 792_000.0),
            (36, 4600.0, 55_200.0 / 792_000.0),
        ];
        for (month, orders, rate) in cases {
            assert_eq!(v.orders(month), orders);
            assert!(
                (v.peak_jobs_per_second(month) - rate).abs() < 1e-12,
                "{month}"
            );
        }
        // Reaching a rate: today's, twice today's (10 months at +100), never without growth.
        assert_eq!(v.month_reaching(v.peak_jobs_per_second(0)), Some(0));
        assert_eq!(v.month_reaching(2.0 * v.peak_jobs_per_second(0)), Some(10));
        let flat = Volume {
            growth_per_month: 0.0,
            ..v
        };
        assert_eq!(flat.month_reaching(1.0), None);
    }

    #[test]
    fn the_stream_has_the_asked_rate_and_the_overhead() {
        let w = Workload::default();
        let model = CostModel::default();
        let s = w.stream(1, 20_000, 2.0, &model);
        let rate = s.len() as f64 / s.last().map_or(1.0, |a| a.at);
        assert!((rate - 2.0).abs() < 0.1, "{rate}");
        // The smallest ring: 10k triangles ≈ 11 ms predicted, 27 ms with the overhead.
        let a = s
            .iter()
            .find(|a| a.triangles == 10_000)
            .map(|a| a.cost_factor);
        assert!(a.is_some_and(|f| f > 1.5 && f < 3.0), "{a:?}");
    }

    #[test]
    fn targets_cases() {
        let t = Targets::default();
        let s = |small: f64, large: f64| Summary {
            jobs: 10,
            small_wait_p50: 0.0,
            small_wait_p99: small,
            large_wait_max: 0.0,
            throughput: 1.0,
            eta_error_p50: 0.0,
            eta_error_p90: 0.0,
            large_eta_error_p90: large,
        };
        let cases = [
            (0.5, 0.1, true),
            (0.999, 0.5, true),
            (1.0, 0.1, false),
            (0.5, 0.51, false),
        ];
        for (small, large, met) in cases {
            assert_eq!(t.met(&s(small, large)), met, "{small} {large}");
        }
    }

    #[test]
    fn more_volume_never_needs_fewer_cores_and_lanes_need_no_more_than_fifo() {
        let inputs = Inputs {
            volume: Volume {
                orders_per_month: 50_000.0,
                growth_per_month: 50_000.0,
                ..Volume::default()
            },
            jobs: 1500,
            ..Inputs::default()
        };
        let months = plan(&inputs, 3);
        let lanes: Vec<u32> = months.iter().filter_map(|m| m.lanes.map(|l| l.0)).collect();
        assert_eq!(lanes.len(), 4, "{months:?}");
        assert!(lanes.windows(2).all(|w| w[0] <= w[1]), "{lanes:?}");
        for m in &months {
            if let (Some(l), Some(f)) = (m.lanes, m.fifo) {
                assert!(l.0 <= f.0, "{m:?}");
            }
        }
    }

    #[test]
    fn headroom_is_where_one_worker_stops_keeping_the_targets() {
        let inputs = Inputs {
            jobs: 1500,
            ..Inputs::default()
        };
        let h = headroom(&inputs).expect("one worker keeps today's volume");
        assert!(h.factor > 1.0, "{h:?}");
        let at = |rate: f64| {
            let s = at_rate(&inputs, rate, inputs.worker_cores, Queueing::Lanes);
            inputs.targets.met(&s)
        };
        assert!(at(h.peak_jobs_per_second));
        assert!(!at(h.peak_jobs_per_second * 2.0));
        // Under full utilisation of the worker's cores.
        assert!(h.peak_jobs_per_second < 2.0 / mean_job_seconds(&inputs));
    }

    #[test]
    fn keda_queue_lengths_follow_the_cost_model() {
        let inputs = Inputs::default();
        let [small, medium, large] = keda(&inputs);
        // Small: ≈ 0.18 s a job → 2 slots price ≈ 11 a second → 1 s of them.
        assert!(
            small.mean_job_seconds > 0.1 && small.mean_job_seconds < 0.3,
            "{small:?}"
        );
        assert_eq!(
            small.queue_length,
            (small.jobs_per_second_per_replica() * 1.0).floor() as u32
        );
        // Medium: the 3M rings (≈ 3.3 s) → 2 slots, 10 s → 6 messages.
        assert!(
            medium.mean_job_seconds > 3.0 && medium.mean_job_seconds < 3.6,
            "{medium:?}"
        );
        assert_eq!(medium.queue_length, 6);
        // Large: none in the mix, at least 10 s each, one slot → one message a replica.
        assert_eq!(large.queue_length, 1);
    }
}
