//! What the wall-thickness analysis reports; consumed by pricing (thin-wall labour, manufacturability).

use serde::Serialize;

/// Local wall thickness of every face, summarised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThicknessReport {
    /// Smallest local thickness over all faces, in mm (`f64::INFINITY` when no ray hit anything).
    pub min_mm: f64,
    /// Area-weighted percentiles of local thickness, in mm.
    pub p05_mm: f64,
    pub p50_mm: f64,
    /// `(thickness_mm, area_mm2)` per face, sorted by thickness ascending then face index: enough to answer
    /// "how much area is thinner than X" for any alloy's minimum without recomputing rays.
    #[serde(skip)]
    pub samples: Vec<(f64, f64)>,
    /// Faces whose ray found no opposite wall (open meshes); they count as infinitely thick.
    pub unhit_faces: u64,
}

/// A box around a connected thin region, in mm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThinRegion {
    pub min: [f64; 3],
    pub max: [f64; 3],
    pub area_mm2: f64,
    pub min_thickness_mm: f64,
}
