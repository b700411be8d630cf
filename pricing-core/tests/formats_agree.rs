//! The same mesh in every upload format measures the same.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common_fixture;

use common_fixture::{analyze_bytes, measure_mesh, mesh_of, rel, write};
use pricing_core::{Format, UnitsSource};

fn expected_format(f: fixtures::Format) -> Format {
    match f {
        fixtures::Format::Stl | fixtures::Format::SolidheaderStl => Format::StlBinary,
        fixtures::Format::AsciiStl => Format::StlAscii,
        fixtures::Format::Obj => Format::Obj,
        fixtures::Format::Gltf => Format::Gltf,
        fixtures::Format::Glb => Format::Glb,
        fixtures::Format::ThreeMf => Format::ThreeMf,
    }
}

#[test]
fn every_format_gives_the_same_measurements() {
    for fx in fixtures::committed() {
        let reference = measure_mesh(mesh_of(&fx.mesh));
        for format in fixtures::Format::ALL {
            let a = analyze_bytes(&write(format, &fx.mesh));
            let ctx = format!("{} as {format:?}", fx.name);
            assert_eq!(a.format, expected_format(format), "{ctx}");
            // glTF stores metres in f32, so its coordinates differ from the mm ones by f32 rounding.
            let tol = if matches!(format, fixtures::Format::Gltf | fixtures::Format::Glb) {
                1e-6
            } else {
                1e-9
            };
            assert!(
                rel(a.volume_mm3, reference.volume_mm3) < tol,
                "{ctx}: volume {} vs {}",
                a.volume_mm3,
                reference.volume_mm3
            );
            assert!(
                rel(a.area_mm2, reference.area_mm2) < tol,
                "{ctx}: area {} vs {}",
                a.area_mm2,
                reference.area_mm2
            );
            assert_eq!(a.triangles, reference.triangles, "{ctx}: triangles");
            assert_eq!(a.vertices, reference.vertices, "{ctx}: vertices");
            assert_eq!(a.shells, reference.shells, "{ctx}: shells");
            assert_eq!(a.watertight, reference.watertight, "{ctx}: watertight");
            assert_eq!(
                a.boundary_edges, reference.boundary_edges,
                "{ctx}: boundary edges"
            );
            assert_eq!(a.inverted, reference.inverted, "{ctx}: inverted");
            assert_eq!(a.cavities, reference.cavities, "{ctx}: cavities");
            let declared = matches!(
                format,
                fixtures::Format::Gltf | fixtures::Format::Glb | fixtures::Format::ThreeMf
            );
            assert_eq!(
                a.units_source == UnitsSource::Declared,
                declared,
                "{ctx}: units source"
            );
        }
    }
}

#[test]
fn binary_stl_volume_agrees_with_stl_io() {
    // Cross-check against an independent parser: stl_io reads the same file, we sum its triangles naively.
    let fx = fixtures::committed()
        .into_iter()
        .find(|f| f.name == "torus_ring")
        .expect("torus fixture");
    let bytes = write(fixtures::Format::Stl, &fx.mesh);
    let ours = analyze_bytes(&bytes);
    let theirs = stl_io::read_stl(&mut std::io::Cursor::new(&bytes)).expect("stl_io parses it");
    let volume: f64 = theirs
        .faces
        .iter()
        .map(|f| {
            let [a, b, c] = f.vertices.map(|i| theirs.vertices[i].0.map(f64::from));
            (a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
                + a[2] * (b[0] * c[1] - b[1] * c[0]))
                / 6.0
        })
        .sum();
    assert!(
        rel(ours.volume_mm3, volume) < 1e-9,
        "{} vs {volume}",
        ours.volume_mm3
    );
    assert_eq!(ours.vertices as usize, theirs.vertices.len());
}

#[test]
fn units_are_inferred_declared_or_overridden() {
    let fx = fixtures::committed()
        .into_iter()
        .find(|f| f.name == "torus_ring")
        .expect("torus fixture");
    let stl = write(fixtures::Format::Stl, &fx.mesh);
    let a = analyze_bytes(&stl);
    assert_eq!(
        (a.units, a.units_source),
        (pricing_core::Units::Mm, UnitsSource::Inferred)
    );
    let opts = pricing_core::AnalyzeOptions {
        units: Some(pricing_core::Units::Cm),
        ..Default::default()
    };
    let cm = pricing_core::analyze(&stl, &opts).unwrap().0;
    assert!(rel(cm.volume_mm3, a.volume_mm3 * 1000.0) < 1e-12);
    assert_eq!(cm.units_source, UnitsSource::Override);
}
