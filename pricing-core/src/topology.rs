//! Edge classification and connected shells.
//!
//! Every undirected edge is seen from its triangles as directed half-edges. A closed, consistently oriented
//! surface uses each edge exactly twice, once in each direction; anything else is a boundary (once),
//! non-manifold (more than twice) or an orientation flip (twice in the same direction). Edges are grouped
//! per lower vertex in a compressed adjacency list rather than a hash map: less memory, and integer counts
//! that are the same whatever the order of work.

use crate::mesh::Mesh;

/// Edge and shell facts about a mesh.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Topology {
    pub edges: u64,
    pub boundary_edges: u64,
    pub non_manifold_edges: u64,
    /// Edges used twice in the same direction: the two faces disagree about which side is outside.
    pub inconsistent_edges: u64,
    /// Shell index of every triangle; shells are numbered by their first triangle.
    pub triangle_shell: Vec<u32>,
    pub shells: Vec<ShellTopology>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShellTopology {
    pub triangles: u64,
    pub boundary_edges: u64,
    pub non_manifold_edges: u64,
    pub inconsistent_edges: u64,
}

impl ShellTopology {
    pub fn watertight(&self) -> bool {
        self.boundary_edges == 0 && self.non_manifold_edges == 0 && self.inconsistent_edges == 0
    }
}

impl Topology {
    pub fn watertight(&self) -> bool {
        self.boundary_edges == 0 && self.non_manifold_edges == 0 && self.inconsistent_edges == 0
    }
}

/// Half-edges are packed as `upper << 1 | direction`, so sorting groups both directions of an edge together.
/// Limits keep vertex counts far below 2^31.
const DIR_BIT: u32 = 1;

/// Vertex ranges whose edges are classified separately: both cores get work, and the half-edge lists held
/// at once are a fraction of the mesh (memory must stay within the size of the uploaded file).
const EDGE_BLOCKS: usize = 4;

pub fn analyze(mesh: &Mesh) -> Topology {
    use rayon::prelude::*;
    let n = mesh.positions.len();
    let block = n.div_ceil(EDGE_BLOCKS).max(1);
    // Shells (a serial union-find) and edge classification do not depend on each other: run them side
    // by side, and attribute the (normally few) defective edges to shells afterwards.
    let ((vertex_shell, triangle_shell, shell_count), edges) = rayon::join(
        || shells(mesh),
        || {
            let blocks: Vec<std::ops::Range<usize>> = (0..n)
                .step_by(block)
                .map(|f| f..(f + block).min(n))
                .collect();
            let (starts, skips) = lower_vertex_starts(mesh, &blocks);
            blocks
                .into_par_iter()
                .zip(skips)
                .map(|(range, skip)| classify_block(mesh, &starts, range, skip))
                .reduce(EdgeCounts::default, EdgeCounts::add)
        },
    );

    let mut shells = vec![ShellTopology::default(); shell_count];
    for &s in &triangle_shell {
        shells[s as usize].triangles += 1;
    }
    // Integer counts: the same whatever order the blocks finished in.
    for (kind, vertices) in edges.defective.iter().enumerate() {
        for &v in vertices {
            let shell = &mut shells[vertex_shell[v as usize] as usize];
            match kind {
                BOUNDARY => shell.boundary_edges += 1,
                NON_MANIFOLD => shell.non_manifold_edges += 1,
                _ => shell.inconsistent_edges += 1,
            }
        }
    }
    Topology {
        edges: edges.edges,
        boundary_edges: edges.defective[BOUNDARY].len() as u64,
        non_manifold_edges: edges.defective[NON_MANIFOLD].len() as u64,
        inconsistent_edges: edges.defective[INCONSISTENT].len() as u64,
        triangle_shell,
        shells,
    }
}

const BOUNDARY: usize = 0;
const NON_MANIFOLD: usize = 1;
const INCONSISTENT: usize = 2;

#[derive(Debug, Clone, Default)]
struct EdgeCounts {
    edges: u64,
    /// Lower vertex of every boundary, non-manifold and inconsistent edge.
    defective: [Vec<u32>; 3],
}

impl EdgeCounts {
    fn add(mut self, mut o: EdgeCounts) -> EdgeCounts {
        self.edges += o.edges;
        for (mine, theirs) in self.defective.iter_mut().zip(&mut o.defective) {
            mine.append(theirs);
        }
        self
    }
}

/// Where each vertex's half-edges start in a list grouped by lower vertex (one scan of the triangles,
/// shared by every block): `starts[v]..starts[v + 1]`, with `starts.len() == vertices + 1`. Also, per
/// block, how many leading triangles use only vertices below the block, so its fill can skip them
/// (vertices are numbered by first appearance for most formats, so that is most of the mesh before it).
fn lower_vertex_starts(mesh: &Mesh, blocks: &[std::ops::Range<usize>]) -> (Vec<u32>, Vec<usize>) {
    let mut starts = vec![0u32; mesh.positions.len() + 1];
    let mut skips = vec![mesh.triangles.len(); blocks.len()];
    let mut next_block = 0;
    for (index, t) in mesh.triangles.iter().enumerate() {
        for (a, b) in half_edges(*t) {
            starts[a.min(b) as usize + 1] += 1;
        }
        // The first triangle reaching a block's vertices: every one before it is below the block.
        let highest = t[0].max(t[1]).max(t[2]) as usize;
        while next_block < blocks.len() && highest >= blocks[next_block].start {
            skips[next_block] = index;
            next_block += 1;
        }
    }
    let mut total = 0u32;
    for s in starts.iter_mut() {
        total += *s;
        *s = total;
    }
    (starts, skips)
}

/// Classifies every edge whose lower vertex is in `range`: its half-edges are gathered per lower vertex
/// (a compressed adjacency list, filled by one scan of the triangles) and sorted.
fn classify_block(
    mesh: &Mesh,
    starts: &[u32],
    range: std::ops::Range<usize>,
    skip: usize,
) -> EdgeCounts {
    let (first, len) = (range.start, range.len());
    let local = |v: u32| (v as usize).wrapping_sub(first);
    let base = starts[first];
    // After the fill, end[i] is where vertex first+i's list ends (and so where the next one starts).
    let mut end: Vec<u32> = starts[first..first + len]
        .iter()
        .map(|&s| s - base)
        .collect();
    let total = starts[first + len] - base;
    let mut other = vec![0u32; total as usize];
    for t in &mesh.triangles[skip..] {
        for (a, b) in half_edges(*t) {
            let (lo, hi, dir) = if a < b { (a, b, 0) } else { (b, a, DIR_BIT) };
            let i = local(lo);
            if i < len {
                other[end[i] as usize] = (hi << 1) | dir;
                end[i] += 1;
            }
        }
    }

    let mut counts = EdgeCounts::default();
    let mut begin = 0usize;
    for (i, &stop) in end.iter().enumerate() {
        let list = &mut other[begin..stop as usize];
        begin = stop as usize;
        sort_short(list);
        let mut j = 0;
        while j < list.len() {
            let hi = list[j] >> 1;
            let (mut forward, mut backward) = (0u32, 0u32);
            while j < list.len() && list[j] >> 1 == hi {
                if list[j] & DIR_BIT == 0 {
                    forward += 1;
                } else {
                    backward += 1;
                }
                j += 1;
            }
            counts.edges += 1;
            let kind = match forward + backward {
                1 => BOUNDARY,
                2 if forward == 1 => continue,
                2 => INCONSISTENT,
                _ => NON_MANIFOLD,
            };
            counts.defective[kind].push((first + i) as u32);
        }
    }
    counts
}

/// A vertex's list holds about three half-edges: insertion sort in place, without the general sort's
/// per-call set-up, which was a large part of classifying 1.5M such lists.
fn sort_short(list: &mut [u32]) {
    if list.len() > 16 {
        list.sort_unstable();
        return;
    }
    for i in 1..list.len() {
        let x = list[i];
        let mut j = i;
        while j > 0 && list[j - 1] > x {
            list[j] = list[j - 1];
            j -= 1;
        }
        list[j] = x;
    }
}

fn half_edges([a, b, c]: [u32; 3]) -> [(u32, u32); 3] {
    [(a, b), (b, c), (c, a)]
}

/// Connected components by shared vertices (union-find), numbered by first triangle so the numbering is
/// deterministic. Returns (shell of each vertex, shell of each triangle, shell count).
fn shells(mesh: &Mesh) -> (Vec<u32>, Vec<u32>, usize) {
    let n = mesh.positions.len();
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            let grand = parent[parent[x as usize] as usize];
            parent[x as usize] = grand;
            x = grand;
        }
        x
    }
    for &[a, b, c] in &mesh.triangles {
        for (x, y) in [(a, b), (b, c)] {
            let (rx, ry) = (find(&mut parent, x), find(&mut parent, y));
            if rx != ry {
                // Attach the larger root under the smaller: deterministic, and keeps trees shallow enough
                // with path halving.
                let (lo, hi) = if rx < ry { (rx, ry) } else { (ry, rx) };
                parent[hi as usize] = lo;
            }
        }
    }
    const UNSET: u32 = u32::MAX;
    let mut root_shell = vec![UNSET; n];
    let mut count = 0u32;
    let mut triangle_shell = Vec::with_capacity(mesh.triangles.len());
    for &[a, _, _] in &mesh.triangles {
        let r = find(&mut parent, a) as usize;
        if root_shell[r] == UNSET {
            root_shell[r] = count;
            count += 1;
        }
        triangle_shell.push(root_shell[r]);
    }
    // Vertices used by no triangle get shell 0; they have no edges, so the value is never read for counting.
    let vertex_shell = (0..n as u32)
        .map(|v| {
            let r = find(&mut parent, v) as usize;
            if root_shell[r] == UNSET {
                0
            } else {
                root_shell[r]
            }
        })
        .collect();
    (vertex_shell, triangle_shell, count as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tetra(offset: u32) -> Vec<[u32; 3]> {
        let [a, b, c, d] = [offset, offset + 1, offset + 2, offset + 3];
        vec![[a, c, b], [a, b, d], [b, c, d], [c, a, d]]
    }

    fn mesh(triangles: Vec<[u32; 3]>, vertices: usize) -> Mesh {
        Mesh {
            positions: vec![[0.0; 3]; vertices],
            triangles,
        }
    }

    #[test]
    fn closed_tetrahedron_is_watertight() {
        let t = analyze(&mesh(tetra(0), 4));
        assert_eq!(
            (
                t.edges,
                t.boundary_edges,
                t.non_manifold_edges,
                t.inconsistent_edges
            ),
            (6, 0, 0, 0)
        );
        assert!(t.watertight());
        assert_eq!(t.shells.len(), 1);
    }

    #[test]
    fn classifies_open_flipped_and_non_manifold_edges() {
        let mut open = tetra(0);
        open.pop();
        let t = analyze(&mesh(open, 4));
        assert_eq!(t.boundary_edges, 3);

        let mut flipped = tetra(0);
        flipped[0] = [0, 1, 2];
        let t = analyze(&mesh(flipped, 4));
        assert_eq!(t.inconsistent_edges, 3);
        assert!(!t.watertight());

        let mut fin = tetra(0);
        fin.push([0, 1, 4]);
        let t = analyze(&mesh(fin, 5));
        assert_eq!((t.non_manifold_edges, t.boundary_edges), (1, 2));
    }

    #[test]
    fn separate_bodies_are_separate_shells() {
        let mut two = tetra(0);
        two.extend(tetra(4));
        let t = analyze(&mesh(two, 8));
        assert_eq!(t.shells.len(), 2);
        assert_eq!(t.triangle_shell, vec![0, 0, 0, 0, 1, 1, 1, 1]);
        assert!(t.shells.iter().all(|s| s.watertight() && s.triangles == 4));
    }

    /// Edge counts the obvious way: every undirected edge in a map with its uses in each direction.
    fn reference_counts(triangles: &[[u32; 3]]) -> (u64, u64, u64, u64) {
        let mut uses: rustc_hash::FxHashMap<(u32, u32), (u32, u32)> = Default::default();
        for &t in triangles {
            for (a, b) in half_edges(t) {
                let e = uses.entry((a.min(b), a.max(b))).or_default();
                if a < b { e.0 += 1 } else { e.1 += 1 }
            }
        }
        let count =
            |f: &dyn Fn(u32, u32) -> bool| uses.values().filter(|&&(x, y)| f(x, y)).count() as u64;
        (
            uses.len() as u64,
            count(&|x, y| x + y == 1),
            count(&|x, y| x + y > 2),
            count(&|x, y| x + y == 2 && x != 1),
        )
    }

    #[test]
    fn edge_counts_match_a_map_of_edges_whatever_the_vertex_numbering() {
        // Tetrahedra (closed), some flipped, some missing a face, some sharing an edge with a fin, with
        // vertex ids scrambled so that late triangles use low ids (the fill's skip must not miss them).
        let mut triangles = Vec::new();
        for k in 0..200u32 {
            let mut t = tetra(4 * k);
            match k % 5 {
                1 => t[0] = [t[0][0], t[0][2], t[0][1]],
                2 => {
                    t.pop();
                }
                3 => t.push([4 * k, 4 * k + 1, (4 * k + 9) % 800]),
                _ => {}
            }
            triangles.extend(t);
        }
        let scramble = |v: u32| (v * 337 + 11) % 800;
        for t in triangles.iter_mut() {
            *t = t.map(scramble);
        }
        triangles.reverse();
        let got = analyze(&mesh(triangles.clone(), 800));
        assert_eq!(
            (
                got.edges,
                got.boundary_edges,
                got.non_manifold_edges,
                got.inconsistent_edges
            ),
            reference_counts(&triangles)
        );
        assert!(got.boundary_edges > 0 && got.non_manifold_edges > 0 && got.inconsistent_edges > 0);
    }
}
