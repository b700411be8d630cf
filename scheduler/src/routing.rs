//! Size lanes: each lane has its own queue and workers, so a small job never waits behind a
//! large one.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::cost::CostModel;

/// A size class with its own queue (`jobs.<lane>`) and workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lane {
    Small,
    Medium,
    Large,
}

impl Lane {
    pub const ALL: [Lane; 3] = [Lane::Small, Lane::Medium, Lane::Large];

    pub const fn as_str(self) -> &'static str {
        match self {
            Lane::Small => "small",
            Lane::Medium => "medium",
            Lane::Large => "large",
        }
    }

    /// The routing key of this lane's run queue.
    pub fn routing_key(self) -> String {
        format!("jobs.{}", self.as_str())
    }
}

impl fmt::Display for Lane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lane name that is not small, medium or large.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown lane {0:?}")]
pub struct UnknownLane(pub String);

impl FromStr for Lane {
    type Err = UnknownLane;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownLane(s.to_owned()))
    }
}

/// Lane thresholds, in predicted seconds of work (so they follow the calibrated cost model and
/// account for format: an OBJ is slower to parse than a binary STL of the same size).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LaneThresholds {
    /// Jobs predicted to take at most this long go to the small lane.
    pub small_max_seconds: f64,
    /// Jobs predicted to take at most this long (and more than small) go to the medium lane.
    pub medium_max_seconds: f64,
}

impl Default for LaneThresholds {
    fn default() -> Self {
        // With the default coefficients: small up to ~0.8 M triangles, medium up to ~12 M.
        Self {
            small_max_seconds: 2.0,
            medium_max_seconds: 30.0,
        }
    }
}

/// The routing decision for one job.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Routing {
    pub lane: Lane,
    pub predicted_seconds: f64,
}

/// Lane for a job of `predicted_seconds`. Non-finite predictions go to the large lane, where a
/// surprise costs the least to others.
pub fn lane_for(predicted_seconds: f64, t: &LaneThresholds) -> Lane {
    if predicted_seconds.is_finite() && predicted_seconds <= t.small_max_seconds {
        Lane::Small
    } else if predicted_seconds.is_finite() && predicted_seconds <= t.medium_max_seconds {
        Lane::Medium
    } else {
        Lane::Large
    }
}

/// Predicts the job's cost and picks its lane. Pure: the same inputs always give the same lane.
pub fn route(triangles: u64, format: &str, model: &CostModel, t: &LaneThresholds) -> Routing {
    let predicted_seconds = model.predict(format, triangles);
    Routing {
        lane: lane_for(predicted_seconds, t),
        predicted_seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::{CoefficientSource, Coefficients, FormatModel};

    #[test]
    fn lane_for_cases() {
        let t = LaneThresholds::default();
        let cases = [
            (0.0, Lane::Small),
            (0.02, Lane::Small),
            (2.0, Lane::Small),
            (2.000_001, Lane::Medium),
            (30.0, Lane::Medium),
            (30.1, Lane::Large),
            (1e9, Lane::Large),
            (f64::NAN, Lane::Large),
            (f64::INFINITY, Lane::Large),
        ];
        for (secs, lane) in cases {
            assert_eq!(lane_for(secs, &t), lane, "{secs}");
        }
    }

    #[test]
    fn route_cases_with_default_and_calibrated_models() {
        let mut model = CostModel::default();
        model.formats.insert(
            "obj".into(),
            FormatModel {
                coefficients: Coefficients {
                    fixed_seconds: 0.1,
                    per_triangle_seconds: 1e-5,
                },
                source: CoefficientSource::Calibrated,
                samples: 100,
                updated_at: None,
            },
        );
        let t = LaneThresholds::default();
        // (triangles, format, lane): default model is 0.02 + 2.5e-6 * n.
        let cases = [
            (1_000, "stl", Lane::Small),
            (791_000, "stl", Lane::Small),
            (793_000, "stl", Lane::Medium),
            (11_990_000, "stl", Lane::Medium),
            (12_000_000, "stl", Lane::Large),
            (150_000, "obj", Lane::Small),
            (200_000, "obj", Lane::Medium),
            (200_000, "OBJ", Lane::Medium),
            (3_000_000, "obj", Lane::Large),
            (200_000, "gltf", Lane::Small),
        ];
        for (tri, fmt, lane) in cases {
            assert_eq!(route(tri, fmt, &model, &t).lane, lane, "{tri} {fmt}");
        }
        let custom = LaneThresholds {
            small_max_seconds: 0.5,
            medium_max_seconds: 1.0,
        };
        assert_eq!(route(500_000, "stl", &model, &custom).lane, Lane::Large);
    }
}
