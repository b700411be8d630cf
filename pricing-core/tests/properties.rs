//! Properties: volume is invariant under rigid motions; welding is idempotent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common_fixture;

use common_fixture::{measure_mesh, mesh_of, rel};
use pricing_core::Mesh;
use pricing_core::weld::{WeldMode, reweld};
use proptest::prelude::*;

fn rotate(p: [f64; 3], (a, b, c): (f64, f64, f64)) -> [f64; 3] {
    let (sa, ca, sb, cb, sc, cc) = (a.sin(), a.cos(), b.sin(), b.cos(), c.sin(), c.cos());
    let [x, y, z] = p;
    let (y, z) = (ca * y - sa * z, sa * y + ca * z);
    let (x, z) = (cb * x + sb * z, -sb * x + cb * z);
    let (x, y) = (cc * x - sc * y, sc * x + cc * y);
    [x, y, z]
}

fn transformed(mesh: &Mesh, angles: (f64, f64, f64), shift: [f64; 3]) -> Mesh {
    Mesh {
        positions: mesh
            .positions
            .iter()
            .map(|&p| {
                let r = rotate(p, angles);
                [r[0] + shift[0], r[1] + shift[1], r[2] + shift[2]]
            })
            .collect(),
        triangles: mesh.triangles.clone(),
    }
}

fn shapes() -> Vec<Mesh> {
    vec![
        mesh_of(&fixtures::torus_ring(9.0, 1.2, 24, 12).0),
        mesh_of(&fixtures::box_with_cavity([10.0, 8.0, 6.0], [6.0, 4.0, 2.0]).0),
        mesh_of(&fixtures::l_prism(8.0, 6.0, 2.5, 3.0).0),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn volume_and_area_survive_rotation_and_translation(
        shape in 0usize..3,
        a in -3.2f64..3.2, b in -3.2f64..3.2, c in -3.2f64..3.2,
        dx in -1e5f64..1e5, dy in -1e5f64..1e5, dz in -1e5f64..1e5,
    ) {
        let mesh = shapes().swap_remove(shape);
        let before = measure_mesh(mesh.clone());
        let after = measure_mesh(transformed(&mesh, (a, b, c), [dx, dy, dz]));
        prop_assert!(rel(before.volume_mm3, after.volume_mm3) < 1e-9, "{} vs {}", before.volume_mm3, after.volume_mm3);
        prop_assert!(rel(before.area_mm2, after.area_mm2) < 1e-9);
        prop_assert_eq!(before.shells, after.shells);
        prop_assert_eq!(before.watertight, after.watertight);
    }

    #[test]
    fn welding_is_idempotent(shape in 0usize..3, tolerance in prop::option::of(1e-4f64..1e-2)) {
        let mode = tolerance.map_or(WeldMode::Exact, WeldMode::Tolerance);
        let mesh = shapes().swap_remove(shape);
        let (once, _) = reweld(&mesh, mode);
        let (twice, stats) = reweld(&once, mode);
        prop_assert_eq!(&once, &twice);
        prop_assert_eq!(stats.degenerate_dropped, 0);
    }
}
