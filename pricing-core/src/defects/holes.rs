//! The holes of an open surface: its boundary edges chained into closed loops, so a customer is told
//! how many holes to close and how large the largest is, not a count of edges.

use super::EdgeMap;
use crate::measure::{dot, sub};
use crate::mesh::Mesh;

/// The holes found, in mm.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Holes {
    /// Closed loops of boundary edges.
    pub count: u64,
    /// Perimeter of the longest loop (0 without holes).
    pub largest_perimeter_mm: f64,
}

/// Chain the boundary edges of `mesh` into loops. Each boundary edge is walked the way its face walks
/// it, so a loop follows the hole's rim. Where rims touch at a vertex the walk may join them or not
/// (the count can differ by the touching points); a chain that does not close (faces wound against
/// each other along the rim) still counts as one hole.
pub fn find(mesh: &Mesh) -> Holes {
    let all: Vec<u32> = (0..mesh.triangles.len() as u32).collect();
    let map = EdgeMap::of(mesh, &all);
    drop(all);
    // Boundary edges as the face walks them, in edge order (so the walk and the perimeter's float sum
    // are fixed), keyed by their start.
    let mut next: rustc_hash::FxHashMap<u32, Vec<u32>> = Default::default();
    let edges: Vec<(u32, u32)> = map
        .runs()
        .filter(|users| users.len() == 1)
        .map(|users| {
            let (lo, hi) = users[0].ends();
            if users[0].forward { (lo, hi) } else { (hi, lo) }
        })
        .collect();
    drop(map);
    for &(a, b) in &edges {
        next.entry(a).or_default().push(b);
    }
    let length = |a: u32, b: u32| {
        let d = sub(mesh.positions[a as usize], mesh.positions[b as usize]);
        dot(d, d).sqrt()
    };
    let mut holes = Holes::default();
    for &(start, _) in &edges {
        let mut perimeter = 0.0;
        let mut at = start;
        let mut walked = false;
        // Each step consumes one edge, so the walk ends within the number of boundary edges.
        while let Some(b) = next.get_mut(&at).and_then(Vec::pop) {
            perimeter += length(at, b);
            walked = true;
            at = b;
            if at == start {
                break;
            }
        }
        if walked {
            holes.count += 1;
            holes.largest_perimeter_mm = holes.largest_perimeter_mm.max(perimeter);
        }
    }
    holes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A unit square grid of `n × n` cells in the z = 0 plane, with the listed cells left out.
    fn grid(n: u32, missing: &[(u32, u32)]) -> Mesh {
        let positions = (0..=n)
            .flat_map(|y| (0..=n).map(move |x| [x as f64, y as f64, 0.0]))
            .collect();
        let id = |x: u32, y: u32| y * (n + 1) + x;
        let triangles = (0..n)
            .flat_map(|y| (0..n).map(move |x| (x, y)))
            .filter(|c| !missing.contains(c))
            .flat_map(|(x, y)| {
                [
                    [id(x, y), id(x + 1, y), id(x + 1, y + 1)],
                    [id(x, y), id(x + 1, y + 1), id(x, y + 1)],
                ]
            })
            .collect();
        Mesh {
            positions,
            triangles,
        }
    }

    #[test]
    fn loops_are_counted_and_measured() {
        // (grid size, missing cells, loops, largest perimeter): the outer rim is a loop too.
        type Case<'a> = (u32, &'a [(u32, u32)], u64, f64);
        let cases: [Case<'_>; 4] = [
            (4, &[], 1, 16.0),
            (4, &[(1, 1)], 2, 16.0),
            (6, &[(1, 1), (4, 4)], 3, 24.0),
            (6, &[(1, 1), (2, 1)], 2, 24.0), // two cells side by side: one hole of perimeter 6
        ];
        for (n, missing, loops, largest) in cases {
            let h = find(&grid(n, missing));
            assert_eq!(h.count, loops, "{missing:?}: {h:?}");
            assert_eq!(h.largest_perimeter_mm, largest, "{missing:?}");
        }
    }

    #[test]
    fn a_closed_surface_has_none() {
        let mut m = grid(1, &[]);
        // Two triangles back to back close each other's edges.
        let back: Vec<[u32; 3]> = m.triangles.iter().map(|t| [t[0], t[2], t[1]]).collect();
        m.triangles.extend(back);
        assert_eq!(find(&m), Holes::default());
    }
}
