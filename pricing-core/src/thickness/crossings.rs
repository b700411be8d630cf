//! Self-intersection: pairs of faces that pass through each other, found with the thickness stage's BVH
//! (the triangle-pair test CGAL's `does_self_intersect` and trimesh run on a tree of boxes).
//!
//! The tree is walked against itself (a dual-tree traversal): a subtree's faces are paired within each
//! child and across each two children whose boxes meet, and two subtrees are paired by splitting the
//! larger while the other's box meets the parts. Every pair of faces is reached once, only through boxes
//! that overlap, with no descent from the root per leaf. A pair of faces that share no vertex (neighbours
//! touch by construction) and whose boxes meet is then tested exactly: two triangles cross when an edge
//! of one passes through the other. Boxes are in `f32` with a margin; the test itself runs on the
//! mesh's `f64` positions. The top levels run in parallel; the counts are integers, so the answer is the
//! same on any number of threads.

use rayon::prelude::*;

use super::bvh::{Bvh, Child, Node, Tri, V3, WIDTH};
use super::frame::Frame;
use crate::measure::{cross, dot, sub};
use crate::mesh::Mesh;

/// Levels of the walk that hand their parts to rayon; below, a part runs on one thread (a 4-wide tree
/// has hundreds of parts by then, plenty for work stealing).
const PARALLEL_DEPTH: usize = 4;

/// A face's box in the tree's `f32` frame, grown by the margin.
#[derive(Clone, Copy)]
struct Boxed {
    face: u32,
    /// The face's vertex indices: neighbours (a shared vertex) are the most common pairs whose boxes
    /// meet, and are told apart here without reading the mesh.
    vertices: [u32; 3],
    lo: V3,
    hi: V3,
}

type Bounds = (V3, V3);

fn overlap(a: &Boxed, b: &Boxed) -> bool {
    (0..3).all(|k| a.lo[k] <= b.hi[k] && b.lo[k] <= a.hi[k])
}

/// Crossing pairs of faces in `mesh`.
pub(crate) fn count(mesh: &Mesh, frame: &Frame, bvh: &Bvh) -> u64 {
    // f32 coordinates relative to the centre carry ~1e-7 × diagonal of rounding; boxes grow by more.
    let margin = (1e-6 * frame.diagonal) as f32;
    let boxes = (0..bvh.tris.len())
        .into_par_iter()
        .map(|slot| boxed(mesh, &bvh.tris[slot], margin))
        .collect();
    let walk = Walk {
        mesh,
        bvh,
        margin,
        boxes,
    };
    walk.within(bvh.root, 0)
}

struct Walk<'a> {
    mesh: &'a Mesh,
    bvh: &'a Bvh,
    margin: f32,
    /// Every slot's face box, in the tree's leaf order.
    boxes: Vec<Boxed>,
}

/// One part of the walk: the pairs inside a subtree, or the pairs between two.
#[derive(Clone, Copy)]
enum Part {
    Within(Child),
    Across(Child, Bounds, Child, Bounds),
}

impl Walk<'_> {
    fn run(&self, part: Part, depth: usize) -> u64 {
        match part {
            Part::Within(c) => self.within(c, depth),
            Part::Across(a, ab, b, bb) => self.across(a, &ab, b, &bb, depth),
        }
    }

    /// Runs `parts` on rayon near the root, in order below it.
    fn all(&self, parts: impl Iterator<Item = Part>, depth: usize) -> u64 {
        if depth < PARALLEL_DEPTH {
            let parts: Vec<Part> = parts.collect();
            parts.into_par_iter().map(|p| self.run(p, depth + 1)).sum()
        } else {
            parts.map(|p| self.run(p, depth + 1)).sum()
        }
    }

    /// Crossing pairs with both faces in `c`.
    fn within(&self, c: Child, depth: usize) -> u64 {
        if c.count > 0 {
            let slots = leaf(c);
            return slots
                .clone()
                .map(|i| (i + 1..slots.end).filter(|&j| self.cross(i, j)).count() as u64)
                .sum();
        }
        let node = &self.bvh.nodes[c.index as usize];
        let lanes = lanes(node);
        let singles = lanes.clone().map(|l| Part::Within(node.child[l]));
        let pairs = lanes
            .clone()
            .flat_map(move |l| lanes.clone().filter(move |&m| m > l).map(move |m| (l, m)));
        let pairs = pairs.filter_map(|(l, m)| {
            let (lb, mb) = (bounds(node, l), bounds(node, m));
            self.near(&lb, &mb)
                .then_some(Part::Across(node.child[l], lb, node.child[m], mb))
        });
        self.all(singles.chain(pairs), depth)
    }

    /// Crossing pairs with one face in `a` and the other in `b` (disjoint subtrees whose boxes meet).
    fn across(&self, a: Child, ab: &Bounds, b: Child, bb: &Bounds, depth: usize) -> u64 {
        if a.count > 0 && b.count > 0 {
            let (sa, sb) = (leaf(a), leaf(b));
            return sa
                .map(|i| sb.clone().filter(|&j| self.cross(i, j)).count() as u64)
                .sum();
        }
        // Split the interior one; of two interior ones, the larger box.
        let split_a = b.count > 0 || (a.count == 0 && extent(ab) >= extent(bb));
        let (split, other, ob) = if split_a { (a, b, bb) } else { (b, a, ab) };
        let node = &self.bvh.nodes[split.index as usize];
        let parts = lanes(node).filter_map(|l| {
            let lb = bounds(node, l);
            self.near(&lb, ob)
                .then_some(Part::Across(node.child[l], lb, other, *ob))
        });
        self.all(parts, depth)
    }

    /// Whether two node boxes (not grown) can hold faces whose grown boxes meet.
    fn near(&self, a: &Bounds, b: &Bounds) -> bool {
        let slack = 2.0 * self.margin;
        (0..3).all(|k| a.0[k] <= b.1[k] + slack && b.0[k] <= a.1[k] + slack)
    }

    /// Whether the faces in two distinct slots pass through each other: boxes meeting, no shared
    /// vertex, not clearly apart, then exactly.
    fn cross(&self, i: usize, j: usize) -> bool {
        let (a, b) = (&self.boxes[i], &self.boxes[j]);
        if !overlap(a, b)
            || b.vertices.iter().any(|v| a.vertices.contains(v))
            || apart(&self.bvh.tris[i], &self.bvh.tris[j], self.margin)
        {
            return false;
        }
        triangles_cross(
            &self.mesh.triangle(a.face as usize),
            &self.mesh.triangle(b.face as usize),
        )
    }
}

/// A leaf's slots in the tree's triangles.
fn leaf(c: Child) -> std::ops::Range<usize> {
    let first = c.index as usize;
    first..first + c.count as usize
}

/// The node's occupied lanes.
fn lanes(node: &Node) -> impl Iterator<Item = usize> + Clone + '_ {
    (0..WIDTH).filter(|&l| node.child[l] != Child::NONE)
}

fn bounds(node: &Node, lane: usize) -> Bounds {
    (
        [0, 1, 2].map(|k| node.lo[k][lane]),
        [0, 1, 2].map(|k| node.hi[k][lane]),
    )
}

/// A box's size, to choose which of two subtrees to split.
fn extent(b: &Bounds) -> f32 {
    (0..3).map(|k| b.1[k] - b.0[k]).sum()
}

fn boxed(mesh: &Mesh, t: &Tri, margin: f32) -> Boxed {
    let corners = [
        t.v0,
        [0, 1, 2].map(|k| t.v0[k] + t.e1[k]),
        [0, 1, 2].map(|k| t.v0[k] + t.e2[k]),
    ];
    Boxed {
        face: t.face,
        vertices: mesh.triangles[t.face as usize],
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
    use proptest::prelude::*;

    /// Every pair of faces tested directly: what the walk must find.
    fn brute_force(mesh: &Mesh) -> u64 {
        let n = mesh.triangles.len();
        let mut found = 0;
        for i in 0..n {
            for j in i + 1..n {
                let (a, b) = (mesh.triangles[i], mesh.triangles[j]);
                if b.iter().any(|v| a.contains(v)) {
                    continue;
                }
                if triangles_cross(&mesh.triangle(i), &mesh.triangle(j)) {
                    found += 1;
                }
            }
        }
        found
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// A soup of small triangles in a box, some sharing corners: the walk over the tree counts the
        /// pairs the direct all-pairs test counts, on a tree deep enough to split leaves and nodes.
        #[test]
        fn the_walk_finds_every_crossing_pair(
            corners in prop::collection::vec(prop::array::uniform3(0.0f64..10.0), 30..120),
            picks in prop::collection::vec(prop::array::uniform3(0usize..1000), 50..400),
        ) {
            let positions = corners.clone();
            let triangles: Vec<[u32; 3]> = picks
                .iter()
                .map(|p| p.map(|i| (i % positions.len()) as u32))
                .filter(|t| t[0] != t[1] && t[1] != t[2] && t[0] != t[2])
                .collect();
            prop_assume!(!triangles.is_empty());
            let mesh = Mesh { positions, triangles };
            let frame = super::super::frame::prepare(&mesh).map_err(|e| TestCaseError::reject(format!("{e}")))?;
            let bvh = super::super::bvh::build(&frame.verts, &mesh.triangles);
            prop_assert_eq!(count(&mesh, &frame, &bvh), brute_force(&mesh));
        }
    }

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
