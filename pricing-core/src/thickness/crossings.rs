//! Self-intersection: pairs of faces that pass through each other, found with the thickness stage's BVH
//! (the triangle-pair test CGAL's `does_self_intersect` and trimesh run on a tree of boxes).
//!
//! Each leaf of the tree asks it for the faces whose boxes overlap the leaf's; each of the leaf's faces
//! keeps those after it in face order whose boxes meet its own and that share no vertex with it
//! (neighbours touch by construction), and tests the pair exactly: two triangles cross when an edge of
//! one passes through the other. Candidates are gathered in `f32` with a margin; the test itself runs
//! on the mesh's `f64` positions. Leaves in parallel, integer counts: the same answer on any number of
//! threads.

use rayon::prelude::*;

use super::bvh::{Bvh, Child, Tri, V3, WIDTH};
use super::frame::{CHUNK, Frame};
use crate::measure::{cross, dot, sub};
use crate::mesh::Mesh;

/// A face's box in the tree's `f32` frame, grown by the margin.
#[derive(Clone, Copy)]
struct Boxed {
    face: u32,
    /// Its slot in the tree's triangles, whose `f32` corners the quick rejection reads.
    slot: u32,
    lo: V3,
    hi: V3,
}

fn overlap(a: &Boxed, lo: &V3, hi: &V3) -> bool {
    (0..3).all(|k| a.lo[k] <= hi[k] && lo[k] <= a.hi[k])
}

/// Crossing pairs of faces in `mesh`. The tree is asked once per leaf (a few faces that lie together),
/// with the leaf's box, rather than once per face; each face of the leaf is then checked against the
/// candidates whose boxes meet its own. Integer counts: the sum is the same in any order.
pub(crate) fn count(mesh: &Mesh, frame: &Frame, bvh: &Bvh) -> u64 {
    // f32 coordinates relative to the centre carry ~1e-7 × diagonal of rounding; boxes grow by more.
    let margin = (1e-6 * frame.diagonal) as f32;
    leaves(bvh)
        .par_chunks(CHUNK / 8)
        .map_init(
            || (Vec::new(), Vec::new(), Vec::new()),
            |(stack, mine, found), chunk| {
                chunk
                    .iter()
                    .map(|leaf| leaf_crossings(mesh, bvh, *leaf, margin, stack, mine, found))
                    .sum::<u64>()
            },
        )
        .sum()
}

/// Every leaf of the tree.
fn leaves(bvh: &Bvh) -> Vec<Child> {
    let mut out = Vec::new();
    let mut stack = vec![bvh.root];
    while let Some(c) = stack.pop() {
        if c.count > 0 {
            out.push(c);
            continue;
        }
        let node = &bvh.nodes[c.index as usize];
        stack.extend(node.child.iter().filter(|&&ch| ch != Child::NONE));
    }
    out
}

fn boxed(bvh: &Bvh, slot: usize, margin: f32) -> Boxed {
    let t = &bvh.tris[slot];
    let corners = [
        t.v0,
        [0, 1, 2].map(|k| t.v0[k] + t.e1[k]),
        [0, 1, 2].map(|k| t.v0[k] + t.e2[k]),
    ];
    Boxed {
        face: t.face,
        slot: slot as u32,
        lo: [0, 1, 2].map(|k| corners.iter().map(|p| p[k]).fold(f32::INFINITY, f32::min) - margin),
        hi: [0, 1, 2].map(|k| {
            corners
                .iter()
                .map(|p| p[k])
                .fold(f32::NEG_INFINITY, f32::max)
                + margin
        }),
    }
}

fn leaf_crossings(
    mesh: &Mesh,
    bvh: &Bvh,
    leaf: Child,
    margin: f32,
    stack: &mut Vec<Child>,
    mine: &mut Vec<Boxed>,
    found: &mut Vec<Boxed>,
) -> u64 {
    let first = leaf.index as usize;
    mine.clear();
    mine.extend((first..first + leaf.count as usize).map(|i| boxed(bvh, i, margin)));
    let mut lo = [f32::INFINITY; 3];
    let mut hi = [f32::NEG_INFINITY; 3];
    for b in mine.iter() {
        for k in 0..3 {
            lo[k] = lo[k].min(b.lo[k]);
            hi[k] = hi[k].max(b.hi[k]);
        }
    }
    found.clear();
    overlapping(bvh, &lo, &hi, margin, stack, found);
    let mut crossings = 0;
    for a in mine.iter() {
        let tri = mesh.triangles[a.face as usize];
        let corners = mesh.triangle(a.face as usize);
        for b in found.iter() {
            // Each pair once (from its lower face), boxes meeting, no shared vertex, then exactly.
            if b.face <= a.face
                || !overlap(b, &a.lo, &a.hi)
                || apart(
                    &bvh.tris[a.slot as usize],
                    &bvh.tris[b.slot as usize],
                    margin,
                )
            {
                continue;
            }
            let other = mesh.triangles[b.face as usize];
            if other.iter().any(|v| tri.contains(v)) {
                continue;
            }
            if triangles_cross(&corners, &mesh.triangle(b.face as usize)) {
                crossings += 1;
            }
        }
    }
    crossings
}

/// Whether one triangle lies clearly on one side of the other's plane, judged on the tree's `f32`
/// corners with the margin as slack: most candidate pairs end here, without reading the mesh.
fn apart(a: &Tri, b: &Tri, margin: f32) -> bool {
    let side = |p: &Tri, q: &Tri| {
        let n = cross3(&p.e1, &p.e2);
        let slack = margin * (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
        let corners = [
            q.v0,
            [0, 1, 2].map(|k| q.v0[k] + q.e1[k]),
            [0, 1, 2].map(|k| q.v0[k] + q.e2[k]),
        ];
        let d = corners.map(|c| (0..3).map(|k| n[k] * (c[k] - p.v0[k])).sum::<f32>());
        d.iter().all(|&x| x > slack) || d.iter().all(|&x| x < -slack)
    };
    side(a, b) || side(b, a)
}

fn cross3(a: &V3, b: &V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// Faces whose boxes overlap `lo..hi`, with their boxes.
fn overlapping(
    bvh: &Bvh,
    lo: &V3,
    hi: &V3,
    margin: f32,
    stack: &mut Vec<Child>,
    out: &mut Vec<Boxed>,
) {
    let hits = |blo: &V3, bhi: &V3| (0..3).all(|k| blo[k] <= hi[k] && lo[k] <= bhi[k]);
    if !hits(&bvh.root_lo, &bvh.root_hi) {
        return;
    }
    stack.clear();
    stack.push(bvh.root);
    while let Some(c) = stack.pop() {
        if c.count > 0 {
            let first = c.index as usize;
            for slot in first..first + c.count as usize {
                let b = boxed(bvh, slot, margin);
                if overlap(&b, lo, hi) {
                    out.push(b);
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
