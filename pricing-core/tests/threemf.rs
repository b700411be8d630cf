//! 3MF uploads: units, build transforms and components against closed forms; a zip bomb and damaged
//! packages refused with typed errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fixtures::shapes::box_;
use fixtures::write::threemf::{IDENTITY, Object, model_xml, package, package_at, scale_then_move};
use pricing_core::analysis::{self, AnalyzeOptions};
use pricing_core::{Format, Limits, ParseError, Units, UnitsSource, probe};

fn measure(bytes: &[u8]) -> analysis::Analysis {
    let mut loaded = analysis::load(bytes, &AnalyzeOptions::default()).unwrap();
    analysis::measure(&mut loaded)
}

#[test]
fn units_transforms_and_components_give_the_closed_form() {
    let (cube, _) = box_([10.0, 10.0, 10.0], [0.0; 3]);
    let (small, _) = box_([1.0, 1.0, 1.0], [0.0; 3]);
    let (inch, _) = box_([0.5, 0.5, 0.5], [0.0; 3]);
    let mirror = [-1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0];
    // (model, mm³, shells, declared unit, triangles)
    let cases = [
        (
            model_xml("millimeter", &[Object::Mesh(&cube)], &[(1, IDENTITY)]),
            1000.0,
            1,
            Units::Mm,
            12,
        ),
        (
            model_xml("centimeter", &[Object::Mesh(&small)], &[(1, IDENTITY)]),
            1000.0,
            1,
            Units::Cm,
            12,
        ),
        (
            model_xml("inch", &[Object::Mesh(&inch)], &[(1, IDENTITY)]),
            12.7f64.powi(3),
            1,
            Units::In,
            12,
        ),
        // No unit attribute: the specification's default, millimetres.
        (
            model_xml("millimeter", &[Object::Mesh(&cube)], &[(1, IDENTITY)])
                .replace(" unit=\"millimeter\"", ""),
            1000.0,
            1,
            Units::Mm,
            12,
        ),
        // Build transform: twice the size, moved.
        (
            model_xml(
                "millimeter",
                &[Object::Mesh(&cube)],
                &[(1, scale_then_move(2.0, [5.0, 0.0, 0.0]))],
            ),
            8000.0,
            1,
            Units::Mm,
            12,
        ),
        // Two build items of one object.
        (
            model_xml(
                "millimeter",
                &[Object::Mesh(&cube)],
                &[(1, IDENTITY), (1, scale_then_move(1.0, [30.0, 0.0, 0.0]))],
            ),
            2000.0,
            2,
            Units::Mm,
            24,
        ),
        // Components: object 2 holds the cube twice, 20 mm apart; the build doubles object 2.
        (
            model_xml(
                "millimeter",
                &[
                    Object::Mesh(&cube),
                    Object::Components(vec![
                        (1, IDENTITY),
                        (1, scale_then_move(1.0, [20.0, 0.0, 0.0])),
                    ]),
                ],
                &[(2, scale_then_move(2.0, [0.0; 3]))],
            ),
            16000.0,
            2,
            Units::Mm,
            24,
        ),
        // A mirroring transform: the faces are wound back, the volume stays positive.
        (
            model_xml("millimeter", &[Object::Mesh(&cube)], &[(1, mirror)]),
            1000.0,
            1,
            Units::Mm,
            12,
        ),
        // Micron: scaled to millimetres.
        (
            model_xml(
                "micron",
                &[Object::Mesh(&cube)],
                &[(1, scale_then_move(1000.0, [0.0; 3]))],
            ),
            1000.0,
            1,
            Units::Mm,
            12,
        ),
    ];
    for (i, (xml, volume, shells, units, triangles)) in cases.into_iter().enumerate() {
        let bytes = package(&xml).unwrap();
        let p = probe(&bytes, None, &Limits::default()).unwrap();
        assert_eq!(
            (p.format, p.triangles),
            (Format::ThreeMf, triangles),
            "case {i}"
        );
        let a = measure(&bytes);
        assert!(
            (a.volume_mm3 - volume).abs() < 1e-6 * volume,
            "case {i}: {} mm³",
            a.volume_mm3
        );
        assert_eq!(
            (a.shells, a.watertight, a.inverted),
            (shells, true, false),
            "case {i}"
        );
        assert_eq!(
            (a.units, a.units_source),
            (units, UnitsSource::Declared),
            "case {i}"
        );
    }
}

#[test]
fn the_model_part_is_found_through_the_package_relationships() {
    let (cube, _) = box_([10.0, 10.0, 10.0], [0.0; 3]);
    let xml = model_xml("millimeter", &[Object::Mesh(&cube)], &[(1, IDENTITY)]);
    let bytes = package_at("3D/other-name.model", xml.as_bytes()).unwrap();
    assert!((measure(&bytes).volume_mm3 - 1000.0).abs() < 1e-6);
}

#[test]
fn a_zip_bomb_is_refused_before_it_is_inflated_whole() {
    // 64 MiB of spaces after the XML declaration inflate from a few dozen KiB.
    let mut model = b"<?xml version=\"1.0\"?>".to_vec();
    model.resize(64 << 20, b' ');
    let bytes = package_at("3D/3dmodel.model", &model).unwrap();
    assert!(bytes.len() < 1 << 20, "{} bytes", bytes.len());
    let limits = Limits {
        max_unzipped_bytes: 16 << 20,
        ..Limits::default()
    };
    let opts = AnalyzeOptions {
        limits,
        ..Default::default()
    };
    for result in [
        probe(&bytes, None, &limits).map(|_| ()),
        analysis::load(&bytes, &opts).map(|_| ()),
    ] {
        match result {
            Err(ParseError::TooLarge { found, limit }) => {
                assert_eq!(limit, 16 << 20);
                assert!(found > limit);
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }
}

#[test]
fn damaged_packages_are_typed_errors_not_panics() {
    let (cube, _) = box_([10.0, 10.0, 10.0], [0.0; 3]);
    let good = model_xml("millimeter", &[Object::Mesh(&cube)], &[(1, IDENTITY)]);
    let cycle = model_xml(
        "millimeter",
        &[
            Object::Components(vec![(2, IDENTITY)]),
            Object::Components(vec![(1, IDENTITY)]),
        ],
        &[(1, IDENTITY)],
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("zip header only", b"PK\x03\x04garbage".to_vec()),
        (
            "no model part",
            package_at("3D/elsewhere.txt", b"hello").unwrap()[..].to_vec(),
        ),
        (
            "not xml",
            package("<model><resources><object id=\"1\"><mesh><vertices><vertex x=\"1\"").unwrap(),
        ),
        (
            "bad index",
            package(&good.replace(
                "</triangles>",
                "<triangle v1=\"0\" v2=\"1\" v3=\"99\"/></triangles>",
            ))
            .unwrap(),
        ),
        (
            "bad number",
            package(&good.replacen("x=\"0\"", "x=\"zero\"", 1)).unwrap(),
        ),
        (
            "unknown unit",
            package(&good.replace("millimeter", "furlong")).unwrap(),
        ),
        (
            "missing object",
            package(&good.replace("<item objectid=\"1\"", "<item objectid=\"7\"")).unwrap(),
        ),
        (
            "empty build",
            package(&good.replace("<item objectid=\"1\"", "<notitem objectid=\"1\"")).unwrap(),
        ),
        ("component cycle", package(&cycle).unwrap()),
        (
            "bad transform",
            package(&good.replace("transform=\"1 0 0", "transform=\"1 0")).unwrap(),
        ),
    ];
    for (what, bytes) in cases {
        let result = analysis::load(&bytes, &AnalyzeOptions::default());
        let err = result.err().unwrap_or_else(|| panic!("{what}: accepted"));
        assert!(!err.to_string().is_empty(), "{what}");
        assert!(
            probe(&bytes, None, &Limits::default()).is_err(),
            "{what}: probe accepted"
        );
    }
}

#[test]
fn the_triangle_limit_counts_instances() {
    let (cube, _) = box_([1.0, 1.0, 1.0], [0.0; 3]);
    // 100 instances of a 12-triangle cube: 1200 triangles placed, 12 written.
    let items: Vec<(usize, _)> = (0..100)
        .map(|i| (1, scale_then_move(1.0, [2.0 * f64::from(i), 0.0, 0.0])))
        .collect();
    let bytes = package(&model_xml("millimeter", &[Object::Mesh(&cube)], &items)).unwrap();
    let limits = Limits {
        max_triangles: 1000,
        ..Limits::default()
    };
    assert!(matches!(
        probe(&bytes, None, &limits),
        Err(ParseError::TooManyTriangles {
            found: 1008,
            limit: 1000
        })
    ));
}

#[test]
fn required_extensions_that_change_the_geometry_are_refused_by_name() {
    let (cube, _) = box_([10.0, 10.0, 10.0], [0.0; 3]);
    let xml = model_xml("millimeter", &[Object::Mesh(&cube)], &[(1, IDENTITY)]);
    let with = |prefix: &str, ns: &str| {
        xml.replacen(
            "<model ",
            &format!("<model xmlns:{prefix}=\"{ns}\" requiredextensions=\"{prefix}\" "),
            1,
        )
    };
    let materials = with(
        "m",
        "http://schemas.microsoft.com/3dmanufacturing/material/2015/02",
    );
    assert!((measure(&package(&materials).unwrap()).volume_mm3 - 1000.0).abs() < 1e-6);
    let lattice = with(
        "b",
        "http://schemas.microsoft.com/3dmanufacturing/beamlattice/2017/02",
    );
    let err = analysis::load(&package(&lattice).unwrap(), &AnalyzeOptions::default()).unwrap_err();
    assert_eq!(err.code(), "unsupported_extension");
    assert!(err.to_string().contains("beamlattice"), "{err}");
    let production = xml.replace(
        "<item objectid=\"1\"",
        "<item p:path=\"/3D/other.model\" objectid=\"1\"",
    );
    let err =
        analysis::load(&package(&production).unwrap(), &AnalyzeOptions::default()).unwrap_err();
    assert_eq!(err.code(), "unsupported_extension");
}

mod damaged_at_random {
    use super::*;
    use proptest::prelude::*;

    fn cube_xml() -> String {
        let (cube, _) = box_([10.0, 10.0, 10.0], [0.0; 3]);
        model_xml(
            "millimeter",
            &[
                Object::Mesh(&cube),
                Object::Components(vec![(1, scale_then_move(2.0, [1.0, 2.0, 3.0]))]),
            ],
            &[(1, IDENTITY), (2, IDENTITY)],
        )
    }

    /// Whatever happens to the bytes, probe and load answer with a mesh or a typed error.
    fn answers(bytes: &[u8]) {
        let limits = Limits {
            max_unzipped_bytes: 1 << 20,
            max_triangles: 10_000,
            ..Limits::default()
        };
        let _ = probe(bytes, None, &limits);
        let opts = AnalyzeOptions {
            limits,
            ..Default::default()
        };
        if let Ok(mut loaded) = analysis::load(bytes, &opts) {
            let _ = analysis::measure(&mut loaded);
        }
    }

    /// 256 cases in the suite; `PROPTEST_CASES` raises it for a longer run.
    fn cases() -> u32 {
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases()))]

        /// Bytes of the model part changed before packaging: the XML reader sees every kind of damage.
        #[test]
        fn a_damaged_model_part_never_panics(
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
        ) {
            let mut xml = cube_xml().into_bytes();
            for (at, byte) in edits {
                let i = at.index(xml.len());
                xml[i] = byte;
            }
            answers(&package_at("3D/3dmodel.model", &xml).unwrap());
        }

        /// Bytes of the package itself changed or cut: the zip reader's damage.
        #[test]
        fn a_damaged_package_never_panics(
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut bytes = package(&cube_xml()).unwrap();
            for (at, byte) in edits {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            bytes.truncate(cut.index(bytes.len()) + 1);
            answers(&bytes);
        }
    }
}
