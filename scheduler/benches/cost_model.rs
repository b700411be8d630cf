//! Measures the scheduler's default cost coefficients: the wall time of one worker slot's job
//! (`pricing_core::quote_model`: parse + weld + measure + wall thickness + pricing) on one rayon
//! thread, on `fixtures::big_ring` rings of several sizes written in every upload format, fitted
//! per format with the same least squares the online calibration uses (`scheduler::cost::fit`).
//!
//! `cargo bench -p scheduler --bench cost_model` (about two minutes on the project's 2-core machine).
//! Options after `--`: `--quick` (one run per point), `--runs N` (runs per point, default 5),
//! `--sizes 10000,50000,...` (target triangle counts), `--formats 3mf,obj` (only these). It prints a table of timings with the
//! committed defaults' prediction next to each, then the Rust constants to paste into
//! `scheduler/src/cost.rs`. Re-run it after pricing-core changes that move the cost (parsers,
//! welding, thickness) and replace the constants.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Instant;

use pricing_core::pricing::{Channel, Rules};
use pricing_core::{QuoteRequest, quote_model};
use scheduler::cost::{self, Coefficients, Observation};

/// Up to one million triangles: past the small lane's boundary (2 s), without making the run long.
const DEFAULT_SIZES: [usize; 5] = [10_000, 50_000, 200_000, 500_000, 1_000_000];

/// The formats a job can have, as the probe names them, with the fixtures writer for each.
const FORMATS: [(&str, fixtures::Format); 6] = [
    ("stl-binary", fixtures::Format::Stl),
    ("stl-ascii", fixtures::Format::AsciiStl),
    ("obj", fixtures::Format::Obj),
    ("gltf", fixtures::Format::Gltf),
    ("glb", fixtures::Format::Glb),
    ("3mf", fixtures::Format::ThreeMf),
];

struct Args {
    runs: usize,
    sizes: Vec<usize>,
    /// Only these formats (probe names); all when empty.
    formats: Vec<String>,
}

fn args() -> Args {
    let argv: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        argv.iter()
            .position(|a| a == flag)
            .and_then(|i| argv.get(i + 1))
            .cloned()
    };
    let runs = if argv.iter().any(|a| a == "--quick") {
        1
    } else {
        value("--runs").map_or(5, |v| v.parse().expect("--runs takes a number"))
    };
    let sizes = value("--sizes").map_or_else(
        || DEFAULT_SIZES.to_vec(),
        |v| {
            v.split(',')
                .map(|s| {
                    s.trim()
                        .replace('_', "")
                        .parse()
                        .expect("--sizes takes numbers")
                })
                .collect()
        },
    );
    let formats = value("--formats").map_or_else(Vec::new, |v| {
        v.split(',').map(|s| s.trim().to_owned()).collect()
    });
    Args {
        runs: runs.max(1),
        sizes,
        formats,
    }
}

/// What a typical job asks for: two alloys, retail. Pricing itself is microseconds; the alloys
/// matter only through the thin-wall threshold, which decides whether thin regions are collected.
fn request() -> QuoteRequest {
    QuoteRequest {
        alloys: vec!["au750y".into(), "ag925".into()],
        channel: Channel::Website,
        analyze: Default::default(),
        thickness: Default::default(),
    }
}

/// Median of the wall times of `runs` calls, after one untimed warm-up call (page faults of the
/// first allocation of this size, lazily built rules caches).
fn median_seconds(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
    f();
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    (t[0], t[t.len() / 2])
}

/// Ordinary least squares `seconds = a + b·triangles`, without `fit`'s constraints.
fn ols(obs: &[Observation]) -> (f64, f64) {
    let n = obs.len() as f64;
    let mx = obs.iter().map(|o| o.triangles as f64).sum::<f64>() / n;
    let my = obs.iter().map(|o| o.seconds).sum::<f64>() / n;
    let sxx: f64 = obs.iter().map(|o| (o.triangles as f64 - mx).powi(2)).sum();
    let sxy: f64 = obs
        .iter()
        .map(|o| (o.triangles as f64 - mx) * (o.seconds - my))
        .sum();
    let b = sxy / sxx;
    (my - b * mx, b)
}

fn fmt_coefficients(c: Coefficients) -> String {
    format!(
        "Coefficients {{ fixed_seconds: {:.3e}, per_triangle_seconds: {:.3e} }}",
        c.fixed_seconds, c.per_triangle_seconds
    )
}

fn main() {
    let args = args();
    // Workers run one job per slot; a slot's job gets one core's worth of work.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let rules = Rules::default_shipped().unwrap();
    let req = request();
    let committed = scheduler::CostModel::default();

    let rings: Vec<(usize, fixtures::PolyMesh)> = args
        .sizes
        .iter()
        .map(|&n| {
            let (ring, _) = fixtures::big_ring(n);
            (ring.triangle_count(), ring.to_f32())
        })
        .collect();

    println!(
        "quote_model on 1 thread, {} run(s) per point after a warm-up, median wall time",
        args.runs
    );
    println!(
        "{:<11} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9} {:>14}",
        "format", "triangles", "MB", "job MB/s", "min s", "median s", "default s", "default/median"
    );
    let mut fitted: Vec<(&str, Coefficients, Vec<Observation>)> = Vec::new();
    let wanted = |name: &str| args.formats.is_empty() || args.formats.iter().any(|f| f == name);
    for (name, writer) in FORMATS.into_iter().filter(|(name, _)| wanted(name)) {
        let mut observations = Vec::new();
        for (triangles, ring) in &rings {
            let mut bytes = Vec::new();
            writer.write(ring, &mut bytes).unwrap();
            let (min_s, median_s) = pool.install(|| {
                median_seconds(args.runs, || {
                    black_box(quote_model(black_box(&bytes), &rules, &req).unwrap());
                })
            });
            let predicted = committed.predict(name, *triangles as u64);
            let mb = bytes.len() as f64 / 1e6;
            println!(
                "{name:<11} {triangles:>9} {mb:>9.1} {:>8.1} {min_s:>9.4} {median_s:>9.4} {predicted:>9.4} {:>14.2}",
                mb / median_s,
                predicted / median_s,
            );
            observations.push(Observation {
                triangles: *triangles as u64,
                seconds: median_s,
            });
        }
        let c = cost::fit(&observations, observations.len()).expect("at least one size");
        fitted.push((name, c, observations));
    }

    // The cost per triangle grows with size (BVH n·log n, caches), so the unconstrained line
    // often has a small negative intercept; `fit` then goes through the origin, as it does online.
    println!(
        "\nfit (scheduler::cost::fit over the medians), prediction error per size, and the unconstrained line"
    );
    for (name, c, obs) in &fitted {
        let residuals: Vec<String> = obs
            .iter()
            .map(|o| {
                format!(
                    "{:+.0}%",
                    (c.predict(o.triangles) / o.seconds - 1.0) * 100.0
                )
            })
            .collect();
        let (a, b) = ols(obs);
        println!(
            "{name:<11} {}  [{}]  ols: {a:+.4} s + {b:.3e} s/tri",
            fmt_coefficients(*c),
            residuals.join(" ")
        );
    }

    // Unknown format names fall back to the slowest measured format in each term: over-predicting
    // sends a job to a larger lane, which delays nobody else; under-predicting would.
    let fallback = fitted.iter().fold(
        Coefficients {
            fixed_seconds: 0.0,
            per_triangle_seconds: 0.0,
        },
        |acc, (_, c, _)| Coefficients {
            fixed_seconds: acc.fixed_seconds.max(c.fixed_seconds),
            per_triangle_seconds: acc.per_triangle_seconds.max(c.per_triangle_seconds),
        },
    );
    println!("\n// paste into scheduler/src/cost.rs");
    println!(
        "pub const DEFAULT_COEFFICIENTS: Coefficients = {};",
        fmt_coefficients(fallback)
    );
    println!(
        "pub const FORMAT_DEFAULTS: [(&str, Coefficients); {}] = [",
        fitted.len()
    );
    for (name, c, _) in &fitted {
        println!("    (\"{name}\", {}),", fmt_coefficients(*c));
    }
    println!("];");
}
