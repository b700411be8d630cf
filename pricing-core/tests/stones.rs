//! Stones in the metal: found by shape or by name, kept out of the metal volume, listed in the gem
//! table with closed-form sizes and carats, charged setting labour; bodies that are not gems stay metal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common_fixture;

use std::fmt::Write as _;

use fixtures::shapes::gem::{BandWithStones, PAVILION, band_with_stones, round_brilliant};
use fixtures::shapes::ring_seat::RingWithSeat;
use fixtures::shapes::{ring_with_seat, torus_ring, uv_sphere};
use fixtures::{Format, PolyMesh};
use pricing_core::analysis::{AnalyzeOptions, Loaded};
use pricing_core::pricing::{Channel, LineKind, ReasonCode, Rules};
use pricing_core::stones::{Cut, FoundBy, Seat};
use pricing_core::thickness::ThicknessOptions;
use pricing_core::{ModelQuote, QuoteRequest, quote_loaded, quote_model};
use proptest::prelude::*;

use common_fixture::{mesh_of, write};

fn request() -> QuoteRequest {
    QuoteRequest {
        alloys: vec!["au750".into()],
        channel: Channel::Website,
        // Each format's own unit (glTF metres, 3MF's attribute) or the inferred mm of the others.
        analyze: AnalyzeOptions::default(),
        thickness: ThicknessOptions::default(),
    }
}

fn quote_mesh(poly: &PolyMesh) -> ModelQuote {
    let rules = Rules::default_shipped().unwrap();
    let mut loaded = Loaded::from_mesh(mesh_of(poly));
    quote_loaded(&mut loaded, &rules, &request(), None).unwrap()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs())
}

#[test]
fn a_band_with_seated_brilliants_lists_each_stone_in_every_format() {
    let rules = Rules::default_shipped().unwrap();
    let spec = BandWithStones::default();
    let (poly, known) = band_with_stones(&spec);
    let band_volume = known.shell_signed_volumes_mm3[0];
    for format in Format::ALL {
        let bytes = write(format, &poly.to_f32());
        let q = quote_model(&bytes, &rules, &request()).unwrap();
        let m = &q.measurements;
        let ctx = format!("{format:?}");
        assert_eq!(m.stones.len(), known.stones.len(), "{ctx}");
        assert!(
            close(m.metal_volume_mm3, band_volume, 1e-5),
            "{ctx}: metal {} vs band {band_volume}",
            m.metal_volume_mm3
        );
        assert_eq!(m.metal_shells, 1, "{ctx}");
        assert!(
            m.volume_reliable,
            "{ctx}: stones set in the metal are by design"
        );
        let gems = q.gems.as_ref().expect("a gem table");
        assert_eq!(gems.count, known.stones.len(), "{ctx}");
        // The table lists the largest first; match rows to the known stones by position.
        for k in &known.stones {
            let row = gems
                .stones
                .iter()
                .find(|r| {
                    (0..3).all(|i| (r.centre_mm[i] - k.centre_mm[i]).abs() < 1e-3 * k.diameter_mm)
                })
                .unwrap_or_else(|| panic!("{ctx}: no row at {:?}", k.centre_mm));
            assert_eq!(row.cut, Cut::Round, "{ctx}: {row:?}");
            assert_eq!(row.found_by, FoundBy::Shape, "{ctx}");
            assert_eq!(row.seat, Seat::Overlapping, "{ctx}");
            // A 16-gon's width lies between its flat-to-flat and vertex-to-vertex diameters.
            let d = row.diameter_mm.unwrap();
            let flat = k.diameter_mm * (std::f64::consts::PI / 16.0).cos();
            assert!(
                d >= flat * (1.0 - 1e-5) && d <= k.diameter_mm * (1.0 + 1e-5),
                "{ctx}: {d} vs {}",
                k.diameter_mm
            );
            assert!(close(row.depth_mm, k.depth_mm, 1e-5), "{ctx}: {row:?}");
            let ct = row.carat_if_diamond.unwrap();
            assert!(
                (ct - k.carat_if_diamond).abs() <= 0.005 + 1e-9,
                "{ctx}: {ct} vs {}",
                k.carat_if_diamond
            );
        }
        // Setting: 2.0 and 2.2 and 2.5 mm stones are all in the "≤ 3 mm" tier (6.00 each).
        assert_eq!(gems.setting_total.to_string(), "30.00", "{ctx}");
        let alloy = &q.alloys[0];
        let setting = alloy
            .lines
            .iter()
            .find(|l| l.kind == LineKind::StoneSetting)
            .expect("a setting line");
        assert_eq!(setting.amount.to_string(), "30.00", "{ctx}");
        assert!(
            !alloy
                .reasons
                .iter()
                .any(|r| r.code == ReasonCode::OverlappingShells),
            "{ctx}: {:?}",
            alloy.reasons
        );
        // The band is still a ring: its bore is read on the metal alone.
        let ring = q.ring.as_ref().expect("a ring size");
        assert!(
            close(ring.inner_diameter_mm, 2.0 * spec.inner_radius, 0.01),
            "{ctx}: {ring:?}"
        );
    }
}

#[test]
fn a_stone_in_a_bezel_is_in_its_seat_and_no_wall_of_the_bezel() {
    let p = RingWithSeat::default();
    let (ring, _) = ring_with_seat(&p);
    // The bezel stands on the top face at y0; its opening's inradius is 1.75 mm. A 3.3 mm brilliant
    // sits with its culet above the seat floor and its table below the rim, touching nothing.
    let ro = p.inner_radius + p.shank_thickness;
    let y0 = ro * (p.top_sector_deg.to_radians() / 2.0).cos();
    let d = 3.3;
    let (stone, k) = round_brilliant(d, 16, [0.0, y0 + PAVILION * d + 0.15, 0.0], [0.0, 1.0, 0.0]);
    let mut set = ring.clone();
    set.append(&stone);

    let bare = quote_mesh(&ring);
    let with = quote_mesh(&set);
    let gems = with.gems.as_ref().expect("a gem table");
    assert_eq!(gems.count, 1);
    let row = &gems.stones[0];
    assert_eq!((row.cut, row.seat), (Cut::Round, Seat::InSeat), "{row:?}");
    assert!(close(row.depth_mm, k.depth_mm, 1e-9));
    // The bezel's thin walls are measured on the metal: the stone inside changes nothing.
    assert_eq!(
        with.thickness.as_ref().unwrap().thin_area_mm2,
        bare.thickness.as_ref().unwrap().thin_area_mm2
    );
    assert_eq!(
        with.alloys[0].weights.as_ref().unwrap().designed,
        bare.alloys[0].weights.as_ref().unwrap().designed
    );
}

/// An OBJ with one named object per mesh.
fn named_obj(parts: &[(&str, &PolyMesh)]) -> Vec<u8> {
    let mut text = String::new();
    let mut base = 1;
    for (name, mesh) in parts {
        let _ = writeln!(text, "o {name}");
        for p in &mesh.positions {
            let _ = writeln!(text, "v {} {} {}", p[0], p[1], p[2]);
        }
        for f in &mesh.faces {
            let corners: Vec<String> = f.iter().map(|i| (i + base).to_string()).collect();
            let _ = writeln!(text, "f {}", corners.join(" "));
        }
        base += mesh.positions.len() as u32;
    }
    text.into_bytes()
}

/// A ball set on the top of a torus ring, overlapping it.
fn ring_and_ball() -> (PolyMesh, PolyMesh) {
    let (ring, _) = torus_ring(9.0, 1.2, 48, 24);
    let (mut ball, _) = uv_sphere(1.5, 24, 12);
    for p in &mut ball.positions {
        p[1] += 10.2 + 1.0;
    }
    (ring, ball)
}

#[test]
fn a_ball_is_a_stone_only_when_the_file_names_it_one() {
    let rules = Rules::default_shipped().unwrap();
    let (ring, ball) = ring_and_ball();
    let named = named_obj(&[("Shank", &ring), ("Ruby_cabochon", &ball)]);
    let q = quote_model(&named, &rules, &request()).unwrap();
    let gems = q.gems.as_ref().expect("named stone");
    assert_eq!(gems.count, 1);
    let row = &gems.stones[0];
    assert_eq!(row.found_by, FoundBy::Name);
    assert_eq!(row.name.as_deref(), Some("Ruby_cabochon"));
    // A ball has no table: its box gives the sizes and no carat is estimated.
    assert_eq!((row.cut, row.carat_if_diamond), (Cut::Other, None));
    assert!(close(row.length_mm, 3.0, 1e-6), "{row:?}");

    let plain = named_obj(&[("Shank", &ring), ("Bead", &ball)]);
    let q = quote_model(&plain, &rules, &request()).unwrap();
    assert!(q.gems.is_none(), "a metal bead is metal");
    assert_eq!(q.measurements.metal_shells, 2);
    assert!(
        q.alloys[0]
            .reasons
            .iter()
            .any(|r| r.code == ReasonCode::OverlappingShells),
        "two metal bodies meeting are still reported"
    );
}

#[test]
fn boxes_and_separate_pieces_are_never_stones() {
    let rules = Rules::default_shipped().unwrap();
    let (boxes, _) = fixtures::shapes::overlapping_boxes(
        [10.0, 6.0, 4.0],
        [0.0; 3],
        [8.0, 7.0, 4.0],
        [4.0, 2.0, 1.0],
    );
    let q = quote_mesh(&boxes);
    assert!(q.gems.is_none());
    // A brilliant far from the ring is a loose stone, not a set one: it stays a body of the model.
    let (ring, _) = torus_ring(9.0, 1.2, 48, 24);
    let (stone, _) = round_brilliant(2.0, 16, [40.0, 0.0, 0.0], [0.0, 0.0, 1.0]);
    let mut apart = ring.clone();
    apart.append(&stone);
    let q = quote_model(&write(Format::Stl, &apart), &rules, &request()).unwrap();
    assert!(q.gems.is_none(), "{:?}", q.gems);
}

fn band(diameters: Vec<f64>) -> PolyMesh {
    band_with_stones(&BandWithStones {
        diameters,
        ..BandWithStones::default()
    })
    .0
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(24)
    ))]

    /// Adding a stone adds a row to the gem table and leaves the metal weight exactly as it was.
    #[test]
    fn adding_a_stone_changes_the_gem_table_not_the_metal(
        diameters in prop::collection::vec(1.2f64..2.5, 0..5),
        extra in 1.2f64..2.5,
    ) {
        let before = quote_mesh(&band(diameters.clone()));
        let mut more = diameters.clone();
        more.push(extra);
        let after = quote_mesh(&band(more));
        let count = |q: &ModelQuote| q.gems.as_ref().map_or(0, |g| g.count);
        prop_assert_eq!(count(&before), diameters.len());
        prop_assert_eq!(count(&after), diameters.len() + 1);
        let designed = |q: &ModelQuote| q.alloys[0].weights.as_ref().unwrap().designed.grams;
        prop_assert_eq!(designed(&before), designed(&after));
        prop_assert!(close(
            before.measurements.metal_volume_mm3,
            after.measurements.metal_volume_mm3,
            1e-9
        ));
        let extra_ct = after.gems.as_ref().unwrap().total_carat_if_diamond
            - before.gems.as_ref().map_or(0.0, |g| g.total_carat_if_diamond);
        prop_assert!(extra_ct > 0.0);
    }
}

#[test]
fn a_3mf_object_named_as_a_gem_is_a_stone() {
    use fixtures::write::threemf::{IDENTITY, Object, model_xml, package};
    let rules = Rules::default_shipped().unwrap();
    let (ring, ball) = ring_and_ball();
    let xml = model_xml(
        "millimeter",
        &[Object::Mesh(&ring), Object::Mesh(&ball)],
        &[(1, IDENTITY), (2, IDENTITY)],
    )
    .replacen(
        "<object id=\"2\"",
        "<object id=\"2\" name=\"Sapphire &amp; co\"",
        1,
    );
    let q = quote_model(&package(&xml).unwrap(), &rules, &request()).unwrap();
    let row = &q.gems.as_ref().expect("a named stone").stones[0];
    assert_eq!(row.name.as_deref(), Some("Sapphire & co"));
    assert_eq!(row.found_by, FoundBy::Name);
}

/// A glTF with one node per mesh, each node, mesh and material named as given (metres, so the
/// millimetre meshes are scaled by 1/1000).
fn named_gltf(parts: &[(&str, &str, &PolyMesh)]) -> Vec<u8> {
    use base64::Engine as _;
    let mut bin: Vec<u8> = Vec::new();
    let (mut views, mut accessors, mut meshes, mut nodes, mut materials) =
        (vec![], vec![], vec![], vec![], vec![]);
    for (i, (node, material, mesh)) in parts.iter().enumerate() {
        let start = bin.len();
        let (mut lo, mut hi) = ([f32::MAX; 3], [f32::MIN; 3]);
        for p in &mesh.positions {
            for k in 0..3 {
                let x = (p[k] / 1000.0) as f32;
                lo[k] = lo[k].min(x);
                hi[k] = hi[k].max(x);
                bin.extend_from_slice(&x.to_le_bytes());
            }
        }
        let index_start = bin.len();
        let triangles = mesh.triangles();
        for t in &triangles {
            for v in t {
                bin.extend_from_slice(&v.to_le_bytes());
            }
        }
        views.push(serde_json::json!({"buffer": 0, "byteOffset": start, "byteLength": index_start - start}));
        views.push(serde_json::json!({"buffer": 0, "byteOffset": index_start, "byteLength": bin.len() - index_start}));
        accessors.push(serde_json::json!({"bufferView": 2 * i, "componentType": 5126, "count": mesh.positions.len(), "type": "VEC3", "min": lo, "max": hi}));
        accessors.push(serde_json::json!({"bufferView": 2 * i + 1, "componentType": 5125, "count": 3 * triangles.len(), "type": "SCALAR"}));
        materials.push(serde_json::json!({"name": material}));
        meshes.push(serde_json::json!({"name": format!("mesh{i}"), "primitives": [{"attributes": {"POSITION": 2 * i}, "indices": 2 * i + 1, "material": i}]}));
        nodes.push(serde_json::json!({"name": node, "mesh": i}));
    }
    let uri = format!(
        "data:application/octet-stream;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&bin)
    );
    let doc = serde_json::json!({
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": (0..parts.len()).collect::<Vec<_>>()}],
        "nodes": nodes, "meshes": meshes, "materials": materials,
        "accessors": accessors, "bufferViews": views,
        "buffers": [{"byteLength": bin.len(), "uri": uri}],
    });
    serde_json::to_vec(&doc).unwrap()
}

#[test]
fn a_gltf_node_or_material_named_as_a_gem_is_a_stone() {
    let rules = Rules::default_shipped().unwrap();
    let (ring, ball) = ring_and_ball();
    for (node, material) in [("Gem.001", "glass"), ("Setting_top", "Diamond")] {
        let bytes = named_gltf(&[("Shank", "gold", &ring), (node, material, &ball)]);
        let q = quote_model(&bytes, &rules, &request()).unwrap();
        let row = &q.gems.as_ref().expect("a named stone").stones[0];
        assert_eq!(row.found_by, FoundBy::Name);
        assert!(row.name.as_deref().unwrap().contains(node), "{row:?}");
    }
    let bytes = named_gltf(&[("Shank", "gold", &ring), ("Bead", "gold", &ball)]);
    assert!(
        quote_model(&bytes, &rules, &request())
            .unwrap()
            .gems
            .is_none()
    );
}
