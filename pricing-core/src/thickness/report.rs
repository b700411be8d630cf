//! What the wall-thickness analysis reports; consumed by pricing (thin-wall labour, manufacturability).

use serde::Serialize;

use super::regions::{self, WallFace};

/// Local wall thickness of every face, summarised.
///
/// Faces without a measurement (unhit, wrong side, degenerate) carry `f64::INFINITY`: they never count as thin,
/// and they weigh in the percentiles as "thicker than anything", so a report on a mostly open mesh shows an
/// infinite median rather than a made-up one. JSON renders infinity as `null`.
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
    /// Number of faces analysed (`samples.len()`).
    pub faces: u64,
    /// Total surface area in mm², summed in `samples` order.
    pub total_area_mm2: f64,
    /// Faces whose ray first crossed another face from its front: it travelled through empty space, so the
    /// orientation is inconsistent there (a flipped shell, self-intersection, overlapping bodies). Infinite.
    pub wrong_side_faces: u64,
    /// Faces with no area, hence no direction to cast along. Infinite, with zero area.
    pub degenerate_faces: u64,
    /// Faces whose ray left through a surface that does not face back (the far side of a wedge's tip or a
    /// corner): measured, and no wall there. Infinite.
    pub edge_faces: u64,
    /// Their area, which counts as measured.
    #[serde(skip)]
    pub edge_area_mm2: f64,
    /// The mesh's signed volume was negative: its winding is inverted as a whole, so rays were cast along
    /// +normal, into the solid the surface actually bounds. The thicknesses are real; the flag is for a warning.
    pub winding_inverted: bool,
    /// Thickness per face, in face order (`f64::INFINITY` where unmeasured); what [`Self::thin_regions`] reads.
    #[serde(skip)]
    pub face_mm: Vec<f64>,
    /// Per face, the face its ray left through (`u32::MAX` where unmeasured): the opposite side of its wall,
    /// which is what joins the two skins of a thin wall into one region.
    #[serde(skip)]
    pub face_hit: Vec<u32>,
    /// Pairs of faces that pass through each other (a self-intersecting surface or overlapping bodies);
    /// `None` when not checked.
    pub self_intersections: Option<u64>,
    /// `(section_mm, area_mm2)` of the faces thicker than `ThicknessOptions::section_above_mm`, in
    /// face order: the metal across the ray as well as along it (`sections`).
    pub thick_sections: Vec<(f64, f64)>,
    /// Thin-wall queries answer limits up to this, in mm (see [`Self::thin_area`]).
    pub max_thin_limit_mm: f64,
    /// The faces thinner than `max_thin_limit_mm`, thinnest first, with what their regions need.
    #[serde(skip)]
    pub(crate) walls: Vec<WallFace>,
}

/// A box around a connected thin region, in mm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThinRegion {
    pub min: [f64; 3],
    pub max: [f64; 3],
    pub area_mm2: f64,
    pub min_thickness_mm: f64,
    /// Faces in the region.
    pub faces: u64,
}

impl ThicknessReport {
    /// A report from per-face `(thickness_mm, area_mm2)` values measured elsewhere (or made up by a test),
    /// built as the analysis builds one: sorted thinnest first, percentiles from the samples. No mesh is
    /// behind it, so each face stands for its own wall, wider than any limit.
    pub fn from_samples(mut samples: Vec<(f64, f64)>) -> ThicknessReport {
        samples.sort_by(|a, b| a.0.total_cmp(&b.0));
        let walls = samples
            .iter()
            .enumerate()
            .filter(|(_, s)| s.0.is_finite())
            .map(|(i, &(t_mm, area_mm2))| WallFace {
                t_mm,
                area_mm2,
                face: i as u32,
                hit: u32::MAX,
                // Distinct vertices per face: no two faces join, and each spans more than any limit.
                vertices: [3 * i as u32, 3 * i as u32 + 1, 3 * i as u32 + 2],
                min: [0.0; 3],
                max: [f64::MAX; 3],
                // No boundary: as wide as it gets.
                edges: [0.0; 3],
            })
            .collect();
        let mut report = ThicknessReport {
            min_mm: samples.first().map_or(f64::INFINITY, |s| s.0),
            p05_mm: f64::NAN,
            p50_mm: f64::NAN,
            unhit_faces: samples.iter().filter(|s| !s.0.is_finite()).count() as u64,
            faces: samples.len() as u64,
            total_area_mm2: samples.iter().map(|s| s.1).sum(),
            wrong_side_faces: 0,
            degenerate_faces: 0,
            edge_faces: 0,
            edge_area_mm2: 0.0,
            winding_inverted: false,
            face_mm: samples.iter().map(|s| s.0).collect(),
            face_hit: vec![u32::MAX; samples.len()],
            self_intersections: None,
            thick_sections: Vec::new(),
            max_thin_limit_mm: f64::INFINITY,
            walls,
            samples,
        };
        report.p05_mm = report.percentile(5.0);
        report.p50_mm = report.percentile(50.0);
        report
    }

    /// Area (mm²) of the faces thinner than `t_mm`, summed in `samples` order.
    pub fn area_below(&self, t_mm: f64) -> f64 {
        let end = self.samples.partition_point(|&(t, _)| t < t_mm);
        self.samples[..end].iter().map(|&(_, a)| a).sum()
    }

    /// Area-weighted percentile, `p` in percent (clamped to 0..=100): the smallest thickness such that faces at
    /// most that thick cover at least `p`% of the area. `NaN` when there is no area at all or `p` is NaN.
    pub fn percentile(&self, p: f64) -> f64 {
        if p.is_nan() || self.total_area_mm2.is_nan() || self.total_area_mm2 <= 0.0 {
            return f64::NAN;
        }
        let target = self.total_area_mm2 * p.clamp(0.0, 100.0) / 100.0;
        let mut acc = 0.0;
        let mut last = f64::NAN;
        for &(t, a) in &self.samples {
            if a <= 0.0 {
                continue;
            }
            acc += a;
            last = t;
            if acc >= target {
                return t;
            }
        }
        // Only reachable through rounding when p = 100, since acc ends equal to total (same summation order).
        last
    }

    /// Area (mm²) of thin walls below `t_mm`: faces thinner than `t_mm` whose region (see
    /// [`Self::thin_regions`]) is wider than `t_mm`. This is what a caster means by a thin wall; the raw
    /// [`Self::area_below`] also counts specks smaller than the limit. Exact for `t_mm` up to
    /// [`Self::max_thin_limit_mm`]; above it only the faces kept are counted.
    pub fn thin_area(&self, t_mm: f64) -> f64 {
        regions::thin_walls(&self.walls, t_mm).1
    }

    /// Thin walls below `t_mm` as connected regions, largest area first, ties by lowest face index. Faces
    /// belong together when they share a vertex or when one's ray measured the other (the two skins of one
    /// wall); a region no wider than `t_mm` is a speck or a shallow relief line the surrounding metal
    /// fills, not a wall, and is left out (Meshmixer's minimum defect size, set to the limit itself; the
    /// width is 4 × area / perimeter, see `regions::thin_walls`).
    pub fn thin_regions(&self, t_mm: f64) -> Vec<ThinRegion> {
        regions::thin_walls(&self.walls, t_mm).0
    }

    /// At most how much volume (mm³) a hollow core would save in sections thicker than `above_mm`,
    /// keeping walls of `wall_mm`. A face of area `a` whose section is `s` stands for a column of
    /// `a × (s − 2 × wall_mm) / 2` of core (half the section; the far face measures the other half).
    /// The columns also run under the walls at a section's sides, so this bounds the core from above:
    /// a 12 × 12 × 6 mm block with 1 mm walls gives 576 mm³ against the 400 of its exact core. Only
    /// faces measured with `ThicknessOptions::section_above_mm` at or below `above_mm` are known;
    /// summed in face order.
    pub fn hollowable_mm3(&self, above_mm: f64, wall_mm: f64) -> f64 {
        self.thick_sections
            .iter()
            .filter(|s| s.0.is_finite() && s.0 > above_mm && s.0 > 2.0 * wall_mm)
            .map(|&(t, a)| a * (t - 2.0 * wall_mm) / 2.0)
            .sum::<f64>()
            + 0.0
    }

    /// Fraction of the surface area with a measured thickness (a hit), in 0..=1; low values mean the numbers
    /// describe only part of the model (open or inconsistently oriented mesh).
    pub fn measured_area_fraction(&self) -> f64 {
        if self.total_area_mm2.is_nan() || self.total_area_mm2 <= 0.0 {
            return 0.0;
        }
        let measured: f64 = self
            .samples
            .iter()
            .filter(|s| s.0.is_finite())
            .map(|s| s.1)
            .sum();
        ((measured + self.edge_area_mm2) / self.total_area_mm2).min(1.0)
    }
}
