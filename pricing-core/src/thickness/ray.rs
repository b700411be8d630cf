//! Nearest-hit ray query against [`Bvh`].

use super::bvh::{Bvh, Node, Tri, V3};

/// The nearest surface crossing along a ray.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Hit {
    pub t: f32,
    pub face: u32,
    /// Whether the ray crosses the hit face from its back to its front, i.e. leaves the solid through it. A
    /// ray cast inward that first crosses a face front-to-back travelled through empty space instead.
    pub exits: bool,
}

/// Barycentric slack, so a ray through the shared edge of two triangles cannot slip between them through `f32`
/// rounding. Overlap only ever adds a second hit at the same distance, which the nearest-hit search absorbs.
const BARY_EPS: f32 = 1e-6;

/// Traversal stack reused across the rays of one work chunk.
pub(crate) type Stack = Vec<(u32, f32)>;

impl Bvh {
    /// Nearest crossing with any face but `skip` at a distance in `(t_min, ∞)`; `d` must be unit length for `t`
    /// to be a distance.
    pub(crate) fn nearest_hit(&self, o: V3, d: V3, skip: u32, t_min: f32, stack: &mut Stack) -> Option<Hit> {
        // An exactly axis-parallel ray would give 0 × ∞ = NaN for a box plane through its origin; a tiny stand-in
        // keeps such a box "entered at 0", which is the conservative answer.
        let inv = d.map(|c| 1.0 / if c.abs() < 1e-30 { 1e-30 } else { c });
        let mut best: Option<Hit> = None;
        let mut best_t = f32::INFINITY;
        stack.clear();
        let root = self.nodes.first()?;
        let Some(t_root) = enter(root, &o, &inv, best_t) else {
            return None;
        };
        stack.push((0, t_root));
        while let Some((mut idx, t_enter)) = stack.pop() {
            if t_enter >= best_t {
                continue;
            }
            loop {
                let node = &self.nodes[idx as usize];
                if node.count > 0 {
                    let first = node.a as usize;
                    for tri in &self.tris[first..first + node.count as usize] {
                        if tri.face == skip {
                            continue;
                        }
                        if let Some((t, det)) = intersect(tri, &o, &d)
                            && t > t_min
                            && t < best_t
                        {
                            best_t = t;
                            best = Some(Hit {
                                t,
                                face: tri.face,
                                exits: det < 0.0,
                            });
                        }
                    }
                    break;
                }
                let (l, r) = (idx + 1, node.a);
                let tl = enter(&self.nodes[l as usize], &o, &inv, best_t);
                let tr = enter(&self.nodes[r as usize], &o, &inv, best_t);
                idx = match (tl, tr) {
                    (Some(a), Some(b)) if a <= b => {
                        stack.push((r, b));
                        l
                    }
                    (Some(a), Some(_)) => {
                        stack.push((l, a));
                        r
                    }
                    (Some(_), None) => l,
                    (None, Some(_)) => r,
                    (None, None) => break,
                };
            }
        }
        best
    }
}

/// Distance at which the ray enters `n`'s box, if it does so before `t_max`.
#[inline(always)]
fn enter(n: &Node, o: &V3, inv: &V3, t_max: f32) -> Option<f32> {
    let mut t0 = 0.0f32;
    let mut t1 = t_max;
    for k in 0..3 {
        let a = (n.min[k] - o[k]) * inv[k];
        let b = (n.max[k] - o[k]) * inv[k];
        t0 = t0.max(a.min(b));
        t1 = t1.min(a.max(b));
    }
    (t0 <= t1).then_some(t0)
}

/// Two-sided Möller–Trumbore: distance along the ray and the determinant, whose sign gives the side crossed
/// (negative: the ray runs along the face normal `e1 × e2`).
#[inline(always)]
fn intersect(tri: &Tri, o: &V3, d: &V3) -> Option<(f32, f32)> {
    let p = cross(d, &tri.e2);
    let det = dot(&tri.e1, &p);
    if det == 0.0 || !det.is_finite() {
        return None;
    }
    let inv = 1.0 / det;
    let s = [o[0] - tri.v0[0], o[1] - tri.v0[1], o[2] - tri.v0[2]];
    let u = dot(&s, &p) * inv;
    if !(-BARY_EPS..=1.0 + BARY_EPS).contains(&u) {
        return None;
    }
    let q = cross(&s, &tri.e1);
    let v = dot(d, &q) * inv;
    if v < -BARY_EPS || u + v > 1.0 + BARY_EPS {
        return None;
    }
    Some((dot(&tri.e2, &q) * inv, det))
}

#[inline(always)]
fn cross(a: &V3, b: &V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

#[inline(always)]
fn dot(a: &V3, b: &V3) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
