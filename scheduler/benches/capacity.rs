//! Capacity: the workload mix (`fixtures::workload`) through the simulated cluster
//! (`scheduler::simulation`), size lanes against one FIFO queue, for 1 to 32 slots, at the
//! arrival rates given. Costs are the measured starting cost model (`cost::FORMAT_DEFAULTS`,
//! one slot per job) plus a per-job overhead, with a spread around the prediction so that the
//! ETA columns show the model's error as well as the queue's.
//!
//! ```text
//! cargo bench -p scheduler --bench capacity    # Poisson rates 0.5, 2, 5 arrivals/s
//! ```
//! A rate is of arrivals; with every 20th bringing 10 uploads, jobs arrive 29/20 as fast (the
//! throughput column).
//! ```text
//! cargo bench -p scheduler --bench capacity -- --rates 1,3 --jobs 5000 --seed 2
//! ```
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use fixtures::workload::{Rng, SIZE_MIX, arrivals, sizes};
use pricing_core::Format;
use scheduler::cost::CostModel;
use scheduler::routing::LaneThresholds;
use scheduler::simulation::{Arrival, Cluster, Queueing, simulate, summarise};

/// Seconds a slot spends per job around pricing (blob read, store round trips): the intercept
/// of `cost::fit` over the runs (start to final) of three paced ring-mix load-bench runs on
/// this machine, 15.3–17.6 ms (`cargo bench --bench load -- --mix rings ... --eta-csv F`).
const OVERHEAD_SECONDS: f64 = 0.016;

fn main() {
    let mut rates = vec![0.5, 2.0, 5.0];
    let mut jobs = 3000usize;
    let mut seed = 1u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rates" => {
                rates = args
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|r| r.parse().ok())
                    .collect()
            }
            "--jobs" => jobs = args.next().and_then(|v| v.parse().ok()).unwrap_or(jobs),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).unwrap_or(seed),
            _ => {}
        }
    }
    let model = CostModel::default();
    let drawn = sizes(seed, jobs);
    // The run's cost against the prediction: ±20 % (uniform), and the overhead the defaults
    // do not carry.
    let mut rng = Rng::new(seed ^ 0x5EED);
    let factors: Vec<f64> = drawn.iter().map(|_| 0.8 + 0.4 * rng.unit()).collect();
    println!(
        "capacity: {jobs} jobs of the ring mix (seed {seed}), every 20th arrival bringing 10; \
         cost model defaults, {OVERHEAD_SECONDS} s overhead per job, ±20 % spread"
    );
    println!(
        "{:>6} {:>5} {:<6} {:>13} {:>13} {:>14} {:>11} {:>9} {:>9}",
        "rate/s",
        "slots",
        "queue",
        "small p50 s",
        "small p99 s",
        "large max s",
        "throughput",
        "ETA p50",
        "ETA p90"
    );
    for &rate in &rates {
        let times = arrivals(seed, jobs, rate, 20, 10);
        let stream: Vec<Arrival> = drawn
            .iter()
            .zip(&times)
            .zip(&factors)
            .map(|((&i, &at), &f)| {
                let triangles = SIZE_MIX[i].0 as u64;
                let predicted = model.predict("stl-binary", triangles);
                Arrival {
                    at,
                    triangles,
                    format: Format::StlBinary,
                    cost_factor: f * (predicted + OVERHEAD_SECONDS) / predicted.max(1e-9),
                }
            })
            .collect();
        for slots in [1u32, 2, 4, 8, 16, 32] {
            for queueing in [Queueing::Lanes, Queueing::Fifo] {
                let cluster = Cluster {
                    slots,
                    queueing,
                    thresholds: LaneThresholds::default(),
                };
                let s = summarise(&simulate(&stream, &model, &cluster));
                println!(
                    "{rate:>6} {slots:>5} {:<6} {:>13.3} {:>13.3} {:>14.3} {:>11.2} {:>8.1}% {:>8.1}%",
                    match queueing {
                        Queueing::Lanes => "lanes",
                        Queueing::Fifo => "fifo",
                    },
                    s.small_wait_p50,
                    s.small_wait_p99,
                    s.large_wait_max,
                    s.throughput,
                    s.eta_error_p50 * 100.0,
                    s.eta_error_p90 * 100.0,
                );
            }
        }
    }
}
