//! The box an estimate is made from: in the file's units until scaled to mm.

use serde::Serialize;

/// An axis-aligned box in file units (or mm once scaled).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bbox {
    pub min: [f64; 3],
    pub max: [f64; 3],
}

impl Bbox {
    pub(crate) fn empty() -> Self {
        Bbox {
            min: [f64::INFINITY; 3],
            max: [f64::NEG_INFINITY; 3],
        }
    }

    pub(crate) fn add(&mut self, p: [f64; 3]) {
        if p.iter().all(|c| c.is_finite()) {
            for i in 0..3 {
                self.min[i] = self.min[i].min(p[i]);
                self.max[i] = self.max[i].max(p[i]);
            }
        }
    }

    pub(crate) fn valid(self) -> Option<Self> {
        (0..3).all(|i| self.min[i] <= self.max[i]).then_some(self)
    }

    /// The box of two corners, `None` unless finite and ordered.
    pub fn from_corners(min: [f64; 3], max: [f64; 3]) -> Option<Self> {
        let mut b = Bbox::empty();
        b.add(min);
        b.add(max);
        b.valid()
    }

    pub fn size(&self) -> [f64; 3] {
        [0, 1, 2].map(|i| self.max[i] - self.min[i])
    }

    pub fn largest_extent(&self) -> f64 {
        self.size().into_iter().fold(0.0, f64::max)
    }

    pub fn scaled(&self, factor: f64) -> Self {
        Bbox {
            min: self.min.map(|c| c * factor),
            max: self.max.map(|c| c * factor),
        }
    }

    pub fn volume(&self) -> f64 {
        self.size().iter().product()
    }

    pub fn area(&self) -> f64 {
        let [x, y, z] = self.size();
        2.0 * (x * y + y * z + z * x)
    }
}
