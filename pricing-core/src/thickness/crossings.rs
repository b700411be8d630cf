//! Self-intersection: pairs of faces that pass through each other, found with the thickness stage's BVH
//! (the triangle-pair test CGAL's `does_self_intersect` and trimesh run on a tree of boxes).
//!
//! Each face asks the tree for the faces whose boxes overlap its own, keeps those after it in face
//! order that share no vertex with it (neighbours touch by construction), and tests the pair exactly:
//! two triangles cross when an edge of one passes through the other. Candidates are gathered in `f32`
//! with a margin; the test itself runs on the mesh's `f64` positions. Faces in parallel, a count per
//! face added in face order: the same answer on any number of threads.

use rayon::prelude::*;

use super::bvh::{Bvh, Child, V3, WIDTH};
use super::frame::{CHUNK, Frame};
use crate::measure::{cross, dot, sub};
use crate::mesh::Mesh;

/// Crossing pairs of faces in `mesh`.
pub(crate) fn count(mesh: &Mesh, frame: &Frame, bvh: &Bvh) -> u64 {
    // f32 coordinates relative to the centre carry ~1e-7 × diagonal of rounding; boxes grow by more.
    let margin = (1e-6 * frame.diagonal) as f32;
    (0..mesh.triangles.len())
        .into_par_iter()
        .chunks(CHUNK)
        .map_init(
            || (Vec::new(), Vec::new()),
            |(stack, found), faces| {
                faces
                    .into_iter()
                    .map(|f| crossings_of(mesh, frame, bvh, f, margin, stack, found))
                    .sum::<u64>()
            },
        )
        .collect::<Vec<u64>>()
        .into_iter()
        .sum()
}

fn crossings_of(
    mesh: &Mesh,
    frame: &Frame,
    bvh: &Bvh,
    f: usize,
    margin: f32,
    stack: &mut Vec<Child>,
    found: &mut Vec<u32>,
) -> u64 {
    let tri = mesh.triangles[f];
    let mut lo = [f32::INFINITY; 3];
    let mut hi = [f32::NEG_INFINITY; 3];
    for &v in &tri {
        let p = frame.verts[v as usize];
        for k in 0..3 {
            lo[k] = lo[k].min(p[k] - margin);
            hi[k] = hi[k].max(p[k] + margin);
        }
    }
    found.clear();
    overlapping(bvh, &lo, &hi, stack, found);
    let a = mesh.triangle(f);
    found
        .iter()
        .filter(|&&g| g as usize > f)
        .filter(|&&g| {
            let other = mesh.triangles[g as usize];
            !other.iter().any(|v| tri.contains(v))
        })
        .filter(|&&g| triangles_cross(&a, &mesh.triangle(g as usize)))
        .count() as u64
}

/// Faces whose stored boxes overlap `lo..hi`.
fn overlapping(bvh: &Bvh, lo: &V3, hi: &V3, stack: &mut Vec<Child>, out: &mut Vec<u32>) {
    let hits = |blo: &V3, bhi: &V3| (0..3).all(|k| blo[k] <= hi[k] && lo[k] <= bhi[k]);
    if !hits(&bvh.root_lo, &bvh.root_hi) {
        return;
    }
    stack.clear();
    stack.push(bvh.root);
    while let Some(c) = stack.pop() {
        if c.count > 0 {
            let first = c.index as usize;
            for t in &bvh.tris[first..first + c.count as usize] {
                let corners = [
                    t.v0,
                    [0, 1, 2].map(|k| t.v0[k] + t.e1[k]),
                    [0, 1, 2].map(|k| t.v0[k] + t.e2[k]),
                ];
                let tlo =
                    [0, 1, 2].map(|k| corners.iter().map(|p| p[k]).fold(f32::INFINITY, f32::min));
                let thi = [0, 1, 2].map(|k| {
                    corners
                        .iter()
                        .map(|p| p[k])
                        .fold(f32::NEG_INFINITY, f32::max)
                });
                if hits(&tlo, &thi) {
                    out.push(t.face);
                }
            }
            continue;
        }
        let node = &bvh.nodes[c.index as usize];
        for lane in 0..WIDTH {
            if node.child[lane] == Child::NONE {
                continue;
            }
            let blo = [0, 1, 2].map(|k| node.lo[k][lane]);
            let bhi = [0, 1, 2].map(|k| node.hi[k][lane]);
            if hits(&blo, &bhi) {
                stack.push(node.child[lane]);
            }
        }
    }
}

/// Whether two triangles that share no vertex pass through each other: an edge of one crosses the
/// other's interior. Touching (an edge ending exactly on the other's plane) and coplanar overlap are
/// not counted: neither makes the enclosed volume ambiguous.
pub(crate) fn triangles_cross(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> bool {
    // Cheap rejection first: all of one triangle strictly on one side of the other's plane.
    if same_side(a, b) || same_side(b, a) {
        return false;
    }
    (0..3).any(|k| edge_crosses(a[k], a[(k + 1) % 3], b))
        || (0..3).any(|k| edge_crosses(b[k], b[(k + 1) % 3], a))
}

fn same_side(plane: &[[f64; 3]; 3], t: &[[f64; 3]; 3]) -> bool {
    let n = cross(sub(plane[1], plane[0]), sub(plane[2], plane[0]));
    let d = t.map(|p| dot(n, sub(p, plane[0])));
    d.iter().all(|&x| x > 0.0) || d.iter().all(|&x| x < 0.0) || d.iter().all(|&x| x == 0.0)
}

/// The segment `p..q` passes through the triangle's plane strictly between its ends, at a point strictly
/// inside the triangle.
fn edge_crosses(p: [f64; 3], q: [f64; 3], t: &[[f64; 3]; 3]) -> bool {
    let n = cross(sub(t[1], t[0]), sub(t[2], t[0]));
    let (dp, dq) = (dot(n, sub(p, t[0])), dot(n, sub(q, t[0])));
    if !(dp > 0.0 && dq < 0.0 || dp < 0.0 && dq > 0.0) {
        return false;
    }
    let s = dp / (dp - dq);
    let x = [0, 1, 2].map(|k| p[k] + s * (q[k] - p[k]));
    // Inside when x is on the inner side of all three edges, judged against the face normal.
    (0..3).all(|k| {
        let (u, v) = (t[k], t[(k + 1) % 3]);
        dot(n, cross(sub(v, u), sub(x, u))) > 0.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_table() {
        let flat = [[0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 2.0, 0.0]];
        let cases = [
            // through the middle
            ([[0.5, 0.5, -1.0], [0.5, 0.5, 1.0], [3.0, 3.0, 0.5]], true),
            // above, parallel
            ([[0.0, 0.0, 1.0], [2.0, 0.0, 1.0], [0.0, 2.0, 1.0]], false),
            // crosses the plane outside the triangle
            ([[5.0, 5.0, -1.0], [5.0, 5.0, 1.0], [6.0, 5.0, 0.0]], false),
            // touches the plane with one corner only
            ([[0.5, 0.5, 0.0], [0.5, 1.0, 1.0], [1.0, 0.5, 1.0]], false),
            // coplanar overlap
            ([[0.5, 0.5, 0.0], [1.5, 0.2, 0.0], [0.2, 1.5, 0.0]], false),
            // pierces with an edge of the flat triangle through its interior
            ([[1.0, -1.0, -1.0], [1.0, -1.0, 1.0], [1.0, 3.0, 0.0]], true),
        ];
        for (other, want) in cases {
            assert_eq!(triangles_cross(&flat, &other), want, "{other:?}");
            assert_eq!(triangles_cross(&other, &flat), want, "{other:?} (swapped)");
        }
    }
}
