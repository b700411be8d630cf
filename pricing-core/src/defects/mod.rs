//! Detail about a mesh's defects, computed only for meshes the fast [`crate::topology`] pass flagged:
//! which faces to turn so a closed shell agrees with itself ([`orientation`]), and the holes an open
//! surface has ([`holes`]). Both work from a sorted list of the half-edges of the faces concerned
//! ([`EdgeMap`]); a clean mesh never builds one, so the common path costs nothing.

pub mod holes;
pub mod orientation;

use rayon::prelude::*;

use crate::mesh::Mesh;

/// One face's use of an edge: the edge as `lo << 32 | hi` (vertex ids), the face, and whether the face
/// walks it from `lo` to `hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct HalfEdge {
    pub edge: u64,
    pub face: u32,
    pub forward: bool,
}

impl HalfEdge {
    pub fn ends(&self) -> (u32, u32) {
        ((self.edge >> 32) as u32, self.edge as u32)
    }
}

fn edge_key(a: u32, b: u32) -> u64 {
    (u64::from(a.min(b)) << 32) | u64::from(a.max(b))
}

/// The half-edges of the faces in `faces`, sorted by edge then face: the users of one edge are one run,
/// found by binary search. A flat sorted list rather than a map of lists: 16 bytes a half-edge and no
/// allocation per edge, whatever the mesh, and an order fixed by the mesh alone.
pub(crate) struct EdgeMap {
    half_edges: Vec<HalfEdge>,
}

impl EdgeMap {
    pub fn of(mesh: &Mesh, faces: &[u32]) -> Self {
        let mut half_edges: Vec<HalfEdge> = faces
            .iter()
            .flat_map(|&f| {
                let t = mesh.triangles[f as usize];
                (0..3).map(move |k| {
                    let (a, b) = (t[k], t[(k + 1) % 3]);
                    HalfEdge {
                        edge: edge_key(a, b),
                        face: f,
                        forward: a < b,
                    }
                })
            })
            .collect();
        half_edges.par_sort_unstable();
        Self { half_edges }
    }

    /// The faces using the edge between `a` and `b`.
    pub fn users(&self, a: u32, b: u32) -> &[HalfEdge] {
        let key = edge_key(a, b);
        let start = self.half_edges.partition_point(|h| h.edge < key);
        let end = start + self.half_edges[start..].partition_point(|h| h.edge == key);
        &self.half_edges[start..end]
    }

    /// Every edge with its users, in edge order.
    pub fn runs(&self) -> impl Iterator<Item = &[HalfEdge]> {
        self.half_edges.chunk_by(|x, y| x.edge == y.edge)
    }
}

/// The faces of every shell, in face order: shell `s`'s faces are `faces[start[s]..start[s + 1]]`.
pub(crate) fn faces_by_shell(triangle_shell: &[u32], shells: usize) -> (Vec<u32>, Vec<usize>) {
    let mut start = vec![0usize; shells + 1];
    for &s in triangle_shell {
        start[s as usize + 1] += 1;
    }
    for s in 0..shells {
        start[s + 1] += start[s];
    }
    let mut next = start.clone();
    let mut faces = vec![0u32; triangle_shell.len()];
    for (f, &s) in triangle_shell.iter().enumerate() {
        faces[next[s as usize]] = f as u32;
        next[s as usize] += 1;
    }
    (faces, start)
}
