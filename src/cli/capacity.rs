//! `pricing capacity`: the capacity plan for the platform team. Month by month as the orders
//! grow, how many worker cores keep the small jobs' p99 queue wait under the target and the
//! large jobs within their promise, with size lanes and with one FIFO queue; how far one worker
//! carries the growth; and the KEDA queue lengths that follow (`deploy/k8s/base/worker-*.yaml`
//! must carry them: `tests/deploy_files.rs`). The decisions are `scheduler::capacity`'s; this
//! file reads the flags, prints and writes.

use std::path::PathBuf;
use std::process::ExitCode;

use scheduler::capacity::{self, Headroom, Inputs, Month};

use super::capacity_plot;

#[derive(Debug, clap::Args)]
pub struct CapacityArgs {
    /// Orders a month today (an assumption: pass your own).
    #[arg(long, default_value_t = capacity::Volume::default().orders_per_month)]
    orders: f64,
    /// Orders a month added each month.
    #[arg(long, default_value_t = capacity::Volume::default().growth_per_month)]
    growth: f64,
    /// Pricing jobs per order (website quotes never ordered, revisions, partners' orders).
    #[arg(long, default_value_t = capacity::Volume::default().jobs_per_order)]
    jobs_per_order: f64,
    /// Working hours a month in which the jobs arrive.
    #[arg(long, default_value_t = capacity::Volume::default().working_hours_per_month)]
    hours_per_month: f64,
    /// The busiest hour's arrivals over the average working hour's.
    #[arg(long, default_value_t = capacity::Volume::default().peak_factor)]
    peak_factor: f64,
    /// Every N-th arrival brings a burst (0: no bursts).
    #[arg(long, default_value_t = capacity::Workload::default().burst_every)]
    burst_every: usize,
    /// Jobs in a burst (a partner's batch).
    #[arg(long, default_value_t = capacity::Workload::default().burst_size)]
    burst_size: usize,
    /// Seconds of pricing per million binary STL triangles on one core (default: the measured
    /// starting cost model; take yours from `pricing bench` or the cluster's calibration).
    #[arg(long)]
    seconds_per_million: Option<f64>,
    /// Seconds a worker slot spends per job around pricing.
    #[arg(long, default_value_t = capacity::OVERHEAD_SECONDS)]
    overhead_seconds: f64,
    /// Target: small jobs' p99 queue wait, seconds.
    #[arg(long, default_value_t = capacity::Targets::default().small_wait_p99_seconds)]
    small_wait_p99: f64,
    /// Cores (= slots) of one worker.
    #[arg(long, default_value_t = 2)]
    worker_cores: u32,
    /// Months planned after this one.
    #[arg(long, default_value_t = 36)]
    months: u32,
    /// The largest cluster tried, in cores.
    #[arg(long, default_value_t = 32)]
    max_cores: u32,
    /// Jobs per simulated stream.
    #[arg(long, default_value_t = 4000)]
    jobs: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write the plan's plots (PNG) into this folder.
    #[arg(long, value_name = "DIR")]
    plots: Option<PathBuf>,
    /// A TrueType font for the plots' text (default: DejaVu Sans or Liberation Sans from the
    /// system's fonts).
    #[arg(long, value_name = "TTF")]
    font: Option<PathBuf>,
    /// Also write the month-by-month plan as CSV.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
}

impl CapacityArgs {
    fn inputs(&self) -> anyhow::Result<Inputs> {
        let positive = [
            ("--orders", self.orders),
            ("--jobs-per-order", self.jobs_per_order),
            ("--hours-per-month", self.hours_per_month),
            ("--peak-factor", self.peak_factor),
            ("--small-wait-p99", self.small_wait_p99),
        ];
        for (flag, v) in positive {
            anyhow::ensure!(
                v.is_finite() && v > 0.0,
                "{flag} must be above zero, not {v}"
            );
        }
        anyhow::ensure!(
            self.growth.is_finite()
                && self.overhead_seconds.is_finite()
                && self.overhead_seconds >= 0.0,
            "--growth and --overhead-seconds must be finite numbers (overhead not negative)"
        );
        anyhow::ensure!(
            self.worker_cores >= 1 && self.max_cores >= self.worker_cores,
            "--worker-cores must be at least 1 and at most --max-cores"
        );
        anyhow::ensure!(self.jobs >= 100, "--jobs must be at least 100");
        let mut model = scheduler::CostModel::default();
        if let Some(s) = self.seconds_per_million {
            anyhow::ensure!(
                s.is_finite() && s > 0.0,
                "--seconds-per-million must be above zero"
            );
            model.formats.insert(
                pricing_core::Format::StlBinary.as_str().to_owned(),
                scheduler::cost::FormatModel {
                    coefficients: scheduler::cost::Coefficients {
                        fixed_seconds: 0.0,
                        per_triangle_seconds: s / 1e6,
                    },
                    source: scheduler::cost::CoefficientSource::Calibrated,
                    samples: 0,
                    updated_at: None,
                },
            );
        }
        let d = Inputs::default();
        Ok(Inputs {
            volume: capacity::Volume {
                orders_per_month: self.orders,
                growth_per_month: self.growth,
                jobs_per_order: self.jobs_per_order,
                working_hours_per_month: self.hours_per_month,
                peak_factor: self.peak_factor,
            },
            workload: capacity::Workload {
                burst_every: self.burst_every,
                burst_size: self.burst_size.max(1),
                overhead_seconds: self.overhead_seconds,
                ..d.workload
            },
            targets: capacity::Targets {
                small_wait_p99_seconds: self.small_wait_p99,
                ..d.targets
            },
            model,
            worker_cores: self.worker_cores,
            max_cores: self.max_cores,
            jobs: self.jobs,
            seed: self.seed,
            ..d
        })
    }
}

pub fn run(args: CapacityArgs) -> anyhow::Result<ExitCode> {
    let inputs = args.inputs()?;
    let v = &inputs.volume;
    println!(
        "capacity plan: {:.0} orders a month today, +{:.0} a month, {} jobs per order, \
         {:.0} working hours a month, busiest hour ×{}",
        v.orders_per_month,
        v.growth_per_month,
        v.jobs_per_order,
        v.working_hours_per_month,
        v.peak_factor
    );
    println!(
        "workload: fixtures::workload ring mix, every {}th arrival bringing {}; {:.3} s a job on \
         average ({:.3} s overhead); targets: small p99 wait < {} s, medium/large ETA error p90 ≤ {:.0} %",
        inputs.workload.burst_every,
        inputs.workload.burst_size,
        capacity::mean_job_seconds(&inputs),
        inputs.workload.overhead_seconds,
        inputs.targets.small_wait_p99_seconds,
        inputs.targets.large_eta_error_p90 * 100.0,
    );
    let months = capacity::plan(&inputs, args.months);
    print_months(&months, inputs.worker_cores);
    let headroom = capacity::headroom(&inputs);
    print_headroom(headroom, &inputs);
    let keda = capacity::keda(&inputs);
    println!("\nKEDA (rabbitmq trigger, QueueLength): ready messages per replica");
    for k in &keda {
        println!(
            "  {:<7} {:.3} s a job, {} slot(s) → {:.2} jobs/s a replica; drain {:>4.1} s → value {}",
            k.lane.as_str(),
            k.mean_job_seconds,
            k.slots_per_replica,
            k.jobs_per_second_per_replica(),
            k.drain_seconds,
            k.queue_length
        );
    }
    if let Some(dir) = &args.plots {
        let written = capacity_plot::draw(dir, args.font.as_deref(), &inputs, &months)?;
        for p in written {
            println!("plot written to {}", p.display());
        }
    }
    if let Some(path) = &args.csv {
        std::fs::write(path, csv(&months))
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        println!("\nplan written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn cores(c: Option<(u32, scheduler::simulation::Summary)>) -> String {
    c.map_or("> max".to_owned(), |(n, _)| n.to_string())
}

fn print_months(months: &[Month], worker_cores: u32) {
    println!(
        "\n{:>5} {:>8} {:>10} {:>11} {:>11} {:>13} {:>14} {:>11}",
        "month",
        "orders",
        "peak job/s",
        "cores lanes",
        "cores fifo",
        "small p99 s",
        "large ETA p90",
        format!("1 worker ({worker_cores}c)"),
    );
    for m in months {
        let (p99, large) = m.lanes.map_or((f64::NAN, f64::NAN), |(_, s)| {
            (s.small_wait_p99, s.large_eta_error_p90)
        });
        println!(
            "{:>5} {:>8.0} {:>10.4} {:>11} {:>11} {:>13.3} {:>13.1}% {:>10.1}%",
            m.month,
            m.orders,
            m.peak_jobs_per_second,
            cores(m.lanes),
            cores(m.fifo),
            p99,
            large * 100.0,
            m.one_worker_utilisation * 100.0
        );
    }
}

fn print_headroom(h: Option<Headroom>, inputs: &Inputs) {
    match h {
        None => println!(
            "\nheadroom: one worker of {} cores does not keep the targets even today",
            inputs.worker_cores
        ),
        Some(h) => println!(
            "\nheadroom: one worker of {} cores keeps the targets up to {:.3} jobs/s in the busiest \
             hour, ×{:.1} today's; {}",
            inputs.worker_cores,
            h.peak_jobs_per_second,
            h.factor,
            match h.month {
                Some(m) => format!(
                    "the growth reaches that in month {m} ({:.0} orders a month)",
                    inputs.volume.orders(m)
                ),
                None => "the volume never reaches it without growth".to_owned(),
            }
        ),
    }
}

fn csv(months: &[Month]) -> String {
    let mut out = String::from(
        "month,orders,peak_jobs_per_second,cores_lanes,cores_fifo,small_wait_p99_s,small_wait_p99_fifo_s,large_eta_error_p90,one_worker_utilisation\n",
    );
    let n = |c: Option<(u32, scheduler::simulation::Summary)>| {
        c.map_or(String::new(), |c| c.0.to_string())
    };
    let p99 = |c: Option<(u32, scheduler::simulation::Summary)>| {
        c.map_or(String::new(), |c| format!("{:.4}", c.1.small_wait_p99))
    };
    for m in months {
        out.push_str(&format!(
            "{},{:.0},{:.6},{},{},{},{},{},{:.4}\n",
            m.month,
            m.orders,
            m.peak_jobs_per_second,
            n(m.lanes),
            n(m.fifo),
            p99(m.lanes),
            p99(m.fifo),
            m.lanes
                .map_or(String::new(), |c| format!("{:.4}", c.1.large_eta_error_p90)),
            m.one_worker_utilisation
        ));
    }
    out
}
