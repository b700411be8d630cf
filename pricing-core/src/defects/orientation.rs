//! Orientation repair of closed, edge-manifold shells whose faces disagree about inside and outside.
//!
//! Such a shell's outside is known without guessing: every edge joins exactly two faces, so walking the
//! faces breadth-first and turning each neighbour to walk the shared edge the other way makes the shell
//! consistent (unless the surface is one-sided, which no solid is: then nothing is changed). The
//! consistent shell then faces outwards when its signed volume is positive, or inwards when it lies
//! inside another closed shell (a cavity). Open or non-manifold shells are never touched: there the
//! inside is a guess, and they keep their flags. This is what admesh and trimesh's `fix_winding` do.

use std::collections::VecDeque;

use super::{EdgeMap, HalfEdge, faces_by_shell};
use crate::measure::{cross, dot, sub};
use crate::mesh::Mesh;
use crate::shells;
use crate::topology::Topology;

/// What a repair changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrientationRepair {
    /// Shells made consistent.
    pub shells: u64,
    /// Faces whose winding was reversed.
    pub faces_turned: u64,
}

/// True when some shell can be repaired: closed and edge-manifold, with inconsistent edges.
pub fn needed(topo: &Topology) -> bool {
    topo.shells.iter().any(repairable)
}

fn repairable(s: &crate::topology::ShellTopology) -> bool {
    s.boundary_edges == 0 && s.non_manifold_edges == 0 && s.inconsistent_edges > 0
}

/// Reorient every repairable shell of `mesh` in place. `topo` must describe `mesh`.
pub fn repair(mesh: &mut Mesh, topo: &Topology) -> OrientationRepair {
    let mut out = OrientationRepair::default();
    let (faces, start) = faces_by_shell(&topo.triangle_shell, topo.shells.len());
    let shell_faces = |s: usize| &faces[start[s]..start[s + 1]];
    for (s, shell) in topo.shells.iter().enumerate() {
        if !repairable(shell) {
            continue;
        }
        let members = shell_faces(s);
        let Some(turn) = consistent_turns(mesh, members) else {
            continue;
        };
        // Which way the consistent shell faces: outwards, unless it sits inside another closed shell.
        let volume = signed_volume(mesh, members, &turn);
        let others: Vec<&[u32]> = (0..topo.shells.len())
            .filter(|&o| o != s && topo.shells[o].watertight())
            .map(shell_faces)
            .collect();
        let probe = mesh.positions[mesh.triangles[members[0] as usize][0] as usize];
        let depth = others
            .iter()
            .filter(|o| shells::inside_faces(mesh, o, probe))
            .count();
        let want_positive = depth % 2 == 0;
        let flip_all = (volume > 0.0) != want_positive;
        for (&f, &t) in members.iter().zip(&turn) {
            if t != flip_all {
                let tri = &mut mesh.triangles[f as usize];
                tri.swap(1, 2);
                out.faces_turned += 1;
            }
        }
        out.shells += 1;
    }
    out
}

/// For each face of a closed manifold shell, whether to turn it so all agree with the first face;
/// `None` when the surface is one-sided (no consistent orientation exists).
fn consistent_turns(mesh: &Mesh, members: &[u32]) -> Option<Vec<bool>> {
    let local: rustc_hash::FxHashMap<u32, usize> =
        members.iter().enumerate().map(|(i, &f)| (f, i)).collect();
    let map = EdgeMap::of(mesh, members);
    let mut turn: Vec<Option<bool>> = vec![None; members.len()];
    let mut queue = VecDeque::new();
    turn[0] = Some(false);
    queue.push_back(0usize);
    while let Some(i) = queue.pop_front() {
        let f = members[i];
        let t = mesh.triangles[f as usize];
        let turned = turn[i].unwrap_or(false);
        for k in 0..3 {
            let (a, b) = (t[k], t[(k + 1) % 3]);
            let mine = (a < b) != turned;
            for &HalfEdge {
                face: g, forward, ..
            } in map.users(a, b)
            {
                if g == f {
                    continue;
                }
                let Some(&j) = local.get(&g) else {
                    continue;
                };
                // The neighbour must walk the edge the other way.
                let needs = forward == mine;
                match turn[j] {
                    None => {
                        turn[j] = Some(needs);
                        queue.push_back(j);
                    }
                    Some(have) if have != needs => return None,
                    Some(_) => {}
                }
            }
        }
    }
    // A shell is connected by definition, so the walk reaches every face.
    Some(turn.into_iter().map(|t| t.unwrap_or(false)).collect())
}

fn signed_volume(mesh: &Mesh, members: &[u32], turn: &[bool]) -> f64 {
    let origin = mesh.positions[mesh.triangles[members[0] as usize][0] as usize];
    members
        .iter()
        .zip(turn)
        .map(|(&f, &t)| {
            let [a, b, c] = mesh.triangle(f as usize).map(|p| sub(p, origin));
            let v = dot(a, cross(b, c)) / 6.0;
            if t { -v } else { v }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology;

    fn cube() -> Mesh {
        let positions = (0..8)
            .map(|i| [(i & 1) as f64, ((i >> 1) & 1) as f64, ((i >> 2) & 1) as f64])
            .collect();
        // Outward-facing quads split into triangles.
        let quads = [
            [0, 2, 3, 1],
            [4, 5, 7, 6],
            [0, 1, 5, 4],
            [2, 6, 7, 3],
            [0, 4, 6, 2],
            [1, 3, 7, 5],
        ];
        let triangles = quads
            .iter()
            .flat_map(|q| [[q[0], q[1], q[2]], [q[0], q[2], q[3]]])
            .collect();
        Mesh {
            positions,
            triangles,
        }
    }

    fn volume(mesh: &Mesh) -> f64 {
        let all: Vec<u32> = (0..mesh.triangles.len() as u32).collect();
        signed_volume(mesh, &all, &vec![false; all.len()])
    }

    #[test]
    fn turned_faces_are_turned_back_and_the_shell_faces_out() {
        let good = cube();
        assert!((volume(&good) - 1.0).abs() < 1e-12);
        // Which faces are flipped; the repair must turn exactly those back, whichever side the walk
        // starts on (face 0 is the start: among the wrong ones in the last two cases).
        let cases: [&[usize]; 4] = [
            &[3],
            &[5, 7, 9],
            &[0, 1, 2, 3, 4, 5, 6],
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        ];
        for flipped in cases {
            let turned = flipped.len() as u64;
            let mut mesh = good.clone();
            for &f in flipped {
                mesh.triangles[f].swap(1, 2);
            }
            let topo = topology::analyze(&mesh);
            assert!(needed(&topo), "{flipped:?}");
            let r = repair(&mut mesh, &topo);
            assert_eq!(
                r,
                OrientationRepair {
                    shells: 1,
                    faces_turned: turned
                },
                "{flipped:?}"
            );
            assert!((volume(&mesh) - 1.0).abs() < 1e-12, "{flipped:?}");
            assert!(topology::analyze(&mesh).watertight(), "{flipped:?}");
        }
    }

    #[test]
    fn open_or_consistent_shells_are_left_alone() {
        let mut open = cube();
        open.triangles.truncate(10);
        open.triangles[0].swap(1, 2);
        let topo = topology::analyze(&open);
        assert!(!needed(&topo));
        let before = open.clone();
        assert_eq!(repair(&mut open, &topo), OrientationRepair::default());
        assert_eq!(open, before);

        // Wholly inside out but consistent: not a winding repair (it is reported as inverted).
        let mut inverted = cube();
        for t in &mut inverted.triangles {
            t.swap(1, 2);
        }
        assert!(!needed(&topology::analyze(&inverted)));
    }

    #[test]
    fn a_repaired_shell_inside_another_becomes_a_cavity() {
        let outer = cube();
        let mut mesh = outer.clone();
        // A smaller cube inside, mostly facing out (wrong for a cavity) with one face turned.
        let base = mesh.positions.len() as u32;
        mesh.positions
            .extend(outer.positions.iter().map(|p| p.map(|x| 0.25 + 0.5 * x)));
        let mut inner: Vec<[u32; 3]> = outer
            .triangles
            .iter()
            .map(|t| t.map(|v| v + base))
            .collect();
        inner[4].swap(1, 2);
        mesh.triangles.extend(inner);
        let topo = topology::analyze(&mesh);
        let r = repair(&mut mesh, &topo);
        assert_eq!(r.shells, 1);
        assert_eq!(r.faces_turned, 11, "the inner shell now faces inwards");
        assert!((volume(&mesh) - (1.0 - 0.125)).abs() < 1e-12);
    }
}
