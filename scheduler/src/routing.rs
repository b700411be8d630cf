//! Size lanes: each lane has its own queue and workers, so a small job never waits behind a
//! large one.

use contracts::{Format, Lane};
use serde::{Deserialize, Serialize};

use crate::cost::CostModel;

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
    /// Small: answered within a couple of seconds of pricing. With the measured default
    /// coefficients (`cost::FORMAT_DEFAULTS`, one slot) that is up to ~1.8 M triangles of binary
    /// STL or GLB and ~1.3–1.4 M of ASCII STL or OBJ: nearly every jewellery model.
    ///
    /// Medium: up to 10 s, i.e. ~9 M triangles of binary STL or GLB, ~7 M of OBJ. A default
    /// 256 MiB upload holds at most ~5.4 M binary STL or OBJ triangles (~6–8 s), so those are
    /// never large; large is for glTF/GLB above ~9.6 M triangles (a 256 MiB GLB holds ~15 M,
    /// ~15 s) and whatever raised limits admit. The bound was 30 s when the placeholder
    /// coefficients predicted 2.5 s per million triangles; with the measured 1.0–1.5 s per million
    /// no model under the default limits reached it, so the large lane (and the API's per-tenant
    /// cap on large jobs) never applied and the medium lane mixed 2 s and 20 s jobs.
    fn default() -> Self {
        Self {
            small_max_seconds: 2.0,
            medium_max_seconds: 10.0,
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

/// How jobs wait for a worker: in their size lane (the product), or all in one queue in arrival
/// order (the baseline the lanes are measured against: `PRICING_QUEUEING=fifo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Queueing {
    /// One queue per size lane; a free slot takes the smallest lane first.
    #[default]
    Lanes,
    /// One queue (the small lane's), first come first served. No job is large, so the API's
    /// per-tenant cap on large jobs does not apply.
    Fifo,
}

impl Queueing {
    pub const ALL: [Queueing; 2] = [Queueing::Lanes, Queueing::Fifo];

    /// The lane (queue) a job of size class `size` waits in.
    pub fn lane(self, size: Lane) -> Lane {
        match self {
            Queueing::Lanes => size,
            Queueing::Fifo => Lane::Small,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Queueing::Lanes => "lanes",
            Queueing::Fifo => "fifo",
        }
    }
}

impl std::str::FromStr for Queueing {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|q| q.as_str() == s)
            .ok_or_else(|| format!("unknown queueing {s:?}: lanes or fifo"))
    }
}

/// Predicts the job's cost and picks its lane by size. Pure: the same inputs always give the
/// same lane.
pub fn route(triangles: u64, format: Format, model: &CostModel, t: &LaneThresholds) -> Routing {
    let predicted_seconds = model.predict(format.as_str(), triangles);
    Routing {
        lane: lane_for(predicted_seconds, t),
        predicted_seconds,
    }
}

/// [`route`], then the queue `queueing` puts that size class in: the routing the store keeps.
pub fn route_queued(
    triangles: u64,
    format: Format,
    model: &CostModel,
    t: &LaneThresholds,
    queueing: Queueing,
) -> Routing {
    let r = route(triangles, format, model, t);
    Routing {
        lane: queueing.lane(r.lane),
        ..r
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
            (10.0, Lane::Medium),
            (10.1, Lane::Large),
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
        // (triangles, format, lane). Defaults, no fixed term: binary STL 1.084e-6 s per
        // triangle (small up to 2 / 1.084e-6 = 1,845,018, medium up to 9,225,092), ASCII STL
        // 1.539e-6 (small up to 1,299,545), GLB 1.025e-6 (medium up to 9,756,097). The calibrated OBJ: 0.1 + 1e-5 · n (small up to 190,000,
        // medium up to 990,000; the bounds themselves are left out, 1e-5 · n is not exact).
        let cases = [
            (1_000, Format::StlBinary, Lane::Small),
            (1_845_000, Format::StlBinary, Lane::Small),
            (1_846_000, Format::StlBinary, Lane::Medium),
            (9_225_000, Format::StlBinary, Lane::Medium),
            (9_226_000, Format::StlBinary, Lane::Large),
            (1_299_000, Format::StlAscii, Lane::Small),
            (1_300_000, Format::StlAscii, Lane::Medium),
            (9_756_000, Format::Glb, Lane::Medium),
            (9_757_000, Format::Glb, Lane::Large),
            (189_000, Format::Obj, Lane::Small),
            (191_000, Format::Obj, Lane::Medium),
            (200_000, Format::Obj, Lane::Medium),
            (3_000_000, Format::Obj, Lane::Large),
            (200_000, Format::Gltf, Lane::Small),
            (20_000_000, Format::Gltf, Lane::Large),
        ];
        for (tri, fmt, lane) in cases {
            assert_eq!(route(tri, fmt, &model, &t).lane, lane, "{tri} {fmt}");
        }
        let r = route(1_000_000, Format::StlAscii, &model, &t);
        assert!((r.predicted_seconds - 1.539).abs() < 1e-9, "{r:?}");
        let custom = LaneThresholds {
            small_max_seconds: 0.5,
            medium_max_seconds: 1.0,
        };
        assert_eq!(
            route(1_000_000, Format::StlBinary, &model, &custom).lane,
            Lane::Large
        );
        assert_eq!(
            route(500_000, Format::StlBinary, &model, &custom).lane,
            Lane::Medium
        );
    }

    #[test]
    fn fifo_puts_every_size_in_one_queue_and_keeps_the_prediction() {
        let model = CostModel::default();
        let t = LaneThresholds::default();
        // (triangles, lanes, fifo)
        let cases = [
            (1_000, Lane::Small, Lane::Small),
            (3_000_000, Lane::Medium, Lane::Small),
            (20_000_000, Lane::Large, Lane::Small),
        ];
        for (tri, lanes, fifo) in cases {
            let by_size = route(tri, Format::StlBinary, &model, &t);
            for (q, want) in [(Queueing::Lanes, lanes), (Queueing::Fifo, fifo)] {
                let r = route_queued(tri, Format::StlBinary, &model, &t, q);
                assert_eq!(r.lane, want, "{tri} {q:?}");
                assert_eq!(r.predicted_seconds, by_size.predicted_seconds);
            }
        }
        for q in Queueing::ALL {
            assert_eq!(q.as_str().parse::<Queueing>(), Ok(q));
        }
        assert!("lifo".parse::<Queueing>().is_err());
    }
}
