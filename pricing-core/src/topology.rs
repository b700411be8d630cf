//! Edge classification and connected shells.
//!
//! Every undirected edge is seen from its triangles as directed half-edges. A closed, consistently oriented
//! surface uses each edge exactly twice, once in each direction; anything else is a boundary (once),
//! non-manifold (more than twice) or an orientation flip (twice in the same direction). Edges are grouped
//! per lower vertex in a compressed adjacency list rather than a hash map: less memory, and integer counts
//! that are the same whatever the order of work.
//!
//! The vertices are cut into blocks of consecutive ids, each classified in parallel from only the
//! triangles that reach it (vertex ids follow first appearance, so those lie together), and shells are
//! joined along the same edges by a union-find inside the block; only edges between blocks go through
//! a global union-find. On the 3M-triangle benchmark ring this took the measurement phase from 0.142 s
//! to 0.115 s (medians of 8 interleaved runs of `examples/phases`) and the analysis's peak memory from
//! 124 to 102 MiB (`/usr/bin/time` of `pricing analyze`), against one pass over the whole mesh per
//! quarter of the vertices and a separate union-find over every triangle.
//!
//! Alternatives measured and not kept are in `docs/performance-notes.md`.

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

/// Vertices per block: a block's edges are classified apart from the others', from the triangles that
/// reach it, and its counts and half-edge lists (about 0.5 MiB) stay in a core's L2 cache.
const BLOCK_BITS: u32 = 15;

/// Blocks are grouped until this many at most are left, when vertex numbering has no locality (the
/// triangles reaching a block then span the whole mesh): each group then lists the half-edges of at
/// most a quarter of the vertices, so memory stays within the size of the uploaded file.
const MAX_SPREAD_GROUPS: usize = 4;

pub fn analyze(mesh: &Mesh) -> Topology {
    use rayon::prelude::*;
    let n = mesh.positions.len();
    let groups = groups(&block_reach(mesh, n), mesh.triangles.len(), n);
    // Each group writes the roots of its own vertices: the groups' vertex ranges tile 0..n in order.
    let mut parent = vec![0u32; n];
    let mut slices = Vec::with_capacity(groups.len());
    let mut rest = parent.as_mut_slice();
    for (vertices, _) in &groups {
        let (slice, tail) = rest.split_at_mut(vertices.len());
        slices.push(slice);
        rest = tail;
    }
    let blocks: Vec<Block> = groups
        .into_par_iter()
        .zip(slices)
        .map(|((vertices, triangles), parent)| classify_block(mesh, vertices, triangles, parent))
        .collect();

    // Edges between groups join their components; few, when vertex numbering has locality.
    for block in &blocks {
        for &(lo, hi) in &block.cross {
            union(&mut parent, lo, hi);
        }
    }
    // The components still rooted at a group's lowest vertex are the shells.
    let mut roots: Vec<u32> = Vec::new();
    for block in &blocks {
        roots.extend(block.roots.iter().filter(|&&r| find(&mut parent, r) == r));
    }
    let mut shells = vec![ShellTopology::default(); roots.len()];
    // One shell, the usual case: every triangle and edge is in it, nothing to number.
    let (triangle_shell, shell_of) = if roots.len() == 1 {
        shells[0].triangles = mesh.triangles.len() as u64;
        (vec![0; mesh.triangles.len()], Vec::new())
    } else {
        // Every parent is at most its child, so one forward pass leaves each vertex pointing at its root.
        for v in 0..n {
            parent[v] = parent[parent[v] as usize];
        }
        let (triangle_shell, shell_of) = number_shells(mesh, &parent, roots.len());
        for &s in &triangle_shell {
            shells[s as usize].triangles += 1;
        }
        (triangle_shell, shell_of)
    };
    let mut edges = 0;
    let mut defective: [u64; 3] = [0; 3];
    // Integer counts: the same whatever order the blocks finished in.
    for block in &blocks {
        edges += block.edges;
        for (kind, vertices) in block.defective.iter().enumerate() {
            defective[kind] += vertices.len() as u64;
            for &v in vertices {
                // A defective edge's vertex belongs to a triangle, so its root has a shell (and with
                // one shell, the map is empty and the roots are not looked up).
                let shell = if shell_of.is_empty() {
                    &mut shells[0]
                } else {
                    &mut shells[shell_of[parent[v as usize] as usize] as usize]
                };
                match kind {
                    BOUNDARY => shell.boundary_edges += 1,
                    NON_MANIFOLD => shell.non_manifold_edges += 1,
                    _ => shell.inconsistent_edges += 1,
                }
            }
        }
    }
    Topology {
        edges,
        boundary_edges: defective[BOUNDARY],
        non_manifold_edges: defective[NON_MANIFOLD],
        inconsistent_edges: defective[INCONSISTENT],
        triangle_shell,
        shells,
    }
}

const BOUNDARY: usize = 0;
const NON_MANIFOLD: usize = 1;
const INCONSISTENT: usize = 2;

/// What one group of vertices contributes.
#[derive(Debug, Default)]
struct Block {
    edges: u64,
    /// Lower vertex of every boundary, non-manifold and inconsistent edge.
    defective: [Vec<u32>; 3],
    /// Edges to a vertex of a later group, for the union of components across groups.
    cross: Vec<(u32, u32)>,
    /// The lowest vertex of each component within the group. A component's lowest vertex is the
    /// lower end of one of its edges, so a vertex no edge starts from is never listed: one used by no
    /// triangle is no shell, and one whose edges all come from earlier groups joins their component.
    roots: Vec<u32>,
}

type Range = std::ops::Range<usize>;

/// The reach of a block no triangle reaches: any triangle index widens it.
#[allow(clippy::reversed_empty_ranges)]
const UNREACHED: Range = usize::MAX..0;

/// The smallest range holding both; [`UNREACHED`] holds nothing, so it changes nothing.
fn cover(a: Range, b: &Range) -> Range {
    a.start.min(b.start)..a.end.max(b.end)
}

/// Triangles between two runs reaching the same block that are scanned rather than split the reach.
const REACH_GAP: usize = 1 << 16;

/// The triangles that reach a block: the run where it first appears, and everything from the next run
/// on. A closed ring's first block is reached again only by its last triangles, and without the split
/// its scan would cover the whole mesh.
#[derive(Debug, Clone, PartialEq)]
struct Reach {
    head: Range,
    tail: Range,
}

impl Reach {
    const NONE: Reach = Reach {
        head: UNREACHED,
        tail: UNREACHED,
    };

    /// Adds a run of triangles that comes after every run added so far.
    fn add(&mut self, run: Range) {
        if self.head.is_empty() {
            self.head = run;
        } else if self.tail.is_empty() && run.start <= self.head.end + REACH_GAP {
            self.head.end = run.end;
        } else {
            self.tail = cover(self.tail.clone(), &run);
        }
    }

    /// Adds the runs of a reach whose triangles all come after this one's.
    fn extend(&mut self, later: Reach) {
        for run in [later.head, later.tail] {
            if !run.is_empty() {
                self.add(run);
            }
        }
    }

    fn len(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    /// One range over both runs, for a group of blocks.
    fn hull(&self) -> Range {
        cover(self.head.clone(), &self.tail)
    }
}

/// For each block of `1 << BLOCK_BITS` vertices, the triangles that give it half-edges (those with their
/// lowest or middle vertex in it: the highest vertex is never the lower end of an edge), as the range
/// from the first such triangle to the last; empty for a block no edge starts in. Vertices are numbered
/// by first appearance for most formats, so a block's triangles lie together and the ranges barely
/// overlap.
fn block_reach(mesh: &Mesh, vertices: usize) -> Vec<Reach> {
    use rayon::prelude::*;
    let blocks = vertices.div_ceil(1 << BLOCK_BITS).max(1);
    let part = mesh.triangles.len().div_ceil(8).max(1);
    mesh.triangles
        .par_chunks(part)
        .enumerate()
        .map(|(p, triangles)| {
            let mut reach = vec![Reach::NONE; blocks];
            // Consecutive triangles mostly reach the same block: the run is kept aside and written
            // when the block changes, not read back from memory twice a triangle.
            let (mut block, mut run) = (usize::MAX, UNREACHED);
            for (i, &[a, b, c]) in triangles.iter().enumerate() {
                let index = p * part + i;
                let (lo, hi) = (a.min(b).min(c), a.max(b).max(c));
                for v in [lo, a ^ b ^ c ^ lo ^ hi] {
                    let reached = (v >> BLOCK_BITS) as usize;
                    if reached != block {
                        if let Some(r) = reach.get_mut(block) {
                            r.add(run.clone());
                        }
                        (block, run.start) = (reached, index);
                    }
                    run.end = index + 1;
                }
            }
            if let Some(r) = reach.get_mut(block) {
                r.add(run);
            }
            reach
        })
        .reduce_with(|mut a, b| {
            for (x, y) in a.iter_mut().zip(b) {
                x.extend(y);
            }
            a
        })
        .unwrap_or_default()
}

/// The work units of the edge classification: (vertex range, triangles that reach it), tiling the
/// vertices in order. Single blocks when the triangles they reach add up to at most three times the mesh;
/// otherwise blocks are grouped by doubling, so a mesh without locality does not scan its triangles once
/// per block.
fn groups(reach: &[Reach], triangles: usize, vertices: usize) -> Vec<(Range, Reach)> {
    let mut size = 1usize;
    loop {
        let grouped: Vec<(Range, Reach)> = reach
            .chunks(size)
            .enumerate()
            .map(|(g, blocks)| {
                let first = ((g * size) << BLOCK_BITS).min(vertices);
                let last = (((g + 1) * size) << BLOCK_BITS).min(vertices);
                let tris = match blocks {
                    [one] => one.clone(),
                    _ => Reach {
                        head: blocks.iter().fold(UNREACHED, |a, r| cover(a, &r.hull())),
                        tail: UNREACHED,
                    },
                };
                (first..last, tris)
            })
            .collect();
        let scanned: usize = grouped.iter().map(|(_, t)| t.len()).sum();
        if scanned <= 3 * triangles || grouped.len() <= MAX_SPREAD_GROUPS {
            return grouped;
        }
        size *= 2;
    }
}

thread_local! {
    /// Each rayon thread's counts and half-edge lists, reused from block to block: fresh memory costs a
    /// page fault per 4 KiB.
    static SCRATCH: std::cell::RefCell<(Vec<u32>, Vec<u32>)> = const {
        std::cell::RefCell::new((Vec::new(), Vec::new()))
    };
}

/// Classifies every edge whose lower vertex is in `vertices`, from the triangles in `triangles` (which
/// hold all of them): its half-edges are counted per lower vertex, gathered into a compressed adjacency
/// list and sorted. Also joins the group's vertices along those edges: `parent[i]` becomes the lowest
/// vertex of vertex `first + i`'s component within the group.
fn classify_block(mesh: &Mesh, vertices: Range, reach: Reach, parent: &mut [u32]) -> Block {
    let (first, len) = (vertices.start, vertices.len());
    let local = |v: u32| (v as usize).wrapping_sub(first);
    let runs = [reach.head, reach.tail].map(|r| mesh.triangles.get(r).unwrap_or_default());
    let triangles = || runs.iter().flat_map(|run| run.iter());
    // end[i + 1] counts vertex first+i's half-edges; after the prefix sum and the fill, end[i] is where its
    // list ends (and so where the next one starts).
    let (mut end, mut other) = SCRATCH.with(|s| s.take());
    end.clear();
    end.resize(len + 1, 0);
    for t in triangles() {
        for (a, b) in half_edges(*t) {
            let i = local(a.min(b));
            if i < len {
                end[i + 1] += 1;
            }
        }
    }
    let mut total = 0u32;
    for e in end.iter_mut() {
        total += *e;
        *e = total;
    }
    other.clear();
    other.resize(total as usize, 0);
    for t in triangles() {
        for (a, b) in half_edges(*t) {
            // Without a branch: which way an edge runs is a coin toss to the predictor.
            let (lo, hi, dir) = (a.min(b), a.max(b), u32::from(a > b) * DIR_BIT);
            let i = local(lo);
            if i < len {
                other[end[i] as usize] = (hi << 1) | dir;
                end[i] += 1;
            }
        }
    }

    let mut block = Block::default();
    for (i, p) in parent.iter_mut().enumerate() {
        *p = i as u32;
    }
    // Joins vertex first+i, whose root is `*root`, to `hi`: the root is found once per vertex, not per
    // edge, and an upper vertex met for the first time is still its own root, so it is one store.
    let join = |parent: &mut [u32], i: usize, root: &mut u32, hi: u32, block: &mut Block| {
        let h = local(hi);
        if h >= len {
            block.cross.push(((first + i) as u32, hi));
            return;
        }
        // Most upper vertices already hang straight off this root (met before), or are still alone
        // (met now): no search for either.
        let rh = match parent[h] {
            p if p == *root => return,
            p if p as usize == h => p,
            _ => find(parent, h as u32),
        };
        if rh > *root {
            parent[rh as usize] = *root;
        } else if rh < *root {
            parent[*root as usize] = rh;
            *root = rh;
        }
    };
    let mut begin = 0usize;
    for (i, &stop) in end[..len].iter().enumerate() {
        let list = &mut other[begin..stop as usize];
        begin = stop as usize;
        sort_short(list);
        let mut root = find(parent, i as u32);
        // The usual case, checked without branching per entry: every edge used once each way, which
        // sorted means pairs (hi << 1, hi << 1 | 1).
        if list.len() % 2 == 0
            && list.chunks_exact(2).fold(true, |ok, p| {
                ok & (p[0] & DIR_BIT == 0) & (p[1] == p[0] | DIR_BIT)
            })
        {
            block.edges += list.len() as u64 / 2;
            for p in list.chunks_exact(2) {
                join(parent, i, &mut root, p[0] >> 1, &mut block);
            }
            continue;
        }
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
            block.edges += 1;
            join(parent, i, &mut root, hi, &mut block);
            let kind = match forward + backward {
                1 => BOUNDARY,
                2 if forward == 1 => continue,
                2 => INCONSISTENT,
                _ => NON_MANIFOLD,
            };
            block.defective[kind].push((first + i) as u32);
        }
    }
    // Local roots to vertex ids; each is at most its vertex, as `union` keeps every parent.
    let mut start = 0;
    for v in 0..len {
        let root = find(parent, v as u32);
        parent[v] = root;
        if root as usize == v && end[v] > start {
            block.roots.push((first + v) as u32);
        }
        start = end[v];
    }
    for p in parent.iter_mut() {
        *p += first as u32;
    }
    SCRATCH.with(|s| s.replace((end, other)));
    block
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

/// The root of `x`'s tree, halving the path on the way.
fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let grand = parent[parent[x as usize] as usize];
        parent[x as usize] = grand;
        x = grand;
    }
    x
}

/// Joins the trees of `x` and `y`, the larger root under the smaller: deterministic, and every parent
/// stays at most its child, so roots are their components' lowest vertices.
fn union(parent: &mut [u32], x: u32, y: u32) {
    let (rx, ry) = (find(parent, x), find(parent, y));
    if rx != ry {
        parent[rx.max(ry) as usize] = rx.min(ry);
    }
}

/// Shells numbered by first triangle, so the numbering is deterministic, given every vertex's root and
/// how many shells there are. Returns (shell of each triangle, shell of each root).
fn number_shells(mesh: &Mesh, root: &[u32], shells: usize) -> (Vec<u32>, Vec<u32>) {
    const UNSET: u32 = u32::MAX;
    let mut shell_of = vec![UNSET; root.len()];
    let mut count = 0u32;
    let triangle_shell = mesh
        .triangles
        .iter()
        .map(|t| {
            let r = root[t[0] as usize] as usize;
            if shell_of[r] == UNSET {
                shell_of[r] = count;
                count += 1;
            }
            shell_of[r]
        })
        .collect();
    debug_assert_eq!(count as usize, shells);
    (triangle_shell, shell_of)
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
        assert_eq!(edge_counts(&t), (6, 0, 0, 0));
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

    /// (edges, boundary, non-manifold, inconsistent), as [`reference_counts`] gives them.
    fn edge_counts(t: &Topology) -> (u64, u64, u64, u64) {
        (
            t.edges,
            t.boundary_edges,
            t.non_manifold_edges,
            t.inconsistent_edges,
        )
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
        // vertex ids scrambled so that late triangles use low ids (a block must still find them).
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
        assert_eq!(edge_counts(&got), reference_counts(&triangles));
        assert!(got.boundary_edges > 0 && got.non_manifold_edges > 0 && got.inconsistent_edges > 0);
    }

    /// Shells the obvious way: a union-find over every triangle's corners, numbered by first triangle.
    fn reference_shells(triangles: &[[u32; 3]], vertices: usize) -> Vec<u32> {
        let mut parent: Vec<u32> = (0..vertices as u32).collect();
        for &[a, b, c] in triangles {
            union(&mut parent, a, b);
            union(&mut parent, b, c);
        }
        let mut shell_of = rustc_hash::FxHashMap::default();
        triangles
            .iter()
            .map(|t| {
                let next = shell_of.len() as u32;
                *shell_of.entry(find(&mut parent, t[0])).or_insert(next)
            })
            .collect()
    }

    /// Enough tetrahedra for several vertex blocks, some defective, some sharing a vertex with a far-off
    /// one (so components join across blocks), with ids in file order and then scrambled.
    #[test]
    fn blocks_match_the_references_with_and_without_locality() {
        let bodies = 3 << BLOCK_BITS >> 1;
        let vertices = 4 * bodies as usize;
        let mut triangles = Vec::new();
        for k in 0..bodies {
            let mut t = tetra(4 * k);
            match k % 7 {
                1 => t[1] = [t[1][0], t[1][2], t[1][1]],
                2 => {
                    t.pop();
                }
                3 => {
                    // Shares a corner with a body a block or more away: one shell with it.
                    let far = 4 * ((k * 40_503) % bodies);
                    for tri in t.iter_mut() {
                        for v in tri.iter_mut().filter(|v| **v == 4 * k) {
                            *v = far;
                        }
                    }
                }
                _ => {}
            }
            triangles.extend(t);
        }
        let scramble = |v: u32| ((u64::from(v) * 2_654_435_761) % vertices as u64) as u32;
        let scrambled: Vec<[u32; 3]> = triangles.iter().map(|t| t.map(scramble)).collect();
        for (name, triangles) in [("in order", triangles), ("scrambled", scrambled)] {
            let got = analyze(&mesh(triangles.clone(), vertices));
            assert_eq!(edge_counts(&got), reference_counts(&triangles), "{name}");
            let shells = reference_shells(&triangles, vertices);
            assert_eq!(got.triangle_shell, shells, "{name}");
            assert_eq!(
                got.shells.len() as u32,
                shells.iter().max().map_or(0, |m| m + 1)
            );
            assert!(
                got.shells.len() < bodies as usize,
                "{name}: no shells joined"
            );
            let per_shell: u64 = got.shells.iter().map(|s| s.boundary_edges).sum();
            assert_eq!(per_shell, got.boundary_edges, "{name}");
        }
    }

    #[test]
    fn groups_tile_the_vertices_and_widen_when_triangles_spread() {
        let block = 1usize << BLOCK_BITS;
        let vertices = 10 * block - 5;
        let reach = |head: Range| Reach {
            head,
            tail: UNREACHED,
        };
        // Local: each block reached by its own tenth of the triangles.
        let local: Vec<Reach> = (0..10).map(|b| reach(b * 100..(b + 1) * 100)).collect();
        let g = groups(&local, 1000, vertices);
        assert_eq!(g.len(), 10);
        // Spread: every block reached from the first triangle to the last.
        let spread = vec![reach(0..1000); 10];
        let g = groups(&spread, 1000, vertices);
        assert!(g.len() <= MAX_SPREAD_GROUPS);
        for g in [groups(&local, 1000, vertices), g] {
            let tiled: Vec<usize> = g.iter().flat_map(|(v, _)| v.clone()).collect();
            assert_eq!(tiled, (0..vertices).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_reach_keeps_a_late_return_apart_from_its_first_run() {
        let mut reach = Reach::NONE;
        reach.add(0..10);
        reach.add(20..30);
        let mut later = Reach::NONE;
        later.add(REACH_GAP + 100..REACH_GAP + 110);
        later.add(3 * REACH_GAP..3 * REACH_GAP + 5);
        reach.extend(later);
        assert_eq!(reach.head, 0..30);
        assert_eq!(reach.tail, REACH_GAP + 100..3 * REACH_GAP + 5);
        assert_eq!(reach.len(), 30 + 2 * REACH_GAP - 95);
        assert_eq!(reach.hull(), 0..3 * REACH_GAP + 5);
        assert_eq!(Reach::NONE.len(), 0);
        assert!(Reach::NONE.hull().is_empty());
    }
}
