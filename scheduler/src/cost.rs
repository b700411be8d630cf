//! Cost model: predicted seconds of pricing work from the probe's format and triangle count.
//!
//! `seconds = fixed_seconds + per_triangle_seconds * triangles`, one pair of coefficients per
//! format, starting from the measured [`FORMAT_DEFAULTS`] and refitted by least squares over a
//! sliding window of observed durations ([`fit`]). The store persists the fitted coefficients so
//! every API instance predicts with the same numbers (API processes reload them periodically),
//! and exposes them through `JobStore::cost_model`; the API's `/metrics` shows them
//! (`pricing_cost_model_*`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Linear cost coefficients for one format.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Coefficients {
    /// Seconds spent whatever the size (parse setup, pricing, bookkeeping).
    pub fixed_seconds: f64,
    /// Seconds per triangle (parse + thickness analysis dominate).
    pub per_triangle_seconds: f64,
}

impl Coefficients {
    /// Predicted seconds for `triangles`.
    pub fn predict(&self, triangles: u64) -> f64 {
        // u64 -> f64 loses precision only above 2^53 triangles, far past any real mesh.
        self.fixed_seconds + self.per_triangle_seconds * triangles as f64
    }
}

/// Starting coefficients for a format without its own entry in [`FORMAT_DEFAULTS`] (a name the
/// probe never produces, such as a bare `stl`): the slowest measured format in each term, since
/// over-predicting sends a job to a larger lane, which delays nobody else, and under-predicting
/// would.
///
/// Printed by the same bench as [`FORMAT_DEFAULTS`] (here: 3MF's pair, the slowest since 3MF).
pub const DEFAULT_COEFFICIENTS: Coefficients = Coefficients {
    fixed_seconds: 0.0,
    per_triangle_seconds: 1.60e-6,
};

/// Starting coefficients per format (keyed by the probe's format names), recalibrated online:
/// [`fit`] replaces a format's pair once [`CalibrationConfig::min_samples`] durations of that
/// format have been observed.
///
/// Fitted by `cargo bench -p scheduler --bench cost_model` on 2026-11-25 on the project's 2-core
/// machine (AMD EPYC, 2 vCPUs, 24 GiB): the wall time of what one worker slot does for a job
/// (`pricing_core::quote_model`: parse, weld, measure, wall thickness, pricing in two alloys) on a
/// one-thread rayon pool (a worker prices one job per slot), median of 5 runs, on
/// `fixtures::big_ring` rings of 10k, 50k, 200k, 500k and 1M triangles written in each format,
/// fitted with [`fit`] itself. Other sessions were compiling on the machine (load average 4–5);
/// the bench ran in its own session with autogroup nice −20 (`setsid`, then
/// `echo -20 > /proc/self/autogroup`), pricing-core at a51f182 (chunked parallel welding).
/// Median seconds at 10k / 200k / 1M triangles: binary STL 0.0081 / 0.190 / 1.094, ASCII STL
/// 0.0129 / 0.293 / 1.538, OBJ 0.0112 / 0.252 / 1.416, glTF 0.0078 / 0.185 / 1.047, GLB 0.0077 /
/// 0.181 / 1.036 (an earlier run the same day agreed within 7%).
///
/// The fixed term is zero for every format: the pipeline's own set-up is well under a
/// millisecond, and the cost per triangle grows with size (BVH n·log n, caches: see
/// `pricing_core::thickness::cost`), so the unconstrained line has a small negative intercept
/// (−7 to −15 ms) and [`fit`] goes through the origin. The line is within 2% at 500k–1M
/// triangles, where lanes are decided, and over-predicts small models by up to a third (a few
/// milliseconds). What a worker's clock adds around the pipeline (blob read, store round trips)
/// is not in these figures; online calibration picks it up as the fixed term.
/// 3MF was added on 2026-12-02 in a slow spell of the machine (GLB itself took 2.08 s at 1M, twice
/// the figure above), so its pair is scaled by the ratio measured in the same run: `cargo bench -p
/// scheduler --bench cost_model -- --formats 3mf,glb --runs 3` gave 3.306e-6 s/triangle for 3MF
/// against 2.120e-6 for GLB (×1.56: XML text and inflating the zip), × GLB's 1.025e-6 = 1.60e-6.
///
/// Re-run the bench after pricing-core changes that move the cost (parsers, welding, thickness)
/// and paste the constants it prints; the scheduler never runs it at build time.
pub const FORMAT_DEFAULTS: [(&str, Coefficients); 6] = [
    (
        "stl-binary",
        Coefficients {
            fixed_seconds: 0.0,
            per_triangle_seconds: 1.084e-6,
        },
    ),
    (
        "stl-ascii",
        Coefficients {
            fixed_seconds: 0.0,
            per_triangle_seconds: 1.539e-6,
        },
    ),
    (
        "obj",
        Coefficients {
            fixed_seconds: 0.0,
            per_triangle_seconds: 1.406e-6,
        },
    ),
    (
        "gltf",
        Coefficients {
            fixed_seconds: 0.0,
            per_triangle_seconds: 1.039e-6,
        },
    ),
    (
        "glb",
        Coefficients {
            fixed_seconds: 0.0,
            per_triangle_seconds: 1.025e-6,
        },
    ),
    (
        "3mf",
        Coefficients {
            fixed_seconds: 0.0,
            per_triangle_seconds: 1.60e-6,
        },
    ),
];

/// The starting coefficients of `format` (any case): its [`FORMAT_DEFAULTS`] entry, else
/// [`DEFAULT_COEFFICIENTS`].
pub fn default_coefficients(format: &str) -> Coefficients {
    let format = normalize_format(format);
    FORMAT_DEFAULTS
        .iter()
        .find(|(name, _)| *name == format)
        .map_or(DEFAULT_COEFFICIENTS, |(_, c)| *c)
}

/// Where a format's coefficients came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoefficientSource {
    /// [`FORMAT_DEFAULTS`] (measured offline, not yet calibrated here).
    Default,
    /// Least squares over observed durations.
    Calibrated,
}

/// The coefficients in force for one format, with their provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormatModel {
    pub coefficients: Coefficients,
    pub source: CoefficientSource,
    /// Observations the fit used (0 for defaults).
    pub samples: u64,
    /// When the fit was made, if calibrated.
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The whole cost model: per-format coefficients (measured defaults until calibrated) and a
/// fallback for any other format name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostModel {
    /// Used for any format without an entry in `formats`.
    pub default: Coefficients,
    /// Keyed by lower-case format name ("stl-binary", "stl-ascii", "obj", "gltf", "glb", ...).
    pub formats: BTreeMap<String, FormatModel>,
}

impl Default for CostModel {
    /// [`FORMAT_DEFAULTS`] for every format the probe names, [`DEFAULT_COEFFICIENTS`] for others.
    fn default() -> Self {
        let formats = FORMAT_DEFAULTS
            .iter()
            .map(|&(name, coefficients)| {
                let model = FormatModel {
                    coefficients,
                    source: CoefficientSource::Default,
                    samples: 0,
                    updated_at: None,
                };
                (name.to_owned(), model)
            })
            .collect();
        Self {
            default: DEFAULT_COEFFICIENTS,
            formats,
        }
    }
}

impl CostModel {
    /// Predicted seconds for a job of this format and size.
    pub fn predict(&self, format: &str, triangles: u64) -> f64 {
        self.coefficients(format).predict(triangles)
    }

    /// The coefficients used for `format`.
    pub fn coefficients(&self, format: &str) -> Coefficients {
        self.formats
            .get(&normalize_format(format))
            .map_or(self.default, |m| m.coefficients)
    }
}

/// Format names are compared case-insensitively.
pub fn normalize_format(format: &str) -> String {
    format.trim().to_ascii_lowercase()
}

/// Knobs for online calibration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CalibrationConfig {
    /// Most recent observations per format used for a fit (older ones are pruned).
    pub window: u32,
    /// Fewer observations than this keep the previous coefficients.
    pub min_samples: u32,
    /// Refit after this many new observations recorded by one store instance.
    pub every: u32,
}

impl Default for CalibrationConfig {
    fn default() -> Self {
        Self {
            window: 500,
            min_samples: 8,
            every: 50,
        }
    }
}

/// One observed pricing run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    pub triangles: u64,
    pub seconds: f64,
}

/// Observations under this many seconds weigh as if they took this long in [`fit`]: a job of a
/// few milliseconds is not worth a hundred times a job of a tenth of a second (ETA errors are
/// judged with the same floor, `eta_truth`).
pub const FIT_FLOOR_SECONDS: f64 = 0.05;

/// Weighted least-squares fit of `seconds = a + b * triangles`, minimising the *relative*
/// error (weights `1 / seconds²`, floored at [`FIT_FLOOR_SECONDS`]).
///
/// Plain least squares is ruled by the largest jobs: one 3M-triangle model outweighs hundreds
/// of small ones, and the intercept — the per-job work around pricing, most of a small job's
/// time — comes out wrong by more than a small job takes. Customers judge an ETA by its
/// relative error, so every job counts alike.
///
/// Returns `None` when there is too little to fit: fewer than `min_samples` finite observations.
/// When all sizes are equal (no slope information) or the fit has a negative slope (noise on a
/// narrow size range), it keeps the proportional part at zero and predicts the (weighted) mean.
/// A negative intercept is replaced by a fit through the origin, so a prediction is never
/// negative.
pub fn fit(observations: &[Observation], min_samples: usize) -> Option<Coefficients> {
    // (x, y, weight)
    let pts: Vec<(f64, f64, f64)> = observations
        .iter()
        .filter(|o| o.seconds.is_finite() && o.seconds >= 0.0)
        .map(|o| {
            let floor = o.seconds.max(FIT_FLOOR_SECONDS);
            (o.triangles as f64, o.seconds, 1.0 / (floor * floor))
        })
        .collect();
    if pts.is_empty() || pts.len() < min_samples {
        return None;
    }
    let w: f64 = pts.iter().map(|p| p.2).sum();
    let mean_x = pts.iter().map(|p| p.2 * p.0).sum::<f64>() / w;
    let mean_y = pts.iter().map(|p| p.2 * p.1).sum::<f64>() / w;
    let sxx: f64 = pts.iter().map(|p| p.2 * (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = pts
        .iter()
        .map(|p| p.2 * (p.0 - mean_x) * (p.1 - mean_y))
        .sum();
    let flat = Coefficients {
        fixed_seconds: mean_y,
        per_triangle_seconds: 0.0,
    };
    // Relative threshold: triangle counts are large, so compare against the scale of x.
    if sxx <= f64::EPSILON * (mean_x * mean_x * w).max(f64::MIN_POSITIVE) {
        return Some(flat);
    }
    let b = sxy / sxx;
    if b < 0.0 {
        return Some(flat);
    }
    let a = mean_y - b * mean_x;
    if a >= 0.0 {
        return Some(Coefficients {
            fixed_seconds: a,
            per_triangle_seconds: b,
        });
    }
    let sxx0: f64 = pts.iter().map(|p| p.2 * p.0 * p.0).sum();
    let sxy0: f64 = pts.iter().map(|p| p.2 * p.0 * p.1).sum();
    Some(Coefficients {
        fixed_seconds: 0.0,
        per_triangle_seconds: if sxx0 > 0.0 { sxy0 / sxx0 } else { 0.0 },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(pairs: &[(u64, f64)]) -> Vec<Observation> {
        pairs
            .iter()
            .map(|&(triangles, seconds)| Observation { triangles, seconds })
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9_f64.max(b.abs() * 1e-6)
    }

    #[test]
    fn fit_cases() {
        // (name, observations, min_samples, expected (fixed, per_triangle) or None)
        type Case = (&'static str, Vec<Observation>, usize, Option<(f64, f64)>);
        let cases: Vec<Case> = vec![
            ("too few", obs(&[(1000, 0.1)]), 2, None),
            ("empty", vec![], 0, None),
            (
                "exact line",
                obs(&[(0, 0.05), (1_000_000, 3.05), (2_000_000, 6.05)]),
                3,
                Some((0.05, 3e-6)),
            ),
            (
                "same size predicts the weighted mean",
                obs(&[(5000, 1.0), (5000, 3.0)]),
                2,
                // (1·1 + 3·1/9) / (1 + 1/9)
                Some((1.2, 0.0)),
            ),
            (
                "negative slope predicts the weighted mean",
                obs(&[(1000, 2.0), (2000, 1.0)]),
                2,
                Some((1.2, 0.0)),
            ),
            (
                "negative intercept goes through the origin",
                obs(&[(1_000_000, 1.0), (2_000_000, 3.0)]),
                2,
                // Σ w·x·y / Σ w·x² with w = 1, 1/9: (1 + 2/3) / (1 + 4/9) per million.
                Some((0.0, (5.0 / 3.0) / (13.0 / 9.0) * 1e-6)),
            ),
            (
                "non-finite observations ignored",
                obs(&[
                    (0, 0.05),
                    (1_000_000, 3.05),
                    (7, f64::NAN),
                    (2_000_000, 6.05),
                ]),
                3,
                Some((0.05, 3e-6)),
            ),
        ];
        for (name, o, min, want) in cases {
            let got = fit(&o, min);
            match (got, want) {
                (None, None) => {}
                (Some(c), Some((a, b))) => assert!(
                    close(c.fixed_seconds, a) && close(c.per_triangle_seconds, b),
                    "{name}: got {c:?}, want ({a}, {b})"
                ),
                (g, w) => panic!("{name}: got {g:?}, want {w:?}"),
            }
        }
    }

    #[test]
    fn small_jobs_are_not_ruled_by_one_large_one() {
        // Small jobs on 10 ms + 1 µs per triangle; one 3M-triangle job 15 % over the line.
        let mut o = obs(&[(3_000_000, 3.01 * 1.15)]);
        for t in [10_000u64, 20_000, 35_000, 60_000] {
            o.extend(obs(&[(t, 0.01 + 1e-6 * t as f64); 5]));
        }
        let c = fit(&o, 2).unwrap();
        for t in [10_000u64, 60_000] {
            let truth = 0.01 + 1e-6 * t as f64;
            let rel = (c.predict(t) - truth).abs() / truth;
            assert!(rel < 0.05, "{t}: {} vs {truth} ({c:?})", c.predict(t));
        }
        // The unweighted line through the same points misses the 10k job by more than 10 %.
        let n = o.len() as f64;
        let (mx, my) = (
            o.iter().map(|p| p.triangles as f64).sum::<f64>() / n,
            o.iter().map(|p| p.seconds).sum::<f64>() / n,
        );
        let b = o
            .iter()
            .map(|p| (p.triangles as f64 - mx) * (p.seconds - my))
            .sum::<f64>()
            / o.iter()
                .map(|p| (p.triangles as f64 - mx).powi(2))
                .sum::<f64>();
        let plain = (my - b * mx).max(0.0) + b * 10_000.0;
        assert!((plain - 0.02).abs() / 0.02 > 0.1, "{plain}");
    }

    #[test]
    fn default_model_has_every_probed_format() {
        let m = CostModel::default();
        for format in [
            pricing_core::Format::StlBinary,
            pricing_core::Format::StlAscii,
            pricing_core::Format::Obj,
            pricing_core::Format::Gltf,
            pricing_core::Format::Glb,
            pricing_core::Format::ThreeMf,
        ] {
            let fm = &m.formats[format.as_str()];
            assert_eq!(fm.source, CoefficientSource::Default, "{format}");
            assert_eq!(fm.samples, 0);
            assert_eq!(fm.coefficients, default_coefficients(format.as_str()));
        }
        assert_eq!(m.formats.len(), FORMAT_DEFAULTS.len());
    }

    #[test]
    fn measured_defaults_are_plausible() {
        for (name, c) in FORMAT_DEFAULTS
            .iter()
            .chain([&("fallback", DEFAULT_COEFFICIENTS)])
        {
            assert!((0.0..0.1).contains(&c.fixed_seconds), "{name}: {c:?}");
            // 0.1 to 10 s per million triangles on one thread.
            assert!(
                (1e-7..1e-5).contains(&c.per_triangle_seconds),
                "{name}: {c:?}"
            );
            // The fallback is never cheaper than a known format.
            assert!(
                DEFAULT_COEFFICIENTS.fixed_seconds >= c.fixed_seconds,
                "{name}"
            );
            assert!(
                DEFAULT_COEFFICIENTS.per_triangle_seconds >= c.per_triangle_seconds,
                "{name}"
            );
        }
        // Text formats cost more per triangle than the binary ones (parse throughput per
        // triangle: ~220 bytes of ASCII STL, ~50 of OBJ, 50 of binary STL, ~18 of GLB).
        let per = |f: &str| default_coefficients(f).per_triangle_seconds;
        assert!(per("stl-ascii") > per("stl-binary"));
        assert!(per("obj") > per("stl-binary"));
        assert!(per("obj") > per("glb"));
    }

    #[test]
    fn predict_uses_format_or_default() {
        let mut m = CostModel::default();
        let million = 1_000_000;
        let stl = FORMAT_DEFAULTS[0].1;
        assert_eq!(FORMAT_DEFAULTS[0].0, "stl-binary");
        // Per format, whatever the case; 1M binary STL triangles: 0 + 1.084e-6 · 1e6 = 1.084 s.
        assert!(close(
            m.predict("STL-Binary", million),
            stl.fixed_seconds + stl.per_triangle_seconds * 1e6
        ));
        assert!(close(m.predict("stl-binary", million), 1.084));
        assert!(close(m.predict("stl-binary", 0), stl.fixed_seconds));
        // A name the probe never produces falls back to DEFAULT_COEFFICIENTS.
        assert!(close(
            m.predict("stl", million),
            DEFAULT_COEFFICIENTS.predict(million)
        ));
        assert_eq!(default_coefficients(" PLY "), DEFAULT_COEFFICIENTS);
        // A calibrated pair replaces the default for its format only.
        m.formats.insert(
            "obj".into(),
            FormatModel {
                coefficients: Coefficients {
                    fixed_seconds: 1.0,
                    per_triangle_seconds: 1e-6,
                },
                source: CoefficientSource::Calibrated,
                samples: 10,
                updated_at: None,
            },
        );
        assert!(close(m.predict("OBJ", million), 2.0));
        assert!(close(m.predict("stl-binary", million), 1.084));
        assert!(close(
            m.predict("glb", million),
            default_coefficients("glb").predict(million)
        ));
    }
}
