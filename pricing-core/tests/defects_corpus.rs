//! The defect corpus (`fixtures/defects/`): real customers' mistakes, each told apart and named, with the
//! answers the corpus's constructions fix. Files are read from the committed corpus, which
//! `fixtures/tests/defects.rs` keeps equal to what the generator writes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pricing_core::pricing::{ReasonCode, Rules, Status};
use pricing_core::thickness::{ThicknessOptions, analyze_thickness};
use pricing_core::{AnalyzeOptions, ModelQuote, QuoteRequest, Units};

fn file(name: &str) -> Vec<u8> {
    std::fs::read(fixtures::defects::defects_dir().join(name)).unwrap()
}

fn quote_with(name: &str, alloys: &[&str], units: Option<Units>) -> ModelQuote {
    let rules = Rules::default_shipped().unwrap();
    let req = QuoteRequest {
        alloys: alloys.iter().map(|a| a.to_string()).collect(),
        channel: pricing_core::pricing::Channel::Website,
        analyze: AnalyzeOptions {
            units,
            ..Default::default()
        },
        thickness: Default::default(),
    };
    pricing_core::quote_model(&file(name), &rules, &req).unwrap()
}

fn quote(name: &str) -> ModelQuote {
    quote_with(name, &["au750"], Some(Units::Mm))
}

fn codes(q: &ModelQuote) -> Vec<ReasonCode> {
    q.alloys[0].reasons.iter().map(|r| r.code).collect()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-12)
}

#[test]
fn a_closed_ring_with_flipped_facets_is_repaired_and_priced() {
    let q = quote("flipped_ring.stl");
    let m = &q.measurements;
    assert_eq!(m.faces_reoriented, fixtures::defects::FLIPPED_FACETS as u64);
    assert!(m.watertight && m.volume_reliable && !m.inverted, "{m:?}");
    // The repaired ring is the committed torus ring, whose closed-form volume is known.
    let (_, known) = fixtures::torus_ring(9.0, 1.2, 48, 24);
    assert!(
        rel(m.volume_mm3, known.volume_mm3) < 1e-6,
        "{} vs {}",
        m.volume_mm3,
        known.volume_mm3
    );
    assert_eq!(q.alloys[0].status, Status::Priced);
    assert_eq!(codes(&q), [ReasonCode::OrientationRepaired]);
    assert!(m.warnings.iter().any(|w| w.code == "orientation_repaired"));
}

#[test]
fn sliver_triangles_along_a_knife_edge_are_not_thin_walls() {
    for name in ["knife_band.stl", "knife_band_slivers.stl"] {
        let q = quote_with(name, &["au750", "ag925"], Some(Units::Mm));
        for a in &q.alloys {
            assert_eq!(a.thin_area_mm2, Some(0.0), "{name} {}", a.alloy);
            assert_eq!(a.status, Status::Priced, "{name}: {:?}", a.reasons);
        }
        assert!(
            q.thickness.as_ref().unwrap().edge_faces > 0,
            "{name}: the ridge is seen as an edge"
        );
    }
}

#[test]
fn a_membrane_and_a_prong_are_thin_walls_with_their_closed_form_areas() {
    use fixtures::defects::{MEMBRANE_THIN_AREA_MM2, PRONG_THIN_AREA_MM2};
    let membrane = quote("membrane.stl");
    let thin = membrane.alloys[0].thin_area_mm2.unwrap();
    assert!(rel(thin, MEMBRANE_THIN_AREA_MM2) < 1e-6, "{thin}");
    assert!(
        codes(&membrane).contains(&ReasonCode::ThinWalls),
        "{:?}",
        codes(&membrane)
    );
    let prong = quote("prong.stl");
    let thin = prong.alloys[0].thin_area_mm2.unwrap();
    assert!(rel(thin, PRONG_THIN_AREA_MM2) < 1e-6, "{thin}");
}

/// Property: splitting faces into slivers, or splitting polygons along other diagonals, moves the thin
/// area by less than 5 % (here: not at all for the closed-form shapes, which is within it).
#[test]
fn thin_area_does_not_depend_on_the_triangulation() {
    let (plate, _) = fixtures::box_([6.0, 6.0, 0.3], [0.0; 3]);
    let (prong, _) = fixtures::hex_prism(0.2, 3.0);
    let (seat, _) = fixtures::ring_with_seat(&Default::default());
    let band = fixtures::defects::knife_band();
    let opts = ThicknessOptions::default();
    for (name, shape) in [
        ("plate", plate),
        ("prong", prong),
        ("ring_with_seat", seat),
        ("knife", band),
    ] {
        let variants = [
            shape.clone(),
            fixtures::defects::with_slivers(&shape),
            fixtures::defects::retriangulated(&shape),
            fixtures::defects::with_slivers(&fixtures::defects::retriangulated(&shape)),
        ];
        let areas: Vec<[f64; 3]> = variants
            .iter()
            .map(|v| {
                let mesh = pricing_core::Mesh {
                    positions: v.positions.clone(),
                    triangles: v.triangles(),
                };
                let r = analyze_thickness(&mesh, &opts).unwrap();
                [0.25, 0.6, 0.8].map(|t| r.thin_area(t))
            })
            .collect();
        for k in 0..3 {
            let base = areas[0][k];
            for a in &areas[1..] {
                let tolerance = 0.05 * base.max(0.01);
                assert!(
                    (a[k] - base).abs() <= tolerance,
                    "{name} limit {k}: {areas:?}"
                );
            }
        }
    }
}

#[test]
fn a_surface_through_itself_is_named_as_such() {
    let q = quote("pierced_sphere.stl");
    let crossings = q.thickness.as_ref().unwrap().self_intersections.unwrap();
    assert!(crossings > 0);
    assert!(
        !q.measurements.volume_reliable,
        "the measurements agree with the reason"
    );
    assert!(
        codes(&q).contains(&ReasonCode::SelfIntersecting),
        "{:?}",
        codes(&q)
    );
    assert!(!codes(&q).contains(&ReasonCode::OverlappingShells));
    // The committed sphere does not cross itself.
    let clean = fixtures::uv_sphere(5.0, 16, 8).0;
    let mesh = pricing_core::Mesh {
        positions: clean.positions.clone(),
        triangles: clean.triangles(),
    };
    let r = analyze_thickness(&mesh, &ThicknessOptions::default()).unwrap();
    assert_eq!(r.self_intersections, Some(0));
}

#[test]
fn millimetres_in_a_gltf_are_suspected_and_the_flask_blocker_names_the_units() {
    let q = quote_with("ring_mm.gltf", &["au750"], None);
    assert_eq!(q.measurements.units, Units::M);
    assert_eq!(q.measurements.units_alternative, Some(Units::Mm));
    let reasons = &q.alloys[0].reasons;
    let too_large = reasons
        .iter()
        .find(|r| r.code == ReasonCode::TooLarge)
        .unwrap();
    assert!(
        too_large.message.contains("units=mm"),
        "{}",
        too_large.message
    );
    assert!(reasons.iter().any(|r| r.code == ReasonCode::UnitsSuspect));
    // With the override the same file prices as the ring it is.
    let fixed = quote_with("ring_mm.gltf", &["au750"], Some(Units::Mm));
    let (_, known) = fixtures::torus_ring(9.0, 1.2, 48, 24);
    assert!(rel(fixed.measurements.volume_mm3, known.volume_mm3) < 1e-6);
    assert_eq!(fixed.alloys[0].status, Status::Priced);
}

#[test]
fn a_bare_cr_ascii_stl_parses_like_the_binary_one() {
    let q = quote("bare_cr.ascii.stl");
    assert_eq!(q.measurements.triangles, 12);
    assert!(rel(q.measurements.volume_mm3, 480.0) < 1e-9);
}

#[test]
fn twisted_quads_are_warned_about_with_their_area_spread() {
    let q = quote("twisted_quads.obj");
    let m = &q.measurements;
    // Only the top: raising a corner straight up keeps the two side faces through it in their planes.
    assert_eq!(m.non_planar_faces, 1);
    // Each twisted quad's spread is the gap between its two diagonal splits, computed here directly.
    let b = fixtures::defects::twisted_box();
    let area = |t: [[f64; 3]; 3]| {
        let u = [0, 1, 2].map(|k| t[1][k] - t[0][k]);
        let v = [0, 1, 2].map(|k| t[2][k] - t[0][k]);
        let n = [
            u[1] * v[2] - u[2] * v[1],
            u[2] * v[0] - u[0] * v[2],
            u[0] * v[1] - u[1] * v[0],
        ];
        0.5 * (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt()
    };
    let spread: f64 = b
        .faces
        .iter()
        .map(|f| {
            f.iter()
                .map(|&i| b.positions[i as usize])
                .collect::<Vec<_>>()
        })
        .map(|p| {
            ((area([p[0], p[1], p[2]]) + area([p[0], p[2], p[3]]))
                - (area([p[1], p[2], p[3]]) + area([p[1], p[3], p[0]])))
            .abs()
        })
        .filter(|&s| s > 1e-9)
        .sum();
    assert!(
        rel(m.non_planar_area_spread_mm2, spread) < 1e-5,
        "{} vs {spread}",
        m.non_planar_area_spread_mm2
    );
    assert!(codes(&q).contains(&ReasonCode::NonPlanarFaces));
}

#[test]
fn open_and_non_manifold_meshes_keep_their_own_causes() {
    // An open box: holes counted, not "repaired".
    let (open, _) = fixtures::open_box([10.0, 8.0, 6.0], [0.0; 3]);
    let mut bytes = Vec::new();
    fixtures::write_stl_binary(&open.to_f32(), &mut bytes).unwrap();
    let rules = Rules::default_shipped().unwrap();
    let req = QuoteRequest {
        alloys: vec!["au750".into()],
        channel: pricing_core::pricing::Channel::Website,
        analyze: AnalyzeOptions {
            units: Some(Units::Mm),
            ..Default::default()
        },
        thickness: Default::default(),
    };
    let q = pricing_core::quote_model(&bytes, &rules, &req).unwrap();
    assert_eq!(q.measurements.holes, 1);
    assert!(
        (q.measurements.largest_hole_perimeter_mm - 36.0).abs() < 1e-4,
        "{}",
        q.measurements.largest_hole_perimeter_mm
    );
    assert_eq!(q.measurements.faces_reoriented, 0);
    assert_eq!(codes(&q)[0], ReasonCode::NotWatertight);
    assert!(
        q.alloys[0].reasons[0].message.contains("1 hole"),
        "{}",
        q.alloys[0].reasons[0].message
    );

    // Two boxes glued along one edge: closed, but that edge has four faces.
    let (a, _) = fixtures::box_([2.0, 2.0, 2.0], [0.0; 3]);
    let (b, _) = fixtures::box_([2.0, 2.0, 2.0], [2.0, 2.0, 0.0]);
    let mut soup = Vec::new();
    fixtures::write_stl_binary(&merge(&a, &b).to_f32(), &mut soup).unwrap();
    let q = pricing_core::quote_model(&soup, &rules, &req).unwrap();
    assert_eq!(q.measurements.boundary_edges, 0);
    assert!(q.measurements.non_manifold_edges > 0);
    let c = codes(&q);
    assert!(
        c.contains(&ReasonCode::NonManifold) && !c.contains(&ReasonCode::NotWatertight),
        "{c:?}"
    );
}

fn merge(a: &fixtures::PolyMesh, b: &fixtures::PolyMesh) -> fixtures::PolyMesh {
    let base = a.positions.len() as u32;
    let mut m = a.clone();
    m.positions.extend(&b.positions);
    m.faces
        .extend(b.faces.iter().map(|f| f.iter().map(|v| v + base).collect()));
    m
}
