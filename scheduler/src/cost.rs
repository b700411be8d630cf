//! Cost model: predicted seconds of pricing work from the probe's format and triangle count.
//!
//! `seconds = fixed_seconds + per_triangle_seconds * triangles`, one pair of coefficients per
//! format, starting from [`DEFAULT_COEFFICIENTS`] and refitted by least squares over a sliding
//! window of observed durations ([`fit`]). The store persists the fitted coefficients so every
//! API instance predicts with the same numbers, and exposes them through `JobStore::cost_model`.

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

/// Starting coefficients, from the pricing-core thickness benchmark; recalibrated online.
///
/// PLACEHOLDER: 2.5e-6 s per triangle + 0.02 s fixed, until the measured pricing-core benchmark
/// numbers are supplied. Online calibration replaces them per format once
/// [`CalibrationConfig::min_samples`] durations of that format have been observed.
pub const DEFAULT_COEFFICIENTS: Coefficients = Coefficients {
    fixed_seconds: 0.02,
    per_triangle_seconds: 2.5e-6,
};

/// Where a format's coefficients came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoefficientSource {
    /// [`DEFAULT_COEFFICIENTS`].
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

/// The whole cost model: defaults plus per-format calibrated coefficients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostModel {
    /// Used for any format without its own fit.
    pub default: Coefficients,
    /// Keyed by lower-case format name ("stl", "obj", "gltf", ...).
    pub formats: BTreeMap<String, FormatModel>,
}

impl Default for CostModel {
    fn default() -> Self {
        Self {
            default: DEFAULT_COEFFICIENTS,
            formats: BTreeMap::new(),
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

/// Least-squares fit of `seconds = a + b * triangles`.
///
/// Returns `None` when there is too little to fit: fewer than `min_samples` finite observations.
/// When all sizes are equal (no slope information) or the fit has a negative slope (noise on a
/// narrow size range), it keeps the proportional part at zero and predicts the mean. A negative
/// intercept is replaced by a fit through the origin, so a prediction is never negative.
pub fn fit(observations: &[Observation], min_samples: usize) -> Option<Coefficients> {
    let pts: Vec<(f64, f64)> = observations
        .iter()
        .filter(|o| o.seconds.is_finite() && o.seconds >= 0.0)
        .map(|o| (o.triangles as f64, o.seconds))
        .collect();
    if pts.is_empty() || pts.len() < min_samples {
        return None;
    }
    let n = pts.len() as f64;
    let mean_x = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let flat = Coefficients {
        fixed_seconds: mean_y,
        per_triangle_seconds: 0.0,
    };
    // Relative threshold: triangle counts are large, so compare against the scale of x.
    if sxx <= f64::EPSILON * (mean_x * mean_x * n).max(1.0) {
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
    let sxx0: f64 = pts.iter().map(|p| p.0 * p.0).sum();
    let sxy0: f64 = pts.iter().map(|p| p.0 * p.1).sum();
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
                "same size predicts the mean",
                obs(&[(5000, 1.0), (5000, 3.0)]),
                2,
                Some((2.0, 0.0)),
            ),
            (
                "negative slope predicts the mean",
                obs(&[(1000, 2.0), (2000, 1.0)]),
                2,
                Some((1.5, 0.0)),
            ),
            (
                "negative intercept goes through the origin",
                obs(&[(1_000_000, 1.0), (2_000_000, 3.0)]),
                2,
                Some((0.0, 7.0 / 5.0 * 1e-6)),
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
    fn predict_uses_format_or_default() {
        let mut m = CostModel::default();
        assert!(close(m.predict("stl", 1_000_000), 2.52));
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
        assert!(close(m.predict("OBJ", 1_000_000), 2.0));
        assert!(close(m.predict("stl", 0), 0.02));
    }
}
