//! The measured facts a quote rests on, as the mesh analysis reports them.

use crate::stones::Stone;
use crate::thickness::report::ThicknessReport;
use crate::units::Units;

use super::error::QuoteError;

/// Everything pricing needs to know about a model, in millimetres. Built by the caller from the mesh
/// analysis; pricing never looks at the mesh itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PricingFacts<'a> {
    /// Enclosed volume (positive for a correctly oriented closed mesh).
    pub volume_mm3: f64,
    pub area_mm2: f64,
    /// Connected components (separate bodies).
    pub shells: u64,
    pub triangles: u64,
    pub bbox_min: [f64; 3],
    pub bbox_max: [f64; 3],
    /// Every edge shared by exactly two faces: the model encloses a solid.
    pub watertight: bool,
    /// Faces point inward (negative signed volume before correction).
    pub inverted: bool,
    /// False when the volume is known to be approximate (self-intersections, overlapping shells).
    pub volume_reliable: bool,
    /// The file did not state its units; the scale was guessed.
    pub units_inferred: bool,
    /// The units the model was read in, and another reading that is plausible for jewellery where the
    /// size makes the first doubtful (a glTF written in millimetres though it declares metres).
    pub units: Units,
    pub units_alternative: Option<Units>,
    /// What is wrong with the mesh, each cause apart, so a reason can name it.
    pub defects: Defects,
    /// Wall thickness analysis, when it ran.
    pub thickness: Option<&'a ThicknessReport>,
    /// The stones the model carries (already kept out of `volume_mm3` and `area_mm2`).
    pub stones: &'a [Stone],
}

/// The mesh's defects, as the analysis counted them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Defects {
    /// Closed loops of boundary edges, and the perimeter of the largest in mm.
    pub holes: u64,
    pub largest_hole_perimeter_mm: f64,
    pub non_manifold_edges: u64,
    /// Edges whose faces disagree about the outside and could not be repaired (open or non-manifold).
    pub flipped_edges: u64,
    /// Faces turned to repair a closed shell's orientation (the measurements are of the repaired mesh).
    pub faces_reoriented: u64,
    /// Closed bodies facing inwards that are not cavities, when the model as a whole faces out.
    pub inverted_shells: u64,
    /// Bodies whose volumes overlap another's, or lie inside another solid.
    pub overlapping_shells: u64,
    pub nested_shells: u64,
    /// Pairs of faces of the surface that cross each other; `None` when not checked.
    pub self_intersections: Option<u64>,
    /// OBJ faces with more than three corners that are not flat, and how much surface area (mm²) hangs
    /// on the diagonals chosen for them.
    pub non_planar_faces: u64,
    pub non_planar_area_spread_mm2: f64,
}

impl PricingFacts<'_> {
    /// Bounding-box extents in mm.
    pub fn size_mm(&self) -> [f64; 3] {
        [0, 1, 2].map(|i| self.bbox_max[i] - self.bbox_min[i])
    }

    /// Refuses measurements no model can have: they mean a bug or corrupt input upstream.
    pub(super) fn check(&self) -> Result<(), QuoteError> {
        let invalid = |field: &'static str, reason: &str| QuoteError::InvalidFacts {
            field,
            reason: reason.to_owned(),
        };
        if !self.volume_mm3.is_finite() {
            return Err(invalid("volume_mm3", "not a finite number"));
        }
        if !self.area_mm2.is_finite() || self.area_mm2 < 0.0 {
            return Err(invalid("area_mm2", "not a finite number of 0 or more"));
        }
        if self
            .bbox_min
            .iter()
            .chain(&self.bbox_max)
            .any(|x| !x.is_finite())
        {
            return Err(invalid("bbox", "not finite (empty mesh?)"));
        }
        if (0..3).any(|i| self.bbox_min[i] > self.bbox_max[i]) {
            return Err(invalid("bbox", "minimum corner above maximum corner"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_refuses_impossible_measurements() {
        let good = PricingFacts {
            volume_mm3: 1.0,
            area_mm2: 6.0,
            shells: 1,
            triangles: 12,
            bbox_min: [0.0; 3],
            bbox_max: [1.0; 3],
            watertight: true,
            inverted: false,
            volume_reliable: true,
            units_inferred: false,
            units: Units::Mm,
            units_alternative: None,
            defects: Defects::default(),
            thickness: None,
            stones: &[],
        };
        assert_eq!(good.check(), Ok(()));
        let bad = [
            PricingFacts {
                volume_mm3: f64::NAN,
                ..good
            },
            PricingFacts {
                area_mm2: -1.0,
                ..good
            },
            PricingFacts {
                bbox_min: [f64::INFINITY; 3],
                ..good
            },
            PricingFacts {
                bbox_min: [2.0, 0.0, 0.0],
                ..good
            },
        ];
        for facts in bad {
            assert!(
                matches!(facts.check(), Err(QuoteError::InvalidFacts { .. })),
                "{facts:?}"
            );
        }
    }
}
