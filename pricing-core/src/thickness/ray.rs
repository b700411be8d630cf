//! Nearest-hit ray query against [`Bvh`].

use super::bvh::{Bvh, Child, Node, Tri, V3, WIDTH};

/// The nearest surface crossing along a ray.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Hit {
    pub t: f32,
    pub face: u32,
    /// Whether the ray crosses the hit face from its back to its front, i.e. leaves the solid through it. A
    /// ray cast inward that first crosses a face front-to-back travelled through empty space instead.
    pub exits: bool,
    /// Cosine of the angle between the ray and the hit face's normal (`e1 × e2`), from the triangle the
    /// test just read, so classifying the hit needs no second look at the mesh.
    pub cos: f32,
}

/// Barycentric slack, so a ray through the shared edge of two triangles cannot slip between them through `f32`
/// rounding. Overlap only ever adds a second hit at the same distance, which the nearest-hit search absorbs.
const BARY_EPS: f32 = 1e-6;

/// Traversal stack reused across the rays of one work chunk: subtrees still to visit and their entry distance.
pub(crate) type Stack = Vec<(Child, f32)>;

impl Bvh {
    /// Nearest crossing with any face but `skip` at a distance in `(t_min, ∞)`; `d` must be unit length for `t`
    /// to be a distance.
    pub(crate) fn nearest_hit(
        &self,
        o: V3,
        d: V3,
        skip: u32,
        t_min: f32,
        stack: &mut Stack,
    ) -> Option<Hit> {
        // An exactly axis-parallel ray would give 0 × ∞ = NaN for a box plane through its origin; a tiny stand-in
        // keeps such a box "entered at 0", which is the conservative answer.
        let inv = d.map(|c| 1.0 / if c.abs() < 1e-30 { 1e-30 } else { c });
        let ray = SlabRay {
            inv,
            oi: [o[0] * inv[0], o[1] * inv[1], o[2] * inv[2]],
            // Which box corner is near on each axis depends only on the direction's sign.
            neg: inv.map(|c| c < 0.0),
        };
        let mut best: Option<Hit> = None;
        let mut best_t = f32::INFINITY;
        stack.clear();
        let t_root = ray.enter(&self.root_lo, &self.root_hi, best_t)?;
        stack.push((self.root, t_root));
        while let Some((mut c, t_enter)) = stack.pop() {
            if t_enter >= best_t {
                continue;
            }
            loop {
                if c.count > 0 {
                    let first = c.index as usize;
                    for tri in &self.tris[first..first + c.count as usize] {
                        if tri.face == skip {
                            continue;
                        }
                        if let Some((t, det)) = intersect(tri, &o, &d)
                            && t > t_min
                            && t < best_t
                        {
                            best_t = t;
                            let n = cross(&tri.e1, &tri.e2);
                            best = Some(Hit {
                                t,
                                face: tri.face,
                                exits: det < 0.0,
                                // det = e1 · (d × e2) = −d · (e1 × e2)
                                cos: -det / dot(&n, &n).sqrt(),
                            });
                        }
                    }
                    break;
                }
                let node = &self.nodes[c.index as usize];
                let t = ray.enter4(node, best_t);
                // Children the ray enters, nearest first (ties keep lane order).
                let mut hits = [(0.0f32, Child::NONE); WIDTH];
                let mut n = 0;
                for lane in 0..WIDTH {
                    if t[lane] < f32::INFINITY && node.child[lane] != Child::NONE {
                        let mut j = n;
                        while j > 0 && hits[j - 1].0 > t[lane] {
                            hits[j] = hits[j - 1];
                            j -= 1;
                        }
                        hits[j] = (t[lane], node.child[lane]);
                        n += 1;
                    }
                }
                if n == 0 {
                    break;
                }
                for &(t, child) in hits[1..n].iter().rev() {
                    stack.push((child, t));
                }
                c = hits[0].1;
            }
        }
        best
    }
}

/// A ray prepared for slab tests: `oi` is origin × `inv`, hoisted out of the per-box work.
struct SlabRay {
    inv: V3,
    oi: V3,
    /// Per axis, whether the direction is negative (the box's `hi` plane is then the near one).
    neg: [bool; 3],
}

impl SlabRay {
    /// Distance at which the ray enters the box `[lo, hi]`, if it does so before `t_max`.
    fn enter(&self, lo: &V3, hi: &V3, t_max: f32) -> Option<f32> {
        let lo4 = [0, 1, 2].map(|k| [lo[k]; WIDTH]);
        let hi4 = [0, 1, 2].map(|k| [hi[k]; WIDTH]);
        let t = self.enter_lanes(&lo4, &hi4, t_max)[0];
        (t < f32::INFINITY).then_some(t)
    }

    #[inline(always)]
    fn enter4(&self, n: &Node, t_max: f32) -> [f32; WIDTH] {
        self.enter_lanes(&n.lo, &n.hi, t_max)
    }

    /// Entry distance into each of four boxes, `+∞` for those the ray misses before `t_max`. Written lane by
    /// lane over fixed-size arrays so it compiles to 4-wide SSE; comparisons rather than `f32::min` because NaN
    /// cannot occur (see the 1e-30 stand-in) and they map to single instructions.
    #[inline(always)]
    fn enter_lanes(
        &self,
        lo: &[[f32; WIDTH]; 3],
        hi: &[[f32; WIDTH]; 3],
        t_max: f32,
    ) -> [f32; WIDTH] {
        let mut t0 = [0.0f32; WIDTH];
        let mut t1 = [t_max; WIDTH];
        for k in 0..3 {
            let (near, far) = if self.neg[k] {
                (&hi[k], &lo[k])
            } else {
                (&lo[k], &hi[k])
            };
            for i in 0..WIDTH {
                let a = near[i] * self.inv[k] - self.oi[k];
                let b = far[i] * self.inv[k] - self.oi[k];
                t0[i] = if a > t0[i] { a } else { t0[i] };
                t1[i] = if b < t1[i] { b } else { t1[i] };
            }
        }
        let mut out = [f32::INFINITY; WIDTH];
        for i in 0..WIDTH {
            if t0[i] <= t1[i] {
                out[i] = t0[i];
            }
        }
        out
    }
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
