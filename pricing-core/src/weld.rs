//! Vertex welding: turns the corners the parsers emit into a shared-vertex mesh.
//!
//! Exact welding merges corners whose coordinates are bit-identical (after `-0.0 == 0.0`), which is what
//! every exporter means by "the same vertex". Tolerance welding snaps to a grid of the given size instead;
//! two points closer than the tolerance but on opposite sides of a grid line stay apart, which is the price
//! of an O(1) lookup and is documented rather than hidden.
//!
//! Vertex numbering follows first appearance in the file, so the result is deterministic.

use rustc_hash::FxHashMap;

use crate::mesh::Mesh;

/// How corners are merged into vertices.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum WeldMode {
    #[default]
    Exact,
    /// Snap to a grid of this many millimetres (in file units before scaling).
    Tolerance(f64),
}

/// What welding did, for the analysis report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WeldStats {
    /// Triangles read from the file, before dropping degenerate ones.
    pub input_triangles: u64,
    /// Triangles dropped because two corners welded into the same vertex.
    pub degenerate_dropped: u64,
}

/// Accumulates triangles; the parsers' common sink.
#[derive(Debug)]
pub struct Welder {
    mode: WeldMode,
    map: FxHashMap<[u64; 3], u32>,
    mesh: Mesh,
    stats: WeldStats,
}

impl Welder {
    /// `triangles_hint` sizes the buffers; it must already be capped by the caller's limits.
    pub fn new(mode: WeldMode, triangles_hint: usize) -> Self {
        // A closed mesh has about half as many vertices as triangles; reserving for that avoids rehashing
        // without ever sizing memory by more than the input justifies.
        let vertices_hint = triangles_hint / 2 + 16;
        Welder {
            mode,
            map: FxHashMap::with_capacity_and_hasher(vertices_hint, Default::default()),
            mesh: Mesh {
                positions: Vec::with_capacity(vertices_hint),
                triangles: Vec::with_capacity(triangles_hint),
            },
            stats: WeldStats::default(),
        }
    }

    /// The vertex index for a point, creating it on first sight. The point must be finite.
    pub fn vertex(&mut self, p: [f64; 3]) -> u32 {
        let key = self.key(p);
        let next = self.mesh.positions.len() as u32;
        let positions = &mut self.mesh.positions;
        *self.map.entry(key).or_insert_with(|| {
            positions.push(p);
            next
        })
    }

    /// Add a triangle by welded vertex indices; a triangle that repeats a vertex is dropped and counted.
    pub fn triangle(&mut self, t: [u32; 3]) {
        self.stats.input_triangles += 1;
        if t[0] == t[1] || t[1] == t[2] || t[0] == t[2] {
            self.stats.degenerate_dropped += 1;
        } else {
            self.mesh.triangles.push(t);
        }
    }

    /// Add a triangle by its corner coordinates.
    pub fn corners(&mut self, c: [[f64; 3]; 3]) {
        let t = [self.vertex(c[0]), self.vertex(c[1]), self.vertex(c[2])];
        self.triangle(t);
    }

    /// Position of an already-created vertex.
    pub fn position(&self, i: u32) -> [f64; 3] {
        self.mesh.positions[i as usize]
    }

    pub fn triangles_so_far(&self) -> u64 {
        self.stats.input_triangles
    }

    pub fn finish(self) -> (Mesh, WeldStats) {
        (self.mesh, self.stats)
    }

    fn key(&self, p: [f64; 3]) -> [u64; 3] {
        match self.mode {
            // Adding 0.0 turns -0.0 into +0.0 so the two spellings of zero weld together.
            WeldMode::Exact => p.map(|x| (x + 0.0).to_bits()),
            WeldMode::Tolerance(tol) => p.map(|x| (x / tol).round() as i64 as u64),
        }
    }
}

/// Weld an existing mesh again (e.g. with a tolerance). Welding is idempotent: welding a welded mesh
/// with the same mode changes nothing.
pub fn reweld(mesh: &Mesh, mode: WeldMode) -> (Mesh, WeldStats) {
    let mut w = Welder::new(mode, mesh.triangles.len());
    let remap: Vec<u32> = mesh.positions.iter().map(|&p| w.vertex(p)).collect();
    for t in &mesh.triangles {
        w.triangle(t.map(|i| remap[i as usize]));
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_corners_become_one_vertex_and_degenerates_are_dropped() {
        let mut w = Welder::new(WeldMode::Exact, 4);
        w.corners([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]);
        w.corners([[1.0, 0.0, 0.0], [-0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]);
        w.corners([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]);
        let (mesh, stats) = w.finish();
        assert_eq!(mesh.positions.len(), 4);
        assert_eq!(mesh.triangles, vec![[0, 1, 2], [1, 0, 3]]);
        assert_eq!(
            stats,
            WeldStats {
                input_triangles: 3,
                degenerate_dropped: 1
            }
        );
    }

    #[test]
    fn tolerance_merges_near_points() {
        let mut w = Welder::new(WeldMode::Tolerance(0.01), 1);
        let a = w.vertex([1.0, 1.0, 1.0]);
        let b = w.vertex([1.001, 1.0, 0.999]);
        assert_eq!(a, b);
    }
}
