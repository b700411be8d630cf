//! How thick the metal is across a thick section, for hollowing: a face's ray measures the metal along
//! its normal, which on the flat side of a wide band is the band's width, not its thickness. So for each
//! face whose ray ran further than the asked limit, eight rays leave the ray's midpoint across it; the
//! section is the smaller of the ray's length and twice the nearest surface across. A signet's head
//! keeps its thickness; a band's side face drops to the band's thickness.

use rayon::prelude::*;

use super::bvh::Bvh;
use super::cast::{FaceKind, FaceSample};
use super::frame::{Frame, area_normal};
use super::ray::Stack;
use crate::mesh::Mesh;

/// Directions across each ray (every 45°).
const ACROSS: usize = 8;

/// `(section_mm, area_mm2)` for every face measured thicker than `above_mm`, in face order.
pub(crate) fn thick_sections(
    mesh: &Mesh,
    frame: &Frame,
    bvh: &Bvh,
    faces: &[FaceSample],
    flip: bool,
    above_mm: f64,
) -> Vec<(f64, f64)> {
    let candidates: Vec<usize> = (0..faces.len())
        .filter(|&f| faces[f].kind == FaceKind::Hit && faces[f].t_mm > above_mm)
        .collect();
    candidates
        .par_iter()
        .map_init(
            || Stack::with_capacity(64),
            |stack, &f| {
                let s = &faces[f];
                let section = across(mesh, frame, bvh, f, s.t_mm, flip, stack).min(s.t_mm);
                (section, s.area_mm2)
            },
        )
        .collect()
}

/// Twice the distance from the middle of face `f`'s ray to the nearest surface across it.
fn across(
    mesh: &Mesh,
    frame: &Frame,
    bvh: &Bvh,
    f: usize,
    t_mm: f64,
    flip: bool,
    stack: &mut Stack,
) -> f64 {
    let Some((_, n)) = area_normal(mesh, f, frame.diagonal) else {
        return 0.0;
    };
    let d = if flip { n } else { n.map(|c| -c) };
    let [a, b, c] = mesh.triangle(f);
    let mid = [0, 1, 2].map(|k| (a[k] + b[k] + c[k]) / 3.0 - frame.centre[k] + d[k] * t_mm / 2.0);
    let (u, v) = crate::measure::across(d);
    let mut nearest = f64::INFINITY;
    for i in 0..ACROSS {
        let angle = std::f64::consts::TAU * i as f64 / ACROSS as f64;
        let (sin, cos) = angle.sin_cos();
        let dir = [0, 1, 2].map(|k| (cos * u[k] + sin * v[k]) as f32);
        let origin = mid.map(|x| x as f32);
        if let Some(h) = bvh.nearest_hit(origin, dir, u32::MAX, 0.0, stack) {
            nearest = nearest.min(f64::from(h.t));
        }
    }
    2.0 * nearest
}
