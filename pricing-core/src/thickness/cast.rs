//! One ray per face, in parallel. Each face's result depends only on the mesh, so scheduling cannot change it.

use std::sync::Mutex;

use rayon::prelude::*;

use super::bvh::Bvh;
use super::frame::{CHUNK, Frame, area_normal};
use super::ray::Stack;
use crate::mesh::Mesh;

/// What the ray of one face found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FaceKind {
    /// Left the solid through a face that faces back at this one: a real wall thickness.
    Hit,
    /// Left the solid through a face that does not face back (within [`OPPOSITE_COS`]): the ray crossed
    /// the tip of a wedge or a corner, not a wall, so no thickness is taken from it.
    Edge,
    /// Hit nothing (open mesh, or a face whose inward side is empty space).
    Unhit,
    /// First crossed a face front-to-back: the ray travelled through empty space, so the mesh's orientation is
    /// inconsistent there (flipped shell, self-intersection, overlapping bodies).
    WrongSide,
    /// No area, hence no normal to cast along.
    Degenerate,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct FaceSample {
    pub t_mm: f64,
    pub area_mm2: f64,
    pub kind: FaceKind,
    /// The face the ray left through ([`NO_FACE`] unless `kind` is `Hit`): the other side of this wall.
    pub hit: u32,
}

pub(crate) const NO_FACE: u32 = u32::MAX;

/// Two surfaces form a wall when their normals are within 30° of opposite: cos 150° = −0.866. A wedge
/// whose faces meet at more than 30° is an edge: the ray from a face near its tip crosses the other face
/// a hair away and would report the wedge's tip as a "wall" whose area depends only on how finely the
/// exporter triangulated along the edge. A blade sharper than 30° stays a thin wall. The price of the rule:
/// a wire whose cross-section has no opposite sides (a triangle) is never a thin wall.
pub(crate) const OPPOSITE_COS: f64 = -0.866_025_403_784_438_6;

/// Progress hook: `(faces done, faces total)`, called from worker threads under a lock, so `done` only grows.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

pub(crate) struct CastParams {
    /// Cast along +normal instead of −normal (the winding is globally inverted).
    pub flip: bool,
    pub t_min: f32,
}

pub(crate) fn cast_all(
    mesh: &Mesh,
    frame: &Frame,
    bvh: &Bvh,
    params: &CastParams,
    progress: Option<Progress<'_>>,
) -> Vec<FaceSample> {
    let total = mesh.triangles.len() as u64;
    let mut out = vec![
        FaceSample {
            t_mm: f64::INFINITY,
            area_mm2: 0.0,
            kind: FaceKind::Unhit,
            hit: NO_FACE,
        };
        mesh.triangles.len()
    ];
    let done = Mutex::new(0u64);
    out.par_chunks_mut(CHUNK).enumerate().for_each_init(
        || Stack::with_capacity(64),
        |stack, (ci, chunk)| {
            for (j, slot) in chunk.iter_mut().enumerate() {
                *slot = cast_face(mesh, frame, bvh, params, ci * CHUNK + j, stack);
            }
            if let Some(report) = progress {
                // A poisoned lock only means another chunk's callback panicked; the count is still right.
                let mut d = done.lock().unwrap_or_else(|e| e.into_inner());
                *d += chunk.len() as u64;
                report(*d, total);
            }
        },
    );
    out
}

fn cast_face(
    mesh: &Mesh,
    frame: &Frame,
    bvh: &Bvh,
    params: &CastParams,
    face: usize,
    stack: &mut Stack,
) -> FaceSample {
    let Some((area, n)) = area_normal(mesh, face, frame.diagonal) else {
        return FaceSample {
            t_mm: f64::INFINITY,
            area_mm2: 0.0,
            kind: FaceKind::Degenerate,
            hit: NO_FACE,
        };
    };
    let [a, b, c] = mesh.triangle(face);
    let origin = [0, 1, 2].map(|k| ((a[k] + b[k] + c[k]) / 3.0 - frame.centre[k]) as f32);
    let sign = if params.flip { 1.0 } else { -1.0 };
    let dir = n.map(|c| (sign * c) as f32);
    let (t_mm, kind, hit) = match bvh.nearest_hit(origin, dir, face as u32, params.t_min, stack) {
        // With the winding inverted, leaving the solid means crossing a face along its stored *inward* side.
        Some(h) if h.exits != params.flip => {
            // The ray runs along −n (or +n when flipped), so n · m is ∓ the ray's cosine with m.
            let n_dot_m = if params.flip { h.cos } else { -h.cos };
            let opposite = f64::from(n_dot_m) <= OPPOSITE_COS;
            if opposite {
                (f64::from(h.t), FaceKind::Hit, h.face)
            } else {
                (f64::INFINITY, FaceKind::Edge, NO_FACE)
            }
        }
        Some(_) => (f64::INFINITY, FaceKind::WrongSide, NO_FACE),
        None => (f64::INFINITY, FaceKind::Unhit, NO_FACE),
    };
    FaceSample {
        t_mm,
        area_mm2: area,
        kind,
        hit,
    }
}
