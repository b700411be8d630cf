//! Capacity: the workload mix (`scheduler::capacity::Workload`: `fixtures::workload`'s sizes
//! and bursts, the measured starting cost model plus the per-job overhead, ±20 % spread)
//! through the simulated cluster (`scheduler::simulation`), size lanes against one FIFO queue,
//! for 1 to 32 slots, at the job rates given (bursts included). The month-by-month plan built
//! on the same functions is `pricing capacity`.
//!
//! ```text
//! cargo bench -p scheduler --bench capacity    # 0.725, 2.9, 7.25 jobs/s
//! cargo bench -p scheduler --bench capacity -- --rates 1,3 --jobs 5000 --seed 2
//! ```
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use scheduler::Queueing;
use scheduler::capacity::{OVERHEAD_SECONDS, Workload};
use scheduler::cost::CostModel;
use scheduler::routing::LaneThresholds;
use scheduler::simulation::{Cluster, simulate, summarise};

fn main() {
    let mut rates = vec![0.725, 2.9, 7.25];
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
    let workload = Workload::default();
    println!(
        "capacity: {jobs} jobs of the ring mix (seed {seed}), every 20th arrival bringing 10; \
         cost model defaults, {OVERHEAD_SECONDS} s overhead per job, ±20 % spread"
    );
    println!(
        "{:>6} {:>5} {:<6} {:>13} {:>13} {:>14} {:>11} {:>9} {:>9}",
        "jobs/s",
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
        let stream = workload.stream(seed, jobs, rate, &model);
        for slots in [1u32, 2, 4, 8, 16, 32] {
            for queueing in Queueing::ALL {
                let cluster = Cluster {
                    slots,
                    queueing,
                    thresholds: LaneThresholds::default(),
                };
                let s = summarise(&simulate(&stream, &model, &cluster));
                println!(
                    "{rate:>6} {slots:>5} {:<6} {:>13.3} {:>13.3} {:>14.3} {:>11.2} {:>8.1}% {:>8.1}%",
                    queueing.as_str(),
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
