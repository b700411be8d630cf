//! Polygon triangulation for OBJ faces: ear clipping in the polygon's own plane, so concave n-gons are
//! split correctly (a fan would cover area outside a concave polygon and change the volume).

/// Triangulate a simple polygon given by its corner positions; returns index triples into `corners`,
/// keeping the polygon's winding. Degenerate or self-intersecting input still yields `n - 2` triangles
/// (falling back to a fan for what ear clipping cannot resolve), so no area silently disappears.
pub fn triangulate(corners: &[[f64; 3]]) -> Vec<[usize; 3]> {
    let n = corners.len();
    if n < 3 {
        return Vec::new();
    }
    if n == 3 {
        return vec![[0, 1, 2]];
    }
    let normal = newell_normal(corners);
    // Drop the axis the normal is most aligned with, and keep orientation so "convex" means "turns left".
    let (u, v, flip) = projection_axes(normal);
    let pts: Vec<[f64; 2]> = corners.iter().map(|p| [p[u], p[v]]).collect();
    let sign = if flip { -1.0 } else { 1.0 };

    let mut remaining: Vec<usize> = (0..n).collect();
    let mut out = Vec::with_capacity(n - 2);
    let mut guard = 0usize;
    while remaining.len() > 3 && guard < n * n {
        guard += 1;
        let m = remaining.len();
        let ear = (0..m).find(|&i| {
            let (a, b, c) = (
                remaining[(i + m - 1) % m],
                remaining[i],
                remaining[(i + 1) % m],
            );
            let turn = sign * cross(pts[a], pts[b], pts[c]);
            turn > 0.0
                && remaining
                    .iter()
                    .filter(|&&p| p != a && p != b && p != c)
                    .all(|&p| !inside_or_on(pts[p], pts[a], pts[b], pts[c], sign))
        });
        let i = ear.unwrap_or(0);
        let (a, b, c) = (
            remaining[(i + m - 1) % m],
            remaining[i],
            remaining[(i + 1) % m],
        );
        out.push([a, b, c]);
        remaining.remove(i);
    }
    if remaining.len() == 3 {
        out.push([remaining[0], remaining[1], remaining[2]]);
    }
    out
}

/// How far a polygon's surface area depends on the triangles chosen for it: an n-gon that is not flat
/// has no single area, and a fan and ear clipping can differ by a tenth (a twisted quad).
///
/// `chosen` is the triangulation used. The spread is the gap between the largest and the smallest area
/// a triangulation could give: for a quad, the two diagonals; for more corners, the chosen area against
/// the flat (projected) area, which no triangulation undercuts. Zero for a flat polygon, up to rounding.
pub fn area_spread(corners: &[[f64; 3]], chosen: &[[usize; 3]]) -> f64 {
    use crate::measure::{cross, dot, sub};
    let tri_area = |[a, b, c]: [usize; 3]| {
        let n = cross(sub(corners[b], corners[a]), sub(corners[c], corners[a]));
        0.5 * dot(n, n).sqrt()
    };
    if corners.len() == 4 {
        let d02 = tri_area([0, 1, 2]) + tri_area([0, 2, 3]);
        let d13 = tri_area([1, 2, 3]) + tri_area([1, 3, 0]);
        return (d02 - d13).abs();
    }
    let used: f64 = chosen.iter().map(|&t| tri_area(t)).sum();
    let n = newell_normal(corners);
    (used - 0.5 * dot(n, n).sqrt()).max(0.0)
}

fn newell_normal(p: &[[f64; 3]]) -> [f64; 3] {
    let mut n = [0.0; 3];
    for i in 0..p.len() {
        let (a, b) = (p[i], p[(i + 1) % p.len()]);
        n[0] += (a[1] - b[1]) * (a[2] + b[2]);
        n[1] += (a[2] - b[2]) * (a[0] + b[0]);
        n[2] += (a[0] - b[0]) * (a[1] + b[1]);
    }
    n
}

fn projection_axes(n: [f64; 3]) -> (usize, usize, bool) {
    let a = n.map(f64::abs);
    if a[2] >= a[0] && a[2] >= a[1] {
        (0, 1, n[2] < 0.0)
    } else if a[0] >= a[1] {
        (1, 2, n[0] < 0.0)
    } else {
        (2, 0, n[1] < 0.0)
    }
}

fn cross(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

fn inside_or_on(p: [f64; 2], a: [f64; 2], b: [f64; 2], c: [f64; 2], sign: f64) -> bool {
    sign * cross(a, b, p) >= 0.0 && sign * cross(b, c, p) >= 0.0 && sign * cross(c, a, p) >= 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(corners: &[[f64; 3]], tris: &[[usize; 3]]) -> f64 {
        tris.iter()
            .map(|t| {
                let [a, b, c] = t.map(|i| corners[i]);
                0.5 * ((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))
            })
            .sum()
    }

    #[test]
    fn concave_l_shape_keeps_its_area_and_winding() {
        // An L: 2x2 square minus its top-right 1x1 corner; area 3, counter-clockwise.
        let l = [
            [0., 0., 0.],
            [2., 0., 0.],
            [2., 1., 0.],
            [1., 1., 0.],
            [1., 2., 0.],
            [0., 2., 0.],
        ];
        let tris = triangulate(&l);
        assert_eq!(tris.len(), 4);
        assert!((area(&l, &tris) - 3.0).abs() < 1e-12);
        let mut clockwise = l;
        clockwise.reverse();
        let tris = triangulate(&clockwise);
        assert!((area(&clockwise, &tris) + 3.0).abs() < 1e-12);
    }

    #[test]
    fn area_spread_is_zero_when_flat_and_the_diagonals_gap_when_twisted() {
        let flat = [[0., 0., 0.], [2., 0., 0.], [2., 1., 0.], [0., 1., 0.]];
        assert!(area_spread(&flat, &triangulate(&flat)) < 1e-12);
        let hexagon: Vec<[f64; 3]> = (0..6)
            .map(|k| {
                let a = k as f64 * std::f64::consts::PI / 3.0;
                [a.cos(), a.sin(), 0.0]
            })
            .collect();
        assert!(area_spread(&hexagon, &triangulate(&hexagon)) < 1e-12);
        // A unit square with one corner lifted: the two diagonals give different surfaces.
        let twisted = [[0., 0., 0.], [1., 0., 0.], [1., 1., 1.], [0., 1., 0.]];
        let spread = area_spread(&twisted, &triangulate(&twisted));
        let area = |t: [[f64; 3]; 3]| {
            let u = [t[1][0] - t[0][0], t[1][1] - t[0][1], t[1][2] - t[0][2]];
            let v = [t[2][0] - t[0][0], t[2][1] - t[0][1], t[2][2] - t[0][2]];
            let n = [
                u[1] * v[2] - u[2] * v[1],
                u[2] * v[0] - u[0] * v[2],
                u[0] * v[1] - u[1] * v[0],
            ];
            0.5 * (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt()
        };
        let [a, b, c, d] = twisted;
        let expected =
            ((area([a, b, c]) + area([a, c, d])) - (area([b, c, d]) + area([b, d, a]))).abs();
        assert!(
            expected > 0.04,
            "the fixture is twisted enough to matter: {expected}"
        );
        assert!((spread - expected).abs() < 1e-12, "{spread} vs {expected}");
    }

    #[test]
    fn concave_quad_uses_the_inner_diagonal() {
        // A dart: the fan from corner 0 would cover area outside the polygon.
        let q = [[0., 0., 0.], [2., 1., 0.], [0., 2., 0.], [1., 1., 0.]];
        let tris = triangulate(&q);
        assert!((area(&q, &tris) - 1.0).abs() < 1e-12, "{tris:?}");
    }
}
