//! Knobs and failure modes of the wall-thickness analysis.

use thiserror::Error;

/// How the analysis casts its rays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThicknessOptions {
    /// Hits closer than this fraction of the bounding-box diagonal are ignored. The rays run in `f32` relative to
    /// the box centre, so coordinates carry roughly `3e-8 × diagonal` of rounding; an order of magnitude above
    /// the intersection error keeps a ray from "hitting" the neighbours of its own face (which share its plane at
    /// the origin) while staying far below any wall a caster can produce (0.25 µm on a 25 mm ring).
    pub self_hit_epsilon_rel: f64,
    /// The largest limit thin walls will be asked about ([`super::ThicknessReport::thin_area`]): faces
    /// thinner than this are kept with what regions need. Casting minimums are 0.3–1.0 mm; the pipeline
    /// raises it to the strictest requested alloy's minimum when a rules file asks for more.
    pub max_thin_limit_mm: f64,
    /// Count faces that pass through each other (see `crossings`) on meshes of up to this many faces;
    /// larger ones report `self_intersections: None` (not checked). The check walks the tree against
    /// itself: about 11 ms of a 41 ms quote of the 50k-triangle ring on 2 threads; on the 3M-triangle
    /// benchmark ring an earlier, slower form added 0.8–1.2 s to a 2.6 s quote, hence the limit.
    pub self_intersection_max_faces: usize,
    /// Measure the section across faces thicker than this (for hollowing, `sections`); infinity
    /// (the default) measures none.
    pub section_above_mm: f64,
}

impl Default for ThicknessOptions {
    fn default() -> Self {
        Self {
            self_hit_epsilon_rel: 1e-5,
            max_thin_limit_mm: 1.0,
            self_intersection_max_faces: 1_000_000,
            section_above_mm: f64::INFINITY,
        }
    }
}

/// Why no report could be produced at all. Meshes that are merely open, inverted or degenerate still get a report
/// (with the affected faces counted), so these are only the inputs no ray can be cast into.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ThicknessError {
    #[error("the mesh has no triangles")]
    Empty,
    #[error("triangle {triangle} refers to vertex {vertex}, but the mesh has {vertices} vertices")]
    IndexOutOfRange {
        triangle: usize,
        vertex: u32,
        vertices: usize,
    },
    #[error("vertex {vertex} has a non-finite coordinate")]
    NonFinite { vertex: usize },
    #[error("the mesh has {0} triangles; ray casting addresses faces with 32-bit indices")]
    TooManyTriangles(usize),
    #[error("the mesh has zero extent (all vertices coincide)")]
    ZeroExtent,
    #[error("invalid option: {0}")]
    InvalidOption(&'static str),
}
