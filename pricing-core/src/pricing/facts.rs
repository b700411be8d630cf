//! The measured facts a quote rests on, as the mesh analysis reports them.

use crate::thickness::report::ThicknessReport;

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
    /// Wall thickness analysis, when it ran.
    pub thickness: Option<&'a ThicknessReport>,
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
            thickness: None,
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
