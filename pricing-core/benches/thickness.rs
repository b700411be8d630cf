//! Cost curve of `analyze_thickness`: torus rings of 50k → 3M triangles on 1 and 2 threads, the least-squares
//! fit that `thickness::cost::MEASURED` records, peak RSS, and a comparison with parry3d's TriMesh ray cast.
//!
//! `cargo bench -p pricing-core --bench thickness` (add `-- --quick` for one run per point, `-- --no-parry` to
//! skip the comparison).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use parry3d::math::Vector;
use parry3d::query::{Ray, RayCast};
use parry3d::shape::TriMesh;
use pricing_core::mesh::Mesh;
use pricing_core::thickness::{ThicknessOptions, analyze_thickness};
use rayon::prelude::*;

const SIZES: [usize; 4] = [50_000, 200_000, 1_000_000, 3_000_000];

/// The fixtures crate's 18 mm benchmark ring (torus R = 9, r = 1.2 mm, near-square quads) with about `n`
/// triangles: the same meshes the full-quote benchmarks use.
fn ring(n: usize) -> Mesh {
    let (poly, _) = fixtures::big_ring(n);
    Mesh {
        triangles: poly.triangles(),
        positions: poly.positions,
    }
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

/// Timing of `runs` calls of `f`: the fastest and the median wall time, and the process CPU time per call.
struct Timing {
    min_s: f64,
    median_s: f64,
    cpu_s: f64,
}

fn time_runs(runs: usize, mut f: impl FnMut()) -> Timing {
    let cpu0 = cpu_secs();
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    let cpu_s = (cpu_secs() - cpu0) / runs as f64;
    t.sort_by(f64::total_cmp);
    Timing {
        min_s: t[0],
        median_s: t[t.len() / 2],
        cpu_s,
    }
}

/// User + system CPU time of the whole process (all threads), from /proc/self/stat in clock ticks (100 Hz).
fn cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the full line.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        f.get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Ordinary least squares `y = a + b·x`.
fn line(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), &(x, y)| (sx + x, sy + y));
    let (mx, my) = (sx / n, sy / n);
    let (sxy, sxx) = points.iter().fold((0.0, 0.0), |(sxy, sxx), &(x, y)| {
        (sxy + (x - mx) * (y - my), sxx + (x - mx) * (x - mx))
    });
    let b = sxy / sxx;
    (my - b * mx, b)
}

/// The model of `pricing_core::thickness::cost`: `t = fixed + per_tri · n · (n / 1e6)^growth`, fitted in log
/// space (so every size counts by its relative error) after taking off the fixed cost.
fn fit_power(fixed: f64, curve: &[(f64, f64)]) -> (f64, f64) {
    let logs: Vec<(f64, f64)> = curve
        .iter()
        .map(|&(n, t)| ((n / 1e6).ln(), (t - fixed).max(1e-9).ln()))
        .collect();
    let (a, b) = line(&logs);
    (a.exp() / 1e6, b - 1.0)
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Per-face rays through parry3d, the same rays as ours (origin nudged past the start face instead of skipping
/// it by index). Returns the number of faces hit, so the work cannot be optimised away.
fn parry_rays(mesh: &Mesh) -> usize {
    let c = centre(mesh);
    let verts: Vec<Vector> = mesh
        .positions
        .iter()
        .map(|p| {
            Vector::new(
                (p[0] - c[0]) as f32,
                (p[1] - c[1]) as f32,
                (p[2] - c[2]) as f32,
            )
        })
        .collect();
    let tm = TriMesh::new(verts, mesh.triangles.clone()).unwrap();
    (0..mesh.triangles.len())
        .into_par_iter()
        .filter(|&f| {
            let [a, b, cc] = mesh.triangle(f);
            let e1 = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
            let e2 = [cc[0] - a[0], cc[1] - a[1], cc[2] - a[2]];
            let n = [
                e1[1] * e2[2] - e1[2] * e2[1],
                e1[2] * e2[0] - e1[0] * e2[2],
                e1[0] * e2[1] - e1[1] * e2[0],
            ];
            let l = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
            let d = Vector::new((-n[0] / l) as f32, (-n[1] / l) as f32, (-n[2] / l) as f32);
            let g = Vector::new(
                ((a[0] + b[0] + cc[0]) / 3.0 - c[0]) as f32,
                ((a[1] + b[1] + cc[1]) / 3.0 - c[1]) as f32,
                ((a[2] + b[2] + cc[2]) / 3.0 - c[2]) as f32,
            );
            let ray = Ray::new(g + d * 2e-4, d);
            tm.cast_local_ray(&ray, f32::MAX, false).is_some()
        })
        .count()
}

fn centre(mesh: &Mesh) -> [f64; 3] {
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for p in &mesh.positions {
        for k in 0..3 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    [0, 1, 2].map(|k| 0.5 * (lo[k] + hi[k]))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let with_parry = !args.iter().any(|a| a == "--no-parry");
    let opts = ThicknessOptions::default();
    let (one, two) = (pool(1), pool(2));
    let mut curve1 = Vec::new();
    let mut curve2 = Vec::new();
    println!(
        "analyze_thickness on torus rings: fastest (median) wall seconds, process CPU seconds per run"
    );
    println!(
        "{:>10} {:>21} {:>7} {:>21} {:>7} {:>8}  min_mm",
        "triangles", "1 thread", "cpu", "2 threads", "cpu", "speed-up"
    );
    for &n in &SIZES {
        let mesh = ring(n);
        let tris = mesh.triangles.len();
        let runs = if quick {
            1
        } else {
            (4_000_000 / tris).clamp(3, 25)
        };
        let mut min_mm = f64::NAN;
        let t1 = one.install(|| {
            time_runs(runs, || {
                min_mm = black_box(analyze_thickness(&mesh, &opts).unwrap()).min_mm;
            })
        });
        let t2 = two.install(|| {
            time_runs(runs, || {
                drop(black_box(analyze_thickness(&mesh, &opts).unwrap()))
            })
        });
        println!(
            "{tris:>10} {:>10.4} ({:>8.4}) {:>7.3} {:>10.4} ({:>8.4}) {:>7.3} {:>8.2}  {min_mm:.4}",
            t1.min_s,
            t1.median_s,
            t1.cpu_s,
            t2.min_s,
            t2.median_s,
            t2.cpu_s,
            t1.min_s / t2.min_s
        );
        curve1.push((tris as f64, t1.min_s));
        curve2.push((tris as f64, t2.min_s));
    }
    // The fixed cost: a 1k-triangle ring, where the per-triangle work is negligible.
    let tiny = ring(1_000);
    let fixed = one
        .install(|| {
            time_runs(if quick { 5 } else { 200 }, || {
                drop(black_box(analyze_thickness(&tiny, &opts)))
            })
        })
        .min_s;
    let (per_tri, growth) = fit_power(fixed, &curve1);
    let model = |n: f64| per_tri * n * (n / 1e6).powf(growth);
    // Parallel fraction from each size's 2-thread speed-up on the variable part (Amdahl: S = 1 / (1 − p + p/2)).
    let fractions: Vec<f64> = curve1
        .iter()
        .zip(&curve2)
        .map(|(&(_, t1), &(_, t2))| 2.0 * (1.0 - (t2 - fixed) / (t1 - fixed)))
        .collect();
    let p = (fractions.iter().sum::<f64>() / fractions.len() as f64).clamp(0.0, 1.0);
    println!(
        "fixed cost (fastest run on {} triangles): {fixed:.6} s",
        tiny.triangles.len()
    );
    println!(
        "fit, 1 thread: {per_tri:.4e} s/triangle at 1M triangles, growth exponent {growth:.3}"
    );
    println!("parallel fraction per size: {fractions:.3?} → {p:.3}");
    for (label, curve, threads) in [("1 thread", &curve1, 1.0), ("2 threads", &curve2, 2.0)] {
        let residuals: Vec<String> = curve
            .iter()
            .map(|&(n, t)| {
                let predicted = fixed + model(n) * ((1.0 - p) + p / threads);
                format!("{:+.1}%", 100.0 * (predicted - t) / t)
            })
            .collect();
        println!("model error, {label}: {}", residuals.join(" "));
    }
    println!(
        "CostCoefficients {{ fixed_s: {fixed:.3e}, per_triangle_s: {per_tri:.3e}, growth_exponent: {growth:.3}, \
         parallel_fraction: {p:.3} }}"
    );
    println!(
        "peak RSS after the curve: {:.0} MiB",
        peak_rss_mib().unwrap_or(f64::NAN)
    );

    if with_parry {
        println!();
        println!(
            "parry3d TriMesh (build + one ray per face, no reduction) vs analyze_thickness (all of it)"
        );
        println!("fastest wall seconds and process CPU seconds per run");
        println!(
            "{:>10} {:>8} {:>10} {:>10} {:>10} {:>10}",
            "triangles", "threads", "parry", "cpu", "ours", "cpu"
        );
        for &n in &SIZES[..3] {
            let mesh = ring(n);
            for (threads, p) in [(1, &one), (2, &two)] {
                let runs = if quick { 1 } else { 3 };
                let tp = p.install(|| {
                    time_runs(runs, || {
                        black_box(parry_rays(&mesh));
                    })
                });
                let ours = p.install(|| {
                    time_runs(runs, || drop(black_box(analyze_thickness(&mesh, &opts))))
                });
                println!(
                    "{:>10} {threads:>8} {:>10.4} {:>10.3} {:>10.4} {:>10.3}",
                    mesh.triangles.len(),
                    tp.min_s,
                    tp.cpu_s,
                    ours.min_s,
                    ours.cpu_s
                );
            }
        }
        println!(
            "peak RSS at the end: {:.0} MiB",
            peak_rss_mib().unwrap_or(f64::NAN)
        );
    }
}
