//! Where a model is too thin: thin faces grouped into connected regions.

use super::frame::{cross, dot, sub};
use super::report::ThinRegion;
use crate::mesh::Mesh;

pub(crate) fn thin_regions(
    mesh: &Mesh,
    face_mm: &[f64],
    face_hit: &[u32],
    t_mm: f64,
) -> Vec<ThinRegion> {
    if face_mm.len() != mesh.triangles.len() || face_hit.len() != face_mm.len() {
        return Vec::new();
    }
    let nv = mesh.positions.len();
    let thin: Vec<usize> = (0..face_mm.len()).filter(|&f| face_mm[f] < t_mm).collect();
    let valid = |f: usize| mesh.triangles[f].iter().all(|&v| (v as usize) < nv);
    let mut uf = UnionFind::new(nv);
    for &f in &thin {
        if valid(f) {
            let [a, b, c] = mesh.triangles[f];
            uf.union(a, b);
            uf.union(a, c);
            let g = face_hit[f] as usize;
            if g < face_mm.len() && face_mm[g] < t_mm && valid(g) {
                uf.union(a, mesh.triangles[g][0]);
            }
        }
    }
    // Regions numbered by their lowest face, so accumulation order (and thus every sum) is fixed.
    let mut region_of_root = vec![u32::MAX; nv];
    let mut regions: Vec<(usize, ThinRegion)> = Vec::new();
    for &f in &thin {
        if !valid(f) {
            continue;
        }
        let tri = mesh.triangles[f];
        let root = uf.find(tri[0]) as usize;
        if region_of_root[root] == u32::MAX {
            region_of_root[root] = regions.len() as u32;
            regions.push((
                f,
                ThinRegion {
                    min: [f64::INFINITY; 3],
                    max: [f64::NEG_INFINITY; 3],
                    area_mm2: 0.0,
                    min_thickness_mm: f64::INFINITY,
                    faces: 0,
                },
            ));
        }
        let r = &mut regions[region_of_root[root] as usize].1;
        let [a, b, c] = tri.map(|v| mesh.positions[v as usize]);
        for p in [a, b, c] {
            for k in 0..3 {
                r.min[k] = r.min[k].min(p[k]);
                r.max[k] = r.max[k].max(p[k]);
            }
        }
        let n = cross(&sub(&b, &a), &sub(&c, &a));
        r.area_mm2 += 0.5 * dot(&n, &n).sqrt();
        r.min_thickness_mm = r.min_thickness_mm.min(face_mm[f]);
        r.faces += 1;
    }
    regions.sort_by(|(fa, a), (fb, b)| b.area_mm2.total_cmp(&a.area_mm2).then(fa.cmp(fb)));
    regions.into_iter().map(|(_, r)| r).collect()
}

/// Union-find over vertex indices, with path halving and union by index (the smaller root wins), which keeps
/// the result independent of union order.
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
