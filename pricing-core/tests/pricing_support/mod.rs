//! Shared fixtures for the pricing integration tests: analytic facts and synthetic thickness reports.
#![allow(dead_code)] // each test binary uses a different subset

use std::f64::consts::PI;

use pricing_core::pricing::PricingFacts;
use pricing_core::thickness::report::ThicknessReport;

/// Exact volume of the polyhedral torus with `n` segments around the major radius `big_r` and `m`
/// around the minor radius `r` (vertices on the smooth torus): each of the `n` wedges is a ruled solid
/// of volume sin(2π/n) · A · R, where A = (m/2) r² sin(2π/m) is the cross-section polygon's area and R
/// the distance of its centroid from the axis.
pub fn torus_volume(n: u32, m: u32, big_r: f64, r: f64) -> f64 {
    let (n, m) = (f64::from(n), f64::from(m));
    n * (2.0 * PI / n).sin() * (m / 2.0) * r * r * (2.0 * PI / m).sin() * big_r
}

/// A ring-sized torus (R 10.5 mm, r 1.25 mm, 96 × 24 segments): watertight, one shell.
pub fn torus_facts(thickness: Option<&ThicknessReport>) -> PricingFacts<'_> {
    let (n, m, big_r, r) = (96, 24, 10.5, 1.25);
    PricingFacts {
        volume_mm3: torus_volume(n, m, big_r, r),
        // Smooth-torus area; these facts stand in for a measurement, only consistency matters here.
        area_mm2: 4.0 * PI * PI * big_r * r,
        shells: 1,
        triangles: 2 * u64::from(n) * u64::from(m),
        bbox_min: [-(big_r + r), -(big_r + r), -r],
        bbox_max: [big_r + r, big_r + r, r],
        watertight: true,
        inverted: false,
        volume_reliable: true,
        units_inferred: false,
        units: pricing_core::Units::Mm,
        units_alternative: None,
        defects: Default::default(),
        thickness,
        stones: &[],
    }
}

/// A report with the given `(thickness_mm, area_mm2)` faces, built the way the analysis builds it
/// (sorted by thickness, percentiles from the samples), each face a wall of its own.
pub fn report(samples: Vec<(f64, f64)>) -> ThicknessReport {
    ThicknessReport::from_samples(samples)
}

/// The torus's walls: 2r = 2.5 mm everywhere, in 100 equal faces.
pub fn torus_report() -> ThicknessReport {
    let area = 4.0 * PI * PI * 10.5 * 1.25;
    report(vec![(2.5, area / 100.0); 100])
}

/// A pendant with a thin bail: `thin_mm2` of its 800 mm² surface is `thin_mm` thick, the rest 1.5 mm.
pub fn pendant_report(thin_mm: f64, thin_mm2: f64) -> ThicknessReport {
    let mut samples = vec![(thin_mm, thin_mm2 / 4.0); 4];
    samples.extend(vec![(1.5, (800.0 - thin_mm2) / 40.0); 40]);
    report(samples)
}

pub fn pendant_facts(thickness: Option<&ThicknessReport>) -> PricingFacts<'_> {
    PricingFacts {
        volume_mm3: 410.0,
        area_mm2: 800.0,
        shells: 2,
        triangles: 120_000,
        bbox_min: [0.0, 0.0, 0.0],
        bbox_max: [22.0, 31.5, 4.2],
        watertight: true,
        inverted: false,
        volume_reliable: true,
        units_inferred: false,
        units: pricing_core::Units::Mm,
        units_alternative: None,
        defects: Default::default(),
        thickness,
        stones: &[],
    }
}
