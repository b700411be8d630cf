//! Detail about a mesh's defects, computed only for meshes the fast [`crate::topology`] pass flagged:
//! which faces to turn so a closed shell agrees with itself ([`orientation`]), and the holes an open
//! surface has ([`holes`]). Both work from an edge map of the shells concerned; a clean mesh never
//! builds one, so the common path costs nothing.

pub mod holes;
pub mod orientation;

use rustc_hash::FxHashMap;

use crate::mesh::Mesh;

/// The faces using each undirected edge, with the direction each face walks it (`true`: from the lower
/// vertex id to the higher).
pub(crate) struct EdgeMap {
    pub edges: FxHashMap<(u32, u32), Vec<(u32, bool)>>,
}

impl EdgeMap {
    /// The edges of the faces in `faces`.
    pub fn of(mesh: &Mesh, faces: impl Iterator<Item = u32>) -> Self {
        let mut edges: FxHashMap<(u32, u32), Vec<(u32, bool)>> = FxHashMap::default();
        for f in faces {
            let t = mesh.triangles[f as usize];
            for k in 0..3 {
                let (a, b) = (t[k], t[(k + 1) % 3]);
                let key = (a.min(b), a.max(b));
                edges.entry(key).or_default().push((f, a < b));
            }
        }
        Self { edges }
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
