//! Where a model is too thin: thin wall faces grouped into connected regions, specks left out.

use rustc_hash::FxHashMap;

use super::cast::FaceSample;
use super::report::ThinRegion;
use crate::measure::{dot, sub};
use crate::mesh::Mesh;

/// A face thin enough to be asked about, with what grouping it needs (so queries need no mesh).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WallFace {
    pub t_mm: f64,
    pub area_mm2: f64,
    pub face: u32,
    /// The face its ray left through: the other skin of the wall.
    pub hit: u32,
    pub vertices: [u32; 3],
    pub min: [f64; 3],
    pub max: [f64; 3],
    /// Lengths of the edges `v0v1`, `v1v2`, `v2v0`, for the region's perimeter.
    pub edges: [f64; 3],
}

impl WallFace {
    pub fn new(mesh: &Mesh, face: usize, sample: &FaceSample) -> Self {
        let [a, b, c] = mesh.triangle(face);
        Self {
            t_mm: sample.t_mm,
            area_mm2: sample.area_mm2,
            face: face as u32,
            hit: sample.hit,
            vertices: mesh.triangles[face],
            min: [0, 1, 2].map(|k| a[k].min(b[k]).min(c[k])),
            max: [0, 1, 2].map(|k| a[k].max(b[k]).max(c[k])),
            edges: [(a, b), (b, c), (c, a)].map(|(p, q)| {
                let d = sub(q, p);
                dot(d, d).sqrt()
            }),
        }
    }
}

/// The regions of walls thinner than `t_mm` wider than `t_mm`, and their total area (summed in the
/// walls' order, so the same bits on any thread count). `walls` is sorted thinnest first.
///
/// A region's width is `4 × area / perimeter` (its boundary: edges that only one of its faces uses):
/// the diameter of the inscribed circle for a disc or a square, and twice the width of a long strip,
/// so it errs towards calling a patch wide. A shallow ridge or groove along a band (0.1 mm tall, 0.2 mm
/// thick, 40 mm long) is then relief fed by the metal along its whole length, not a wall; a prong is
/// still one (its side is as wide as it is long), and so is a closed thin shell (no boundary at all).
pub(crate) fn thin_walls(walls: &[WallFace], t_mm: f64) -> (Vec<ThinRegion>, f64) {
    let thin = &walls[..walls.partition_point(|w| w.t_mm < t_mm)];
    let mut uf = UnionFind::new(thin.len());
    let mut by_vertex: FxHashMap<u32, u32> = FxHashMap::default();
    let by_face: FxHashMap<u32, u32> = thin
        .iter()
        .enumerate()
        .map(|(i, w)| (w.face, i as u32))
        .collect();
    for (i, w) in thin.iter().enumerate() {
        for v in w.vertices {
            let first = *by_vertex.entry(v).or_insert(i as u32);
            uf.union(first, i as u32);
        }
        if let Some(&j) = by_face.get(&w.hit) {
            uf.union(j, i as u32);
        }
    }
    // Regions numbered in walls order; each remembers its lowest face for the tie-break.
    let mut region_of_root: FxHashMap<u32, usize> = FxHashMap::default();
    let mut regions: Vec<(u32, ThinRegion)> = Vec::new();
    let mut member = vec![0usize; thin.len()];
    for (i, w) in thin.iter().enumerate() {
        let root = uf.find(i as u32);
        let r = *region_of_root.entry(root).or_insert_with(|| {
            regions.push((
                u32::MAX,
                ThinRegion {
                    min: [f64::INFINITY; 3],
                    max: [f64::NEG_INFINITY; 3],
                    area_mm2: 0.0,
                    min_thickness_mm: f64::INFINITY,
                    faces: 0,
                },
            ));
            regions.len() - 1
        });
        member[i] = r;
        let (lowest, region) = &mut regions[r];
        *lowest = (*lowest).min(w.face);
        for k in 0..3 {
            region.min[k] = region.min[k].min(w.min[k]);
            region.max[k] = region.max[k].max(w.max[k]);
        }
        region.area_mm2 += w.area_mm2;
        region.min_thickness_mm = region.min_thickness_mm.min(w.t_mm);
        region.faces += 1;
    }
    let perimeter = perimeters(thin, &member, regions.len());
    let wide: Vec<bool> = regions
        .iter()
        .zip(&perimeter)
        .map(|((_, r), &p)| {
            (0..3).any(|k| r.max[k] - r.min[k] > t_mm) && 4.0 * r.area_mm2 > t_mm * p
        })
        .collect();
    let area = thin
        .iter()
        .zip(&member)
        .filter(|(_, r)| wide[**r])
        .map(|(w, _)| w.area_mm2)
        .sum::<f64>();
    let mut kept: Vec<(u32, ThinRegion)> = regions
        .into_iter()
        .zip(wide)
        .filter_map(|(r, w)| w.then_some(r))
        .collect();
    kept.sort_by(|(fa, a), (fb, b)| b.area_mm2.total_cmp(&a.area_mm2).then(fa.cmp(fb)));
    (kept.into_iter().map(|(_, r)| r).collect(), area)
}

/// Each region's boundary length: the edges only one of its faces uses. Summed in the walls' order.
fn perimeters(thin: &[WallFace], member: &[usize], regions: usize) -> Vec<f64> {
    let mut uses: FxHashMap<(usize, u32, u32), u32> = FxHashMap::default();
    let edges = |w: &WallFace| {
        let [a, b, c] = w.vertices;
        [(a, b), (b, c), (c, a)].map(|(p, q)| (p.min(q), p.max(q)))
    };
    for (w, &r) in thin.iter().zip(member) {
        for (p, q) in edges(w) {
            *uses.entry((r, p, q)).or_insert(0) += 1;
        }
    }
    let mut perimeter = vec![0.0; regions];
    for (w, &r) in thin.iter().zip(member) {
        for ((p, q), len) in edges(w).into_iter().zip(w.edges) {
            if uses[&(r, p, q)] == 1 {
                perimeter[r] += len;
            }
        }
    }
    perimeter
}

/// Union-find over local indices, with path halving and union by index (the smaller root wins), which
/// keeps the result independent of union order.
struct UnionFind {
    parent: Vec<u32>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n as u32).collect(),
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi as usize] = lo;
        }
    }
}
