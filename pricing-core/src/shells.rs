//! What each shell (connected component) is: a solid, a cavity inside a solid, an inverted body, or a body
//! nested in or overlapping another — the distinctions a caster needs and a plain volume sum hides.

use serde::Serialize;

use crate::measure::{Aabb, Integrals, cross, dot, sub};
use crate::mesh::Mesh;
use crate::topology::ShellTopology;

/// Above this many shells, pairwise nesting tests are skipped (and a warning says so): a scan of scattered
/// triangles must not become quadratic.
pub const MAX_SHELLS_FOR_NESTING: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShellKind {
    /// Outward-facing closed body.
    Solid,
    /// Inward-facing body inside a solid: a hollow, subtracted from the volume.
    Cavity,
    /// Inward-facing body not inside any solid: the faces point the wrong way.
    Inverted,
    /// Outward-facing body inside another solid (a stone inside metal, or a duplicate): counted twice.
    Nested,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShellReport {
    pub kind: ShellKind,
    pub triangles: u64,
    pub volume_mm3: f64,
    pub area_mm2: f64,
    pub bbox_mm: Aabb,
    pub watertight: bool,
    /// Indices of other solids this one intersects (their volumes overlap and are double-counted).
    pub overlaps: Vec<usize>,
}

/// Classify shells. `integrals[i]` and `topology[i]` describe shell `i`. Returns `None` when there are too
/// many shells to test pairwise; kinds then follow the sign of the volume alone.
pub fn classify(
    mesh: &Mesh,
    triangle_shell: &[u32],
    integrals: &[(Integrals, Aabb)],
    topology: &[ShellTopology],
) -> (Vec<ShellReport>, bool) {
    let mut reports: Vec<ShellReport> = integrals
        .iter()
        .zip(topology)
        .map(|((i, b), t)| ShellReport {
            kind: if i.volume < 0.0 {
                ShellKind::Inverted
            } else {
                ShellKind::Solid
            },
            triangles: t.triangles,
            volume_mm3: i.volume,
            area_mm2: i.area,
            bbox_mm: *b,
            watertight: t.watertight(),
            overlaps: Vec::new(),
        })
        .collect();
    let n = reports.len();
    if n < 2 {
        return (reports, true);
    }
    if n > MAX_SHELLS_FOR_NESTING {
        return (reports, false);
    }

    let mut by_shell: Vec<Vec<[u32; 3]>> = vec![Vec::new(); n];
    for (t, &s) in mesh.triangles.iter().zip(triangle_shell) {
        by_shell[s as usize].push(*t);
    }
    let sample = |s: usize| mesh.positions[by_shell[s][0][0] as usize];

    let mut kinds: Vec<ShellKind> = reports.iter().map(|r| r.kind).collect();
    for inner in 0..n {
        for outer in 0..n {
            if inner == outer || reports[outer].volume_mm3 <= 0.0 || !reports[outer].watertight {
                continue;
            }
            if !reports[outer].bbox_mm.contains(&reports[inner].bbox_mm) {
                continue;
            }
            if !inside(mesh, &by_shell[outer], sample(inner)) {
                continue;
            }
            kinds[inner] = if reports[inner].volume_mm3 < 0.0 {
                ShellKind::Cavity
            } else {
                ShellKind::Nested
            };
        }
    }
    for a in 0..n {
        for b in (a + 1)..n {
            let both_solid = kinds[a] == ShellKind::Solid && kinds[b] == ShellKind::Solid;
            if !both_solid || !reports[a].bbox_mm.overlaps(&reports[b].bbox_mm) {
                continue;
            }
            let a_in_b = by_shell[a]
                .iter()
                .flatten()
                .any(|&v| inside(mesh, &by_shell[b], mesh.positions[v as usize]));
            let b_in_a = by_shell[b]
                .iter()
                .flatten()
                .any(|&v| inside(mesh, &by_shell[a], mesh.positions[v as usize]));
            if a_in_b || b_in_a {
                reports[a].overlaps.push(b);
                reports[b].overlaps.push(a);
            }
        }
    }
    for (r, k) in reports.iter_mut().zip(kinds) {
        r.kind = k;
    }
    (reports, true)
}

/// [`inside`] for a shell given by face indices.
pub(crate) fn inside_faces(mesh: &Mesh, faces: &[u32], p: [f64; 3]) -> bool {
    let triangles: Vec<[u32; 3]> = faces.iter().map(|&f| mesh.triangles[f as usize]).collect();
    inside(mesh, &triangles, p)
}

/// Point-in-closed-surface by ray parity. The ray direction is deliberately skewed so it is unlikely to
/// pass exactly through an edge or vertex of axis-aligned geometry.
fn inside(mesh: &Mesh, triangles: &[[u32; 3]], p: [f64; 3]) -> bool {
    const DIR: [f64; 3] = [
        0.573_257_428_132_8,
        0.577_350_269_189_6,
        0.581_386_473_117_5,
    ];
    let mut crossings = 0u32;
    for t in triangles {
        let [a, b, c] = t.map(|i| mesh.positions[i as usize]);
        if ray_hits(p, DIR, a, b, c) {
            crossings += 1;
        }
    }
    crossings % 2 == 1
}

/// Möller–Trumbore; hits strictly in front of the origin only, so a point on the surface is not inside.
fn ray_hits(o: [f64; 3], d: [f64; 3], a: [f64; 3], b: [f64; 3], c: [f64; 3]) -> bool {
    let e1 = sub(b, a);
    let e2 = sub(c, a);
    let pv = cross(d, e2);
    let det = dot(e1, pv);
    if det.abs() < 1e-300 {
        return false;
    }
    let inv = 1.0 / det;
    let tv = sub(o, a);
    let u = dot(tv, pv) * inv;
    if !(0.0..=1.0).contains(&u) {
        return false;
    }
    let qv = cross(tv, e1);
    let v = dot(d, qv) * inv;
    if v < 0.0 || u + v > 1.0 {
        return false;
    }
    dot(e2, qv) * inv > 1e-12
}
