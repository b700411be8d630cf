//! A bounding-volume hierarchy over a mesh's triangles, specialised for the one query wall thickness needs: the
//! nearest surface crossing along a ray that starts on one of the mesh's own faces.
//!
//! Why our own rather than parry3d's `TriMesh`: parry's ray cast goes through its generic composite-shape
//! machinery (a `Triangle` shape built per visited part, a trait-object visitor, no way to skip the start face or
//! to learn which side of the hit face the ray came from), and its builder keeps more per-triangle state. This
//! tree is a flat depth-first array of 32-byte nodes with the triangles stored pre-transformed (origin + two
//! edges) in leaf order; `benches/thickness.rs` measures it against parry and `tests/thickness_crosscheck.rs`
//! checks both agree.
//!
//! Construction is binned SAH. It is deterministic whatever the thread count: the top levels bin and split in
//! parallel, but bin counts (integer sums) and bounds (min/max) are exact under any grouping, the partition is a
//! sequential in-place pass, and subtrees are concatenated in a fixed order.

use rayon::prelude::*;

pub(crate) type V3 = [f32; 3];

/// One node of the depth-first layout. The left child of an interior node is the next node.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node {
    pub min: V3,
    /// Interior: index of the right child. Leaf: first slot in [`Bvh::tris`].
    pub a: u32,
    pub max: V3,
    /// Zero for an interior node, else the number of triangles in the leaf.
    pub count: u32,
}

/// A triangle ready for Möller–Trumbore: `v0` and the edges `v1 - v0`, `v2 - v0`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tri {
    pub v0: V3,
    pub e1: V3,
    pub e2: V3,
    pub face: u32,
}

pub(crate) struct Bvh {
    pub nodes: Vec<Node>,
    pub tris: Vec<Tri>,
}

const BINS: usize = 16;
/// A leaf may exceed the SAH optimum only when its centroids cannot be separated; this bounds it otherwise.
const MAX_LEAF: usize = 8;
/// Below this many triangles a subtree is built on the current thread: splitting further costs more in task
/// overhead and node copying than it gains.
const PARALLEL_MIN: usize = 32 * 1024;
/// Cost of visiting a node relative to one triangle test, for the SAH.
const TRAVERSAL_COST: f32 = 1.0;

#[derive(Clone, Copy)]
struct Prim {
    min: V3,
    max: V3,
}

impl Prim {
    fn centroid(&self, k: usize) -> f32 {
        (self.min[k] + self.max[k]) * 0.5
    }
}

#[derive(Clone, Copy)]
struct Aabb {
    min: V3,
    max: V3,
}

impl Aabb {
    const EMPTY: Aabb = Aabb {
        min: [f32::INFINITY; 3],
        max: [f32::NEG_INFINITY; 3],
    };

    fn grow_box(&mut self, min: &V3, max: &V3) {
        for k in 0..3 {
            self.min[k] = self.min[k].min(min[k]);
            self.max[k] = self.max[k].max(max[k]);
        }
    }

    fn merge(mut self, o: &Aabb) -> Aabb {
        self.grow_box(&o.min, &o.max);
        self
    }

    fn half_area(&self) -> f32 {
        let d = [
            self.max[0] - self.min[0],
            self.max[1] - self.min[1],
            self.max[2] - self.min[2],
        ];
        if d[0] < 0.0 {
            return 0.0;
        }
        d[0] * d[1] + d[1] * d[2] + d[2] * d[0]
    }
}

/// Bounds of the primitives and of their centroids.
#[derive(Clone, Copy)]
struct RangeBounds {
    bounds: Aabb,
    centroids: Aabb,
}

impl RangeBounds {
    const EMPTY: RangeBounds = RangeBounds {
        bounds: Aabb::EMPTY,
        centroids: Aabb::EMPTY,
    };

    fn of(prims: &[Prim], order: &[u32]) -> RangeBounds {
        let seq = |ids: &[u32]| {
            let mut r = RangeBounds::EMPTY;
            for &i in ids {
                let p = &prims[i as usize];
                r.bounds.grow_box(&p.min, &p.max);
                let c = [p.centroid(0), p.centroid(1), p.centroid(2)];
                r.centroids.grow_box(&c, &c);
            }
            r
        };
        if order.len() < PARALLEL_MIN {
            return seq(order);
        }
        order
            .par_chunks(PARALLEL_MIN / 4)
            .map(seq)
            .reduce(|| RangeBounds::EMPTY, |a, b| a.merge(&b))
    }

    fn merge(self, o: &RangeBounds) -> RangeBounds {
        RangeBounds {
            bounds: self.bounds.merge(&o.bounds),
            centroids: self.centroids.merge(&o.centroids),
        }
    }
}

#[derive(Clone, Copy)]
struct Bin {
    bounds: Aabb,
    count: u32,
}

/// Per-axis bins of one node's primitives.
#[derive(Clone, Copy)]
struct Bins([[Bin; BINS]; 3]);

impl Bins {
    const EMPTY: Bins = Bins(
        [[Bin {
            bounds: Aabb::EMPTY,
            count: 0,
        }; BINS]; 3],
    );

    fn merge(mut self, o: &Bins) -> Bins {
        for k in 0..3 {
            for b in 0..BINS {
                let (dst, src) = (&mut self.0[k][b], &o.0[k][b]);
                dst.count += src.count;
                dst.bounds = dst.bounds.merge(&src.bounds);
            }
        }
        self
    }
}

/// Maps a centroid coordinate to its bin along one axis. Shared by binning and partitioning so both agree exactly.
#[derive(Clone, Copy)]
struct Binner {
    origin: V3,
    scale: V3,
}

impl Binner {
    fn new(centroids: &Aabb) -> Binner {
        let mut scale = [0.0; 3];
        for (k, s) in scale.iter_mut().enumerate() {
            let extent = centroids.max[k] - centroids.min[k];
            if extent > 0.0 {
                // Slightly under BINS so the maximum lands in the last bin rather than one past it.
                *s = (BINS as f32 * 0.999_99) / extent;
            }
        }
        Binner {
            origin: centroids.min,
            scale,
        }
    }

    fn bin(&self, p: &Prim, k: usize) -> usize {
        let b = ((p.centroid(k) - self.origin[k]) * self.scale[k]) as usize;
        b.min(BINS - 1)
    }

    fn fill(&self, prims: &[Prim], order: &[u32]) -> Bins {
        let seq = |ids: &[u32]| {
            let mut bins = Bins::EMPTY;
            for &i in ids {
                let p = &prims[i as usize];
                for k in 0..3 {
                    let bin = &mut bins.0[k][self.bin(p, k)];
                    bin.count += 1;
                    bin.bounds.grow_box(&p.min, &p.max);
                }
            }
            bins
        };
        if order.len() < PARALLEL_MIN {
            return seq(order);
        }
        order
            .par_chunks(PARALLEL_MIN / 4)
            .map(seq)
            .reduce(|| Bins::EMPTY, |a, b| a.merge(&b))
    }
}

/// Builds the hierarchy over `faces`, whose indices must all be valid in `verts`.
pub(crate) fn build(verts: &[V3], faces: &[[u32; 3]]) -> Bvh {
    let corner = |f: &[u32; 3], i: usize| verts[f[i] as usize];
    let prims: Vec<Prim> = faces
        .par_iter()
        .map(|f| {
            let mut b = Aabb::EMPTY;
            for i in 0..3 {
                let v = corner(f, i);
                b.grow_box(&v, &v);
            }
            Prim {
                min: b.min,
                max: b.max,
            }
        })
        .collect();
    let mut order: Vec<u32> = (0..faces.len() as u32).collect();
    let mut nodes = Vec::with_capacity(faces.len() / 2 + 1);
    build_node(&prims, &mut order, 0, &mut nodes);
    drop(prims);
    let tris = order
        .par_iter()
        .map(|&face| {
            let f = &faces[face as usize];
            let (v0, v1, v2) = (corner(f, 0), corner(f, 1), corner(f, 2));
            Tri {
                v0,
                e1: [v1[0] - v0[0], v1[1] - v0[1], v1[2] - v0[2]],
                e2: [v2[0] - v0[0], v2[1] - v0[1], v2[2] - v0[2]],
                face,
            }
        })
        .collect();
    Bvh { nodes, tris }
}

/// Appends the subtree over `order` (which starts at slot `first` of the final triangle order) to `out`.
/// Indices stored in `out` are relative to the start of `out`.
fn build_node(prims: &[Prim], order: &mut [u32], first: usize, out: &mut Vec<Node>) {
    let rb = RangeBounds::of(prims, order);
    let me = out.len();
    out.push(Node {
        min: rb.bounds.min,
        a: first as u32,
        max: rb.bounds.max,
        count: order.len() as u32,
    });
    let Some(mid) = split(prims, order, &rb) else {
        return;
    };
    let parallel = order.len() >= PARALLEL_MIN;
    let (left, right) = order.split_at_mut(mid);
    out[me].count = 0;
    if parallel {
        let (l, r) = rayon::join(
            || subtree(prims, left, first),
            || subtree(prims, right, first + mid),
        );
        append(out, l);
        out[me].a = out.len() as u32;
        append(out, r);
    } else {
        build_node(prims, left, first, out);
        out[me].a = out.len() as u32;
        build_node(prims, right, first + mid, out);
    }
}

fn subtree(prims: &[Prim], order: &mut [u32], first: usize) -> Vec<Node> {
    let mut v = Vec::with_capacity(order.len() / 2 + 1);
    build_node(prims, order, first, &mut v);
    v
}

fn append(out: &mut Vec<Node>, sub: Vec<Node>) {
    let base = out.len() as u32;
    out.extend(sub.into_iter().map(|mut n| {
        if n.count == 0 {
            n.a += base;
        }
        n
    }));
}

/// Chooses a split by binned SAH and partitions `order` in place; `None` makes the node a leaf.
fn split(prims: &[Prim], order: &mut [u32], rb: &RangeBounds) -> Option<usize> {
    let n = order.len();
    if n <= 2 {
        return None;
    }
    let binner = Binner::new(&rb.centroids);
    let bins = binner.fill(prims, order);
    let mut best: Option<(usize, usize, f32)> = None;
    for k in 0..3 {
        if binner.scale[k] == 0.0 {
            continue;
        }
        let axis = &bins.0[k];
        // right_cost[s]: SAH term of bins s.. ; evaluated as a suffix sweep.
        let mut right = [(0u32, 0.0f32); BINS];
        let (mut acc, mut cnt) = (Aabb::EMPTY, 0u32);
        for s in (1..BINS).rev() {
            acc = acc.merge(&axis[s].bounds);
            cnt += axis[s].count;
            right[s] = (cnt, acc.half_area());
        }
        let (mut acc, mut cnt) = (Aabb::EMPTY, 0u32);
        for s in 1..BINS {
            acc = acc.merge(&axis[s - 1].bounds);
            cnt += axis[s - 1].count;
            let (rc, ra) = right[s];
            if cnt == 0 || rc == 0 {
                continue;
            }
            let cost = cnt as f32 * acc.half_area() + rc as f32 * ra;
            if best.is_none_or(|(_, _, c)| cost < c) {
                best = Some((k, s, cost));
            }
        }
    }
    let leaf_cost = n as f32 * rb.bounds.half_area();
    match best {
        Some((k, s, cost)) if n > MAX_LEAF || TRAVERSAL_COST * rb.bounds.half_area() + cost < leaf_cost => {
            Some(partition(order, |i| binner.bin(&prims[i as usize], k) < s))
        }
        // All centroids coincide (duplicated faces): split by position in the order to keep leaves small.
        None if n > MAX_LEAF => Some(n / 2),
        _ => None,
    }
}

/// Moves the elements satisfying `left` to the front, returning how many there are.
fn partition(order: &mut [u32], left: impl Fn(u32) -> bool) -> usize {
    let (mut i, mut j) = (0, order.len());
    while i < j {
        if left(order[i]) {
            i += 1;
        } else {
            j -= 1;
            order.swap(i, j);
        }
    }
    i
}
