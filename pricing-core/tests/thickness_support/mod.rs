//! Meshes shared by the wall-thickness tests: an icosphere and a torus built from their definitions.
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::HashMap;
use std::f64::consts::PI;

use pricing_core::mesh::Mesh;

/// Icosahedron subdivided `levels` times, every vertex on the unit sphere, outward CCW.
pub fn unit_icosphere(levels: u32) -> Mesh {
    let t = (1.0 + 5f64.sqrt()) / 2.0;
    let mut unit: Vec<[f64; 3]> = [
        [-1.0, t, 0.0],
        [1.0, t, 0.0],
        [-1.0, -t, 0.0],
        [1.0, -t, 0.0],
        [0.0, -1.0, t],
        [0.0, 1.0, t],
        [0.0, -1.0, -t],
        [0.0, 1.0, -t],
        [t, 0.0, -1.0],
        [t, 0.0, 1.0],
        [-t, 0.0, -1.0],
        [-t, 0.0, 1.0],
    ]
    .map(normalise)
    .to_vec();
    let mut faces: Vec<[u32; 3]> = vec![
        [0, 11, 5],
        [0, 5, 1],
        [0, 1, 7],
        [0, 7, 10],
        [0, 10, 11],
        [1, 5, 9],
        [5, 11, 4],
        [11, 10, 2],
        [10, 7, 6],
        [7, 1, 8],
        [3, 9, 4],
        [3, 4, 2],
        [3, 2, 6],
        [3, 6, 8],
        [3, 8, 9],
        [4, 9, 5],
        [2, 4, 11],
        [6, 2, 10],
        [8, 6, 7],
        [9, 8, 1],
    ];
    for _ in 0..levels {
        let mut mid: HashMap<(u32, u32), u32> = HashMap::new();
        let mut next = Vec::with_capacity(faces.len() * 4);
        for [a, b, c] in faces {
            let mut m = |p: u32, q: u32| {
                *mid.entry((p.min(q), p.max(q))).or_insert_with(|| {
                    let (x, y) = (unit[p as usize], unit[q as usize]);
                    unit.push(normalise([x[0] + y[0], x[1] + y[1], x[2] + y[2]]));
                    unit.len() as u32 - 1
                })
            };
            let (ab, bc, ca) = (m(a, b), m(b, c), m(c, a));
            next.extend([[a, ab, ca], [b, bc, ab], [c, ca, bc], [ab, bc, ca]]);
        }
        faces = next;
    }
    Mesh {
        positions: unit,
        triangles: faces,
    }
}

pub fn normalise(p: [f64; 3]) -> [f64; 3] {
    let l = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt();
    p.map(|c| c / l)
}

/// Torus about z, major radius `big`, tube radius `a`, `nu × nv` quads, outward CCW.
pub fn torus(big: f64, a: f64, nu: u32, nv: u32) -> Mesh {
    let mut positions = Vec::new();
    for i in 0..nu {
        let u = 2.0 * PI * f64::from(i) / f64::from(nu);
        for j in 0..nv {
            let v = 2.0 * PI * f64::from(j) / f64::from(nv);
            let r = big + a * v.cos();
            positions.push([r * u.cos(), r * u.sin(), a * v.sin()]);
        }
    }
    let id = |i: u32, j: u32| (i % nu) * nv + (j % nv);
    let mut triangles = Vec::new();
    for i in 0..nu {
        for j in 0..nv {
            let (p, q, r, s) = (id(i, j), id(i + 1, j), id(i + 1, j + 1), id(i, j + 1));
            triangles.extend([[p, q, r], [p, r, s]]);
        }
    }
    Mesh {
        positions,
        triangles,
    }
}
