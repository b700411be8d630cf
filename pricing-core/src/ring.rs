//! Is the piece a ring, and what is its inner diameter? Pure geometry on the measured mesh (mm).
//!
//! A ring is a through-hole around one axis: a line that passes through no face, with inward-facing
//! surface all round it. Candidate axes are the principal axes of the surface (a ring is flatter along
//! its axis than across it, so the least-spread axis is tried first). Around a candidate, the surface
//! facing the axis is read in [`SECTORS`] angular sectors: each sector's nearest distance to the axis
//! (exact: the distance from a line to a triangle is reached on one of its edges unless the line
//! pierces it). The centre is refitted to those nearest points (least-squares circle) and read again.
//!
//! The inner diameter is twice the smallest sector radius: the narrowest place, which is where a
//! mandrel stops. The roundness is the spread of the sector radii, in diameter terms; a jeweller sizes
//! a ring only when that spread is small (see the rules' `ring_sizes.roundness_tolerance_mm`).

use rayon::prelude::*;
use serde::Serialize;

use crate::measure::{across as basis, cross, dot, norm, sub};
use crate::mesh::Mesh;

/// Angular sectors read around the axis (5° each).
pub const SECTORS: usize = 72;

/// The centre is fitted on about this many faces (every k-th); the diameter is then read at that
/// centre over every face, so a 3M-triangle ring pays for one full pass instead of three (its
/// diameter moves by 0.1 µm against fitting on all faces; up to 100k faces nothing changes).
const FIT_FACES: usize = 100_000;

/// Faces whose normal points towards the axis within this cosine count as the inner surface.
const FACING_COS: f64 = 0.5;

/// What the geometry says about a ring's bore.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bore {
    /// Unit direction of the ring's axis.
    pub axis: [f64; 3],
    /// A point on the axis (the fitted centre of the bore).
    pub centre_mm: [f64; 3],
    /// Twice the smallest sector radius.
    pub inner_diameter_mm: f64,
    /// Largest minus smallest sector diameter: 0 for a perfectly round bore.
    pub out_of_round_mm: f64,
}

/// The bore of `mesh` when it is a ring, else `None`.
pub fn bore(mesh: &Mesh) -> Option<Bore> {
    if mesh.triangles.is_empty() {
        return None;
    }
    let (centre, axes) = principal_axes(mesh)?;
    axes.into_iter()
        .find_map(|axis| bore_around(mesh, centre, axis))
}

fn bore_around(mesh: &Mesh, start: [f64; 3], axis: [f64; 3]) -> Option<Bore> {
    // Read, refit the centre to the nearest points, read again: two refits settle a ring whose
    // material is lopsided (a signet's head pulls the area centroid off the bore's centre).
    let stride = (mesh.triangles.len() / FIT_FACES).max(1);
    let mut centre = start;
    let mut sectors = read(mesh, centre, axis, stride)?;
    for last in [false, true] {
        centre = fit_circle(&sectors, centre, axis)?;
        sectors = read(mesh, centre, axis, if last { 1 } else { stride })?;
    }
    let lo = sectors
        .iter()
        .map(|s| s.radius)
        .fold(f64::INFINITY, f64::min);
    let hi = sectors.iter().map(|s| s.radius).fold(0.0, f64::max);
    Some(Bore {
        axis,
        centre_mm: centre,
        inner_diameter_mm: 2.0 * lo,
        out_of_round_mm: 2.0 * (hi - lo),
    })
}

/// The nearest inward-facing point of one sector.
#[derive(Clone, Copy)]
struct Nearest {
    radius: f64,
    /// The face it lies on: ties go to the lower face, so the answer is the same on any thread count.
    face: usize,
    /// The nearest point, in 3D.
    at: [f64; 3],
}

fn nearer(a: Option<Nearest>, b: Option<Nearest>) -> Option<Nearest> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if (y.radius, y.face) < (x.radius, x.face) {
            y
        } else {
            x
        }),
        (x, None) => x,
        (None, y) => y,
    }
}

/// One pass over every `stride`-th face: in each sector's mid-direction, the nearest inward-facing surface, or
/// `None` when the line through `centre` passes through a face or a direction meets no inner surface
/// (no bore all round). A face is read in every sector direction its angular span covers: the
/// half-plane through the axis at that angle cuts it in a segment, whose nearer end is the face's
/// radius there (the radius is linear along the cut).
fn read(mesh: &Mesh, centre: [f64; 3], axis: [f64; 3], stride: usize) -> Option<Vec<Nearest>> {
    let (e1, e2) = basis(axis);
    let empty = || (false, vec![None; SECTORS]);
    let (pierced, best) = (0..mesh.triangles.len().div_ceil(stride))
        .into_par_iter()
        .map(|i| i * stride)
        .fold(empty, |(pierced, mut best), t| {
            if pierced {
                return (true, best);
            }
            let tri = mesh.triangle(t);
            if pierces(&tri, centre, axis) {
                return (true, best);
            }
            let n = cross(sub(tri[1], tri[0]), sub(tri[2], tri[0]));
            let g = [0, 1, 2].map(|k| (tri[0][k] + tri[1][k] + tri[2][k]) / 3.0);
            let radial = perpendicular(sub(g, centre), axis);
            let (rl, nl) = (norm(radial), norm(n));
            if rl == 0.0 || nl == 0.0 || -dot(n, radial) < FACING_COS * rl * nl {
                return (false, best);
            }
            let local = tri.map(|p| {
                let d = sub(p, centre);
                (dot(d, e1), dot(d, e2))
            });
            for s in sectors_spanned(&local) {
                if let Some(radius) = cut_radius(&local, sector_angle(s)) {
                    let (sin, cos) = sector_angle(s).sin_cos();
                    let at = [0, 1, 2].map(|k| centre[k] + radius * (cos * e1[k] + sin * e2[k]));
                    best[s] = nearer(
                        best[s],
                        Some(Nearest {
                            radius,
                            face: t,
                            at,
                        }),
                    );
                }
            }
            (false, best)
        })
        .reduce(empty, |(pa, a), (pb, b)| {
            (
                pa || pb,
                a.into_iter().zip(b).map(|(x, y)| nearer(x, y)).collect(),
            )
        });
    if pierced {
        return None;
    }
    best.into_iter().collect()
}

/// The mid-direction of sector `s`.
fn sector_angle(s: usize) -> f64 {
    std::f64::consts::TAU * (s as f64 + 0.5) / SECTORS as f64
}

/// The sectors whose mid-direction lies within the angular span of a triangle seen along the axis
/// (corners as `(x, y)` across it); none when it spans half a turn or more.
fn sectors_spanned(local: &[(f64, f64); 3]) -> impl Iterator<Item = usize> {
    use std::f64::consts::{PI, TAU};
    let a0 = local[0].1.atan2(local[0].0);
    let deltas = local.map(|(x, y)| {
        let d = y.atan2(x) - a0;
        if d > PI {
            d - TAU
        } else if d <= -PI {
            d + TAU
        } else {
            d
        }
    });
    let lo = a0 + deltas.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = a0 + deltas.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let step = TAU / SECTORS as f64;
    let first = (lo / step - 0.5).ceil() as i64;
    let last = (hi / step - 0.5).floor() as i64;
    // Half a turn or more: the face wraps round the axis, no direction reads it on its own.
    let last = if hi - lo < PI { last } else { first - 1 };
    (first..=last).map(|i| i.rem_euclid(SECTORS as i64) as usize)
}

/// Where the half-plane at `angle` cuts the triangle, the smaller radius of the cut's two ends.
fn cut_radius(local: &[(f64, f64); 3], angle: f64) -> Option<f64> {
    let (sin, cos) = angle.sin_cos();
    // Signed distance to the plane through the axis at `angle`, and the radius along that direction.
    let side = local.map(|(x, y)| -sin * x + cos * y);
    let along = local.map(|(x, y)| cos * x + sin * y);
    let mut nearest: Option<f64> = None;
    for k in 0..3 {
        let j = (k + 1) % 3;
        let (sk, sj) = (side[k], side[j]);
        let r = if sk == 0.0 {
            along[k]
        } else if (sk < 0.0) != (sj < 0.0) && sj != 0.0 {
            along[k] + (along[j] - along[k]) * sk / (sk - sj)
        } else {
            continue;
        };
        if r > 0.0 && nearest.is_none_or(|n| r < n) {
            nearest = Some(r);
        }
    }
    nearest
}

/// Whether the line through `centre` along `axis` passes through the triangle: seen along the axis,
/// its corners wind round the line (the signed areas of each edge about it share one sign).
fn pierces(tri: &[[f64; 3]; 3], centre: [f64; 3], axis: [f64; 3]) -> bool {
    let side = |a: [f64; 3], b: [f64; 3]| dot(cross(sub(a, centre), sub(b, centre)), axis);
    let s = [
        side(tri[0], tri[1]),
        side(tri[1], tri[2]),
        side(tri[2], tri[0]),
    ];
    s.iter().all(|&x| x > 0.0) || s.iter().all(|&x| x < 0.0)
}

/// Least-squares circle (Kåsa) through the sectors' nearest points, in the plane across the axis;
/// returns the new centre, on the same plane as `centre`.
fn fit_circle(points: &[Nearest], centre: [f64; 3], axis: [f64; 3]) -> Option<[f64; 3]> {
    let (e1, e2) = basis(axis);
    // Solve for (a, b, c) in x² + y² = 2ax + 2by + c, normal equations by Cramer's rule.
    let mut m = [[0.0f64; 3]; 3];
    let mut rhs = [0.0f64; 3];
    for p in points {
        let d = sub(p.at, centre);
        let (x, y) = (dot(d, e1), dot(d, e2));
        let row = [2.0 * x, 2.0 * y, 1.0];
        let z = x * x + y * y;
        for i in 0..3 {
            for j in 0..3 {
                m[i][j] += row[i] * row[j];
            }
            rhs[i] += row[i] * z;
        }
    }
    let det = det3(&m);
    if det.abs() < 1e-12 || !det.is_finite() {
        return None;
    }
    let col = |k: usize| {
        let mut mk = m;
        for i in 0..3 {
            mk[i][k] = rhs[i];
        }
        det3(&mk) / det
    };
    let (a, b) = (col(0), col(1));
    Some([0, 1, 2].map(|k| centre[k] + a * e1[k] + b * e2[k]))
}

fn det3(m: &[[f64; 3]; 3]) -> f64 {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

/// The area centroid of the surface and its principal axes, least spread first.
fn principal_axes(mesh: &Mesh) -> Option<([f64; 3], [[f64; 3]; 3])> {
    let mut area = 0.0;
    let mut first = [0.0; 3];
    let faces: Vec<(f64, [f64; 3])> = (0..mesh.triangles.len())
        .into_par_iter()
        .map(|t| {
            let tri = mesh.triangle(t);
            let a = 0.5 * norm(cross(sub(tri[1], tri[0]), sub(tri[2], tri[0])));
            let g = [0, 1, 2].map(|k| (tri[0][k] + tri[1][k] + tri[2][k]) / 3.0);
            (a, g)
        })
        .collect();
    for (a, g) in &faces {
        area += a;
        for k in 0..3 {
            first[k] += a * g[k];
        }
    }
    if area.is_nan() || area <= 0.0 {
        return None;
    }
    let centre = first.map(|x| x / area);
    let mut cov = [[0.0; 3]; 3];
    for (a, g) in &faces {
        let d = sub(*g, centre);
        for i in 0..3 {
            for j in 0..3 {
                cov[i][j] += a * d[i] * d[j];
            }
        }
    }
    let (values, vectors) = jacobi(cov);
    let mut order = [0usize, 1, 2];
    order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
    Some((centre, order.map(|i| vectors[i])))
}

/// Eigenvalues and unit eigenvectors of a symmetric 3×3 matrix (cyclic Jacobi rotations).
fn jacobi(mut a: [[f64; 3]; 3]) -> ([f64; 3], [[f64; 3]; 3]) {
    let mut v = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for _ in 0..50 {
        let off = a[0][1].abs() + a[0][2].abs() + a[1][2].abs();
        if off < 1e-15 * (a[0][0].abs() + a[1][1].abs() + a[2][2].abs()) || off == 0.0 {
            break;
        }
        for (p, q) in [(0, 1), (0, 2), (1, 2)] {
            if a[p][q] == 0.0 {
                continue;
            }
            let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
            let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
            let t = if theta == 0.0 { 1.0 } else { t };
            let c = 1.0 / (t * t + 1.0).sqrt();
            let s = t * c;
            for k in 0..3 {
                let (akp, akq) = (a[k][p], a[k][q]);
                a[k][p] = c * akp - s * akq;
                a[k][q] = s * akp + c * akq;
            }
            for k in 0..3 {
                let (apk, aqk) = (a[p][k], a[q][k]);
                a[p][k] = c * apk - s * aqk;
                a[q][k] = s * apk + c * aqk;
            }
            for row in v.iter_mut() {
                let (vp, vq) = (row[p], row[q]);
                row[p] = c * vp - s * vq;
                row[q] = s * vp + c * vq;
            }
        }
    }
    // Columns of v are the eigenvectors.
    let vectors = [0, 1, 2].map(|j| {
        let e = [v[0][j], v[1][j], v[2][j]];
        let l = norm(e);
        e.map(|x| x / l)
    });
    ([a[0][0], a[1][1], a[2][2]], vectors)
}

fn perpendicular(d: [f64; 3], axis: [f64; 3]) -> [f64; 3] {
    let along = dot(d, axis);
    [0, 1, 2].map(|k| d[k] - along * axis[k])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_finds_the_axes_of_a_diagonal_matrix_in_any_frame() {
        // diag(1, 4, 9) rotated by 30° about z.
        let (c, s) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
        let r = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]];
        let d = [1.0, 4.0, 9.0];
        let mut m = [[0.0; 3]; 3];
        for i in 0..3 {
            for j in 0..3 {
                m[i][j] = (0..3).map(|k| r[i][k] * d[k] * r[j][k]).sum();
            }
        }
        let (mut values, _) = jacobi(m);
        values.sort_by(f64::total_cmp);
        for (got, want) in values.iter().zip(d) {
            assert!((got - want).abs() < 1e-12, "{values:?}");
        }
    }

    #[test]
    fn a_triangle_is_read_in_the_sectors_it_spans_even_across_the_seam() {
        let step = std::f64::consts::TAU / SECTORS as f64;
        let at = |a: f64, r: f64| (r * a.cos(), r * a.sin());
        // (corners' angles, sectors expected)
        let cases: [([f64; 3], Vec<usize>); 3] = [
            ([0.1 * step, 0.9 * step, 0.6 * step], vec![0]),
            ([-0.9 * step, 0.9 * step, 0.0], vec![SECTORS - 1, 0]),
            ([0.1 * step, 0.4 * step, 0.2 * step], vec![]),
        ];
        for (angles, want) in cases {
            let local = angles.map(|a| at(a, 8.0));
            let got: Vec<usize> = sectors_spanned(&local).collect();
            assert_eq!(got, want, "{angles:?}");
        }
    }

    #[test]
    fn the_cut_of_a_facet_parallel_to_the_axis_is_its_distance() {
        // A facet across x = 8 between y = -1 and 1: cut at angle 0 at radius 8.
        let local = [(8.0, -1.0), (8.0, 1.0), (8.0, 0.0)];
        assert_eq!(cut_radius(&local, 0.0), Some(8.0));
        assert_eq!(cut_radius(&local, std::f64::consts::PI), None);
    }
}
