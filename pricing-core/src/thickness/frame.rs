//! Validation and the `f32` frame the rays run in.

use rayon::prelude::*;

use super::bvh::V3;
use super::options::ThicknessError;
use crate::mesh::Mesh;

/// Work unit for the parallel passes. Sums are taken per chunk and the chunk results added in chunk order, so
/// the result does not depend on how rayon schedules the chunks.
pub(crate) const CHUNK: usize = 4096;

/// The mesh moved so its bounding-box centre is the origin, in `f32`: single precision keeps about 7 digits, so
/// centring is what makes a 25 mm ring resolve to ~1 µm even though stored coordinates may sit far from 0.
pub(crate) struct Frame {
    pub centre: [f64; 3],
    pub diagonal: f64,
    pub verts: Vec<V3>,
    /// Signed volume in mm³ (positive for outward winding). Computed relative to `centre`, which makes it
    /// exact for closed meshes and at least origin-independent for open ones.
    pub signed_volume: f64,
}

pub(crate) fn prepare(mesh: &Mesh) -> Result<Frame, ThicknessError> {
    if mesh.triangles.is_empty() {
        return Err(ThicknessError::Empty);
    }
    if mesh.triangles.len() > u32::MAX as usize - 1 {
        return Err(ThicknessError::TooManyTriangles(mesh.triangles.len()));
    }
    let nv = mesh.positions.len();
    if let Some((triangle, vertex)) = mesh
        .triangles
        .iter()
        .enumerate()
        .find_map(|(t, tri)| tri.iter().find(|&&v| v as usize >= nv).map(|&v| (t, v)))
    {
        return Err(ThicknessError::IndexOutOfRange {
            triangle,
            vertex,
            vertices: nv,
        });
    }
    if let Some(vertex) = mesh
        .positions
        .iter()
        .position(|p| !p.iter().all(|c| c.is_finite()))
    {
        return Err(ThicknessError::NonFinite { vertex });
    }
    // Bounds over referenced vertices only would be more exact, but unreferenced vertices are rare and only
    // shift the centre; min/max is order-independent either way.
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for p in &mesh.positions {
        for k in 0..3 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let centre = [0, 1, 2].map(|k| 0.5 * (lo[k] + hi[k]));
    let diagonal = (0..3).map(|k| (hi[k] - lo[k]).powi(2)).sum::<f64>().sqrt();
    if !diagonal.is_finite() || diagonal <= 0.0 {
        return Err(ThicknessError::ZeroExtent);
    }
    let verts: Vec<V3> = mesh
        .positions
        .par_iter()
        .map(|p| [0, 1, 2].map(|k| (p[k] - centre[k]) as f32))
        .collect();
    let signed_volume = mesh
        .triangles
        .par_chunks(CHUNK)
        .map(|chunk| {
            chunk
                .iter()
                .map(|t| {
                    let [a, b, c] = t.map(|v| sub(&mesh.positions[v as usize], &centre));
                    dot(&a, &cross(&b, &c)) / 6.0
                })
                .sum::<f64>()
        })
        .collect::<Vec<f64>>()
        .into_iter()
        .sum();
    Ok(Frame {
        centre,
        diagonal,
        verts,
        signed_volume,
    })
}

pub(crate) fn sub(a: &[f64; 3], b: &[f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub(crate) fn cross(a: &[f64; 3], b: &[f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

pub(crate) fn dot(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// Area (mm²) and unit normal of a face; `None` when the face has no area to speak of.
pub(crate) fn area_normal(mesh: &Mesh, face: usize, diagonal: f64) -> Option<(f64, [f64; 3])> {
    let [a, b, c] = mesh.triangle(face);
    let n = cross(&sub(&b, &a), &sub(&c, &a));
    let len = dot(&n, &n).sqrt();
    // Relative to the model size: a face this small has no direction that survives rounding.
    if len.is_nan() || len <= 1e-14 * diagonal * diagonal {
        return None;
    }
    Some((0.5 * len, n.map(|c| c / len)))
}
