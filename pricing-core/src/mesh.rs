//! The indexed triangle mesh every measurement works on.

/// A welded, indexed triangle mesh in millimetres.
///
/// Invariants (established by [`crate::weld`]): every index is `< positions.len()`, no triangle repeats a vertex
/// index, and positions are finite.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mesh {
    pub positions: Vec<[f64; 3]>,
    pub triangles: Vec<[u32; 3]>,
}

impl Mesh {
    pub fn triangle(&self, t: usize) -> [[f64; 3]; 3] {
        let [a, b, c] = self.triangles[t];
        [
            self.positions[a as usize],
            self.positions[b as usize],
            self.positions[c as usize],
        ]
    }
}
